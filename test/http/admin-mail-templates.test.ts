/**
 * Admin → Email templates: the list, editing with safe placeholders, preview, reset, the audit, who may
 * do it — and the customised mail as delivered over SMTP, the per-process cache and its statements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent, submit, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment } from '../factories/index.ts';
import { header, startSmtpSink, type ReceivedMail, type SmtpSink } from '../mail/mail-support.ts';
import { deliverOutbox } from '../../src/mail/outbox-worker.ts';
import { createSmtpTransport } from '../../src/mail/mail-transport.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { queueMail } from '../../src/domain/mail/outbox-service.ts';
import { resetMailTemplate, saveMailTemplate } from '../../src/domain/mail/mail-template-service.ts';
import { getSettings, writeSettings } from '../../src/domain/settings/settings-service.ts';
import { MAIL_TEMPLATES } from '../../src/mail/mail-template-catalog.ts';
import type { AgentActor } from '../../src/domain/actor.ts';

const BASE = '/scp/admin/mail-templates';
const AUTORESPONSE = {
  subject: 'We got it [#{{ticket.number}}]: {{ticket.subject}}',
  body: 'Hi {{recipient.name}},\n\nThanks for writing to {{helpdesk.name}} about "{{ticket.subject}}".\nFollow it here: {{ticket.url}}\n\nYou wrote:\n{{message}}\n\nThe Acme support team',
};

let t: TestApp;
let sink: SmtpSink;
let admin: Client;
let adminActor: AgentActor;
let agent: Client;
let agentActor: AgentActor;
let dept: number;

let seen = 0;
/** Delivers the outbox to the SMTP sink; returns what arrived since the last call. */
async function deliver(): Promise<ReceivedMail[]> {
  const transport = createSmtpTransport(sink.url);
  await deliverOutbox({ db: t.db, clock: t.clock, transport, from: 'helpdesk@helpdesk.test' }).finally(() => transport.close());
  const out = sink.received.slice(seen);
  seen = sink.received.length;
  return out;
}
const row = (name: string) => t.db('mail_templates').where({ name }).first('subject', 'body');
const save = (name: string, data: Record<string, string>) => submit(admin, `${BASE}/${name}`, `${BASE}/${name}`, data);
/** SQL statements `fn` runs on the test database. */
async function statements(db: Knex, fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const count = () => void n++;
  db.on('query', count);
  try {
    await fn();
  } finally {
    db.off('query', count);
  }
  return n;
}

beforeAll(async () => {
  t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  sink = await startSmtpSink();
  await writeSettings(t.db, { helpdesk_name: 'Acme Help', inbound_address: 'support@helpdesk.test' }, t.clock());
  dept = await buildDepartment(t.db, { email_address: 'it@helpdesk.test', email_name: 'IT' });
  const a = await buildAdmin(t.db, { department_id: dept });
  adminActor = a.actor;
  admin = await loginAsAgent(t.app, a.username, a.password);
  const g = await buildAgent(t.db, { department_id: dept });
  agentActor = g.actor;
  agent = await loginAsAgent(t.app, g.username, g.password);
});
afterAll(async () => {
  await sink.close();
  await t.close();
});

describe('the list and the edit page', () => {
  it('lists every notification with when it is sent and to whom, all built-in at first', async () => {
    const res = await admin.get(BASE);
    expect(res.status).toBe(200);
    const page = $(res.text);
    const rows = page('tbody tr');
    expect(rows.length).toBe(MAIL_TEMPLATES.length);
    expect(rows.length).toBe(14);
    expect(page('tbody a[href="/scp/admin/mail-templates/ticket-autoresponse"]').text()).toBe('New ticket auto-response');
    expect(page('tbody tr').first().text()).toContain('Sent to the requester when their new ticket is opened');
    expect(page('tbody .badge').map((_i, b) => page(b).text()).get()).toEqual(Array(14).fill('Built-in'));
    expect((await admin.get('/scp/admin')).text).toContain('href="/scp/admin/mail-templates"');
  });

  it('starts the form from the built-in wording, lists the placeholders and shows the built-in mail', async () => {
    const page = $((await admin.get(`${BASE}/ticket-autoresponse`)).text);
    expect(page('#f-subject').val()).toBe('[#{{ticket.number}}] {{ticket.subject}}');
    expect(page('#f-body').text()).toContain('Thank you for contacting us.');
    const keys = page('section code').map((_i, c) => page(c).text()).get();
    expect(keys).toEqual(['{{recipient.name}}', '{{ticket.number}}', '{{ticket.subject}}', '{{ticket.department}}', '{{ticket.url}}', '{{message}}', '{{helpdesk.name}}']);
    // The built-in text as sent, with sample data and the help desk's name.
    expect(page('pre.mail-body').first().text()).toContain('Dear Kim Requester,');
    expect(page('pre.mail-body').first().text()).toContain('Acme Help');
    expect(page(`form[action="${BASE}/ticket-autoresponse/reset"]`).length).toBe(0);
  });

  it('answers 404 for a notification that does not exist', async () => {
    expect((await admin.get(`${BASE}/no-such-mail`)).status).toBe(404);
    expect((await admin.get(`${BASE}/..%2Fsettings`)).status).toBe(404);
  });
});

describe('a customised auto-response', () => {
  it('is saved, audited and marked customised', async () => {
    const res = await save('ticket-autoresponse', AUTORESPONSE);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`${BASE}/ticket-autoresponse`);
    expect(await row('ticket-autoresponse')).toEqual(AUTORESPONSE);
    const audit = await t.db('audit_log').where({ action: 'mail_template.update' }).orderBy('id', 'desc').first();
    expect(audit.agent_id).toBe(adminActor.id);
    expect(JSON.parse(audit.before)).toEqual({ name: 'ticket-autoresponse', builtIn: true });
    expect(JSON.parse(audit.after)).toEqual({ name: 'ticket-autoresponse', ...AUTORESPONSE });
    const list = $((await admin.get(BASE)).text);
    expect(list('tbody tr').first().find('.badge').text()).toBe('Customised');
  });

  it('reaches the requester over SMTP with the placeholders filled, escaped in HTML, threaded and with a working access link', async () => {
    await deliver();
    const ticket = await openTicket(t.ctx(), {
      email: 'kim@customer.test', name: 'Kim', subject: '<script>alert(1)</script> & "quotes"', message: 'My <b>VPN</b> is down\nsince 9am', departmentId: dept, messageId: '<kim.42@customer.test>',
    });
    const mail = (await deliver()).find((m) => m.envelopeTo[0] === 'kim@customer.test')!;
    expect(mail).toBeDefined();
    const m = mail.parsed;
    expect(m.subject).toBe(`We got it [#${ticket.number}]: <script>alert(1)</script> & "quotes"`);
    expect(m.text).toContain('Hi Kim,\n\nThanks for writing to Acme Help about "<script>alert(1)</script> & "quotes"".');
    expect(m.text).toContain('You wrote:\nMy <b>VPN</b> is down\nsince 9am');
    expect(m.text).not.toContain('{{');
    // Threading and loop protection do not depend on the wording.
    expect(m.inReplyTo).toBe('<kim.42@customer.test>');
    expect(m.messageId).toMatch(/^<tessera\.[0-9a-f-]+@helpdesk\.test>$/);
    expect(header(m, 'auto-submitted')).toBe('auto-replied');
    expect(header(m, 'reply-to')).toContain('support@helpdesk.test');
    // HTML: every value escaped, line breaks kept, the access link clickable, inside the usual header and footer.
    const html = String(m.html);
    expect(html).not.toMatch(/<script|<b>VPN/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('My &lt;b&gt;VPN&lt;/b&gt; is down<br>');
    expect(html).toContain('<strong>Acme Help</strong>');
    const link = /<a href="(http:\/\/helpdesk\.test\/tickets\/access\?token=[^"]+)">/.exec(html)?.[1];
    expect(link).toBeDefined();
    expect(m.text).toContain(link!.replace(/&amp;/g, '&'));
    const open = await client(t.app).get(link!.replace('http://helpdesk.test', '').replace(/&amp;/g, '&'));
    expect(open.status).toBe(303);
    expect(open.headers.location).toBe(`/tickets/${ticket.number}`);
  });
});

describe('refused texts keep what the admin typed (422)', () => {
  const refused = async (name: string, data: { subject: string; body: string }, field: 'subject' | 'body', words: string) => {
    const before = await row(name);
    const res = await save(name, data);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page(`#e-${field}`).text()).toContain(words);
    expect(page('#f-subject').val()).toBe(data.subject);
    expect(page('#f-body').text()).toBe(data.body);
    expect(await row(name)).toEqual(before);
  };

  it('an unknown placeholder', () =>
    refused('ticket-autoresponse', { subject: AUTORESPONSE.subject, body: 'Hi {{recipient.name}}, your password is {{user.password}}' }, 'body', 'Unknown placeholder {{user.password}}'));
  it('an unclosed placeholder', () => refused('ticket-autoresponse', { subject: 'Hi {{recipient.name [#{{ticket.number}}]', body: 'Hello' }, 'subject', 'is not a placeholder'));
  it('EJS or code in the braces (never evaluated)', () => refused('overdue-alert', { subject: 'x', body: "{{ process.mainModule.require('child_process') }} <%= 7*7 %>" }, 'body', 'is not a placeholder'));
  it('an agent response without the reply itself', () => refused('agent-response', { subject: 'Re: [#{{ticket.number}}]', body: 'We answered your ticket.' }, 'body', 'Keep {{message}}'));
  it('a sign-in mail without its link', () => refused('signin-link', { subject: 'Sign in', body: 'Go to the portal and sign in.' }, 'body', 'Keep {{signin.url}}'));
  it('a subject without the ticket token requesters reply to', () => refused('ticket-closed', { subject: 'Closed: {{ticket.subject}}', body: 'Done.' }, 'subject', '[#{{ticket.number}}]'));
  it('a subject with a line break (no header injection)', async () => {
    const before = await row('overdue-alert');
    const res = await save('overdue-alert', { subject: 'Overdue\r\nBcc: evil@example.com', body: 'Late: {{ticket.url}}' });
    expect(res.status).toBe(422);
    expect($(res.text)('#e-subject').text()).toContain('one line');
    expect(await row('overdue-alert')).toEqual(before);
  });
  it('an array where one value belongs', async () => {
    const res = await save('overdue-alert', { subject: 'x', body: ['a', 'b'] as unknown as string });
    expect(res.status).toBe(422);
    expect(await row('overdue-alert')).toBeUndefined();
  });
});

describe('subject values cannot inject headers', () => {
  it('folds line breaks in substituted values into one line', async () => {
    await saveMailTemplate(t.ctx(adminActor), 'access-link', { subject: 'Link for {{ticket.subject}} #{{ticket.number}} ({{recipient.name}})', body: '{{ticket.url}}' });
    const id = await queueMail(t.ctx(), t.db, {
      template: 'access-link', to: 'eve@customer.test', toName: 'Eve', automatic: 'auto-generated',
      vars: { ticket: { number: '123456', subject: 'Hi\r\nBcc: evil@example.com' }, userName: 'Eve\nX-Injected: 1', validHours: 24, ticketUrl: 'http://helpdesk.test/tickets/access?token=x' },
    });
    const out = await t.db('outbox').where({ id }).first();
    expect(out.subject).toBe('Link for Hi Bcc: evil@example.com #123456 (Eve X-Injected: 1)');
    expect(out.headers ?? '').not.toMatch(/Bcc|X-Injected/);
  });
});

describe('preview', () => {
  it('renders the typed text with sample data and saves nothing', async () => {
    const before = await row('ticket-closed');
    const res = await submit(admin, `${BASE}/ticket-closed`, `${BASE}/ticket-closed/preview`, { subject: '[#{{ticket.number}}] done: {{ticket.subject}}', body: 'Bye {{recipient.name}} <3\n{{ticket.url}}' });
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('#pv-h').text()).toContain('not saved');
    expect(page('.facts dd').first().text()).toBe('[#482913] done: Printer on floor 2 prints blank pages');
    expect(page('pre.mail-body').first().text()).toBe('Bye Kim Requester <3\nhttp://helpdesk.test/tickets/access?token=SAMPLE-TOKEN\n');
    // The HTML part is shown as source (escaped on the page), never rendered.
    expect(page('details pre.mail-body').first().text()).toContain('Bye Kim Requester &lt;3<br>');
    expect(page('#f-body').text()).toBe('Bye {{recipient.name}} <3\n{{ticket.url}}');
    expect(await row('ticket-closed')).toEqual(before);
  });

  it('refuses a bad text like a save (422, input kept)', async () => {
    const res = await submit(admin, `${BASE}/ticket-closed`, `${BASE}/ticket-closed/preview`, { subject: '[#{{ticket.number}}]', body: '{{nope}}' });
    expect(res.status).toBe(422);
    expect($(res.text)('#e-body').text()).toContain('{{nope}}');
  });
});

describe('reset to default', () => {
  it('drops the wording (audited) and the next mail is the built-in one', async () => {
    const page = $((await admin.get(`${BASE}/ticket-autoresponse`)).text);
    const form = page(`form[action="${BASE}/ticket-autoresponse/reset"]`);
    expect(form.attr('data-confirm')).toBeTruthy();
    const res = await submit(admin, `${BASE}/ticket-autoresponse`, `${BASE}/ticket-autoresponse/reset`, {});
    expect(res.status).toBe(303);
    expect(await row('ticket-autoresponse')).toBeUndefined();
    const audit = await t.db('audit_log').where({ action: 'mail_template.reset' }).orderBy('id', 'desc').first();
    expect(JSON.parse(audit.before)).toEqual({ name: 'ticket-autoresponse', ...AUTORESPONSE });
    expect($((await admin.get(`${BASE}/ticket-autoresponse`)).text)('#f-subject').val()).toBe('[#{{ticket.number}}] {{ticket.subject}}');

    await deliver();
    await openTicket(t.ctx(), { email: 'lee@customer.test', name: 'Lee', subject: 'Printer', message: 'Jammed', departmentId: dept });
    const mail = (await deliver()).find((m) => m.envelopeTo[0] === 'lee@customer.test')!.parsed;
    expect(mail.text).toContain('Dear Lee,\n\nThank you for contacting us.');
    expect(mail.text).not.toContain('Acme support team');
  });
});

describe('the per-process cache', () => {
  const queueClosed = () => queueMail(t.ctx(), t.db, {
    template: 'ticket-closed', to: 'kim@customer.test', vars: { ticket: { number: '777777', subject: 'Cached' }, status: 'closed', userName: 'Kim', isCc: false, requesterName: 'Kim', ticketUrl: 'http://helpdesk.test/x' },
  });
  const closedNotice = async () => (await t.db('outbox').where({ id: await queueClosed() }).first()).text_body as string;

  it('is read again when another process saves (a new version), and only then', async () => {
    await saveMailTemplate(t.ctx(adminActor), 'ticket-closed', { subject: '[#{{ticket.number}}] closed', body: 'Version one for {{recipient.name}}' });
    expect(await closedNotice()).toBe('Version one for Kim\n');
    // The row changes behind this process's back, without a new version: the cached text is used (no read).
    await t.db('mail_templates').where({ name: 'ticket-closed' }).update({ body: 'Version two for {{recipient.name}}' });
    expect(await closedNotice()).toBe('Version one for Kim\n');
    // Another process's save writes a new version with its change: this process reads the table again.
    await writeSettings(t.db, { mail_templates_version: 'saved-by-another-process' }, t.clock());
    expect(await closedNotice()).toBe('Version two for Kim\n');
  });

  it('costs no statement once read: a customised mail takes as many as a built-in one', async () => {
    const built = () => queueMail(t.ctx(), t.db, { template: 'overdue-alert', to: 'a@agents.test', vars: { ticket: { number: '1', subject: 's', department: 'd' }, agentName: 'A', agentUrl: 'http://helpdesk.test/scp/tickets/1' } });
    expect(await row('overdue-alert')).toBeUndefined();
    const builtIn = await statements(t.db, built);
    expect(await closedNotice()).toBe('Version two for Kim\n'); // customised, its version read already
    expect(await statements(t.db, queueClosed)).toBe(builtIn);
    // A new version costs one read, once.
    await writeSettings(t.db, { mail_templates_version: 'another-change' }, t.clock());
    expect(await statements(t.db, queueClosed)).toBe(builtIn + 1);
    expect(await statements(t.db, queueClosed)).toBe(builtIn);
  });

  it('reads nothing while no template was ever customised', async () => {
    await resetMailTemplate(t.ctx(adminActor), 'ticket-closed');
    await resetMailTemplate(t.ctx(adminActor), 'access-link');
    await writeSettings(t.db, { mail_templates_version: '' }, t.clock());
    expect((await getSettings(t.db)).mail_templates_version).toBe('');
    const reads: string[] = [];
    const spy = (q: { sql: string }) => void (/mail_templates/.test(q.sql) && reads.push(q.sql));
    t.db.on('query', spy);
    const text = await closedNotice();
    t.db.off('query', spy);
    expect(reads).toEqual([]);
    expect(text).toContain('Dear Kim,\n\nTicket #777777, "Cached", has been closed.');
  });
});

describe('who may edit', () => {
  it('refuses agents who are not admins (403) and visitors (sign-in), changing nothing', async () => {
    expect((await agent.get(BASE)).status).toBe(403);
    const csrf = $((await agent.get('/scp')).text)('input[name=_csrf]').first().val() as string;
    const res = await agent.post(`${BASE}/overdue-alert`).type('form').send({ _csrf: csrf, subject: 'x', body: 'y {{ticket.url}}' });
    expect(res.status).toBe(403);
    expect(await row('overdue-alert')).toBeUndefined();
    const anon = await client(t.app).get(`${BASE}/overdue-alert`);
    expect(anon.status).toBe(303);
    expect(anon.headers.location).toMatch(/^\/scp\/login/);
  });

  it('is checked in the service too', async () => {
    await expect(saveMailTemplate(t.ctx(agentActor), 'overdue-alert', { subject: 'x', body: 'y' })).rejects.toMatchObject({ code: 'ADMIN_ONLY' });
    await expect(resetMailTemplate(t.ctx(agentActor), 'overdue-alert')).rejects.toMatchObject({ code: 'ADMIN_ONLY' });
  });
});
