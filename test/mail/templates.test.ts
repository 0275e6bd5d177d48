/** Each template at its moment: the right recipients, subject token, headers, text and HTML parts — as delivered over SMTP. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { addUserMessage, openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { notifyTicket, type TicketNotice } from '../../src/domain/mail/ticket-notifications.ts';
import { deliverOutbox } from '../../src/mail/outbox-worker.ts';
import { createSmtpTransport } from '../../src/mail/mail-transport.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { header, startSmtpSink, type ReceivedMail, type SmtpSink } from './mail-support.ts';

describe('mail templates, sent at their moment', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let dept: number;
  let other: number;
  let a1: Awaited<ReturnType<typeof buildAgent>>;
  let a2: Awaited<ReturnType<typeof buildAgent>>;
  let a3: Awaited<ReturnType<typeof buildAgent>>;
  let ticket: { id: number; number: string };

  /** Delivers the outbox and returns what arrived since the last call. */
  let seen = 0;
  const deliver = async (): Promise<ReceivedMail[]> => {
    const transport = createSmtpTransport(sink.url);
    await deliverOutbox({ db: t.db, clock: t.clock, transport, from: 'helpdesk@helpdesk.test' }).finally(() => transport.close());
    const out = sink.received.slice(seen);
    seen = sink.received.length;
    return out;
  };
  const notify = (n: TicketNotice) => t.db.transaction((trx) => notifyTicket({ ...t.ctx(), db: trx }, trx, n));
  const to = (mails: ReceivedMail[]) => mails.map((m) => m.envelopeTo[0]).sort();

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    sink = await startSmtpSink();
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test', autoresponse_new_message: true }, t.clock());
    dept = await buildDepartment(t.db, { email_address: 'it@helpdesk.test', email_name: 'IT' });
    other = await buildDepartment(t.db);
    a1 = await buildAgent(t.db, { department_id: dept });
    a2 = await buildAgent(t.db, { department_id: dept });
    a3 = await buildAgent(t.db, { department_id: other });
    ticket = await openTicket(t.ctx(), { email: 'kim@customer.test', name: 'Kim', subject: 'VPN <down>', message: 'It is down\n& broken', departmentId: dept, messageId: '<kim.1@customer.test>' });
  });
  afterAll(async () => {
    await sink.close();
    await t.close();
  });

  /** `auto`: the Auto-Submitted value RFC 3834 calls for (auto-replied only for answers to a message), '' for none. */
  const common = (m: ReceivedMail, auto: 'auto-replied' | 'auto-generated' | '') => {
    expect(m.parsed.subject).toContain(`[#${ticket.number}]`);
    expect(m.parsed.messageId).toMatch(/^<tessera\.[0-9a-f-]+@helpdesk\.test>$/);
    expect(header(m.parsed, 'reply-to')).toContain('support@helpdesk.test');
    expect(m.parsed.from?.value[0].address).toBe('it@helpdesk.test');
    expect(header(m.parsed, 'auto-submitted'), m.envelopeTo[0]).toBe(auto);
    expect(header(m.parsed, 'x-auto-response-suppress')).toBe(auto ? 'OOF, AutoReply' : '');
    expect(m.parsed.text).toBeTruthy();
    expect(m.parsed.html).toBeTruthy();
    expect(m.parsed.html).not.toMatch(/<down>|<b>/);
  };

  it('new ticket: auto-response to the user (threaded to their mail), alert to the department', async () => {
    const mails = await deliver();
    expect(to(mails)).toEqual(['kim@customer.test', a1.email, a2.email].sort());
    for (const m of mails) common(m, m.envelopeTo[0] === 'kim@customer.test' ? 'auto-replied' : 'auto-generated');
    const user = mails.find((m) => m.envelopeTo[0] === 'kim@customer.test')!.parsed;
    expect(user.inReplyTo).toBe('<kim.1@customer.test>');
    expect(user.text).toContain('http://helpdesk.test/tickets/access?token=');
    const alert = mails.find((m) => m.envelopeTo[0] === a1.email)!.parsed;
    expect(alert.html).toContain('It is down<br>');
    expect(alert.html).toContain('&amp; broken');
  });

  it('new message: alert to the assignee (or department), confirmation to the user when enabled', async () => {
    await t.db('tickets').where({ id: ticket.id }).update({ assignee_agent_id: a1.id });
    await addUserMessage(t.ctx({ kind: 'user', id: (await t.db('tickets').where({ id: ticket.id }).first()).user_id, email: 'kim@customer.test', name: 'Kim' }), { ticketId: ticket.id, message: 'More info' });
    const mails = await deliver();
    expect(to(mails)).toEqual(['kim@customer.test', a1.email].sort());
    for (const m of mails) common(m, m.envelopeTo[0] === 'kim@customer.test' ? 'auto-replied' : 'auto-generated');
    expect(mails.find((m) => m.envelopeTo[0] === 'kim@customer.test')!.parsed.references).toContain('<kim.1@customer.test>');
  });

  it('agent response: to the user, not auto-submitted, threaded', async () => {
    const [entryId] = await t.db('thread_entries').insert({ ticket_id: ticket.id, kind: 'response', agent_id: a1.id, poster_name: 'Agent One', body: 'Try <this>', source: 'web', created_at: '2026-03-02 10:05:00.000' });
    await notify({ kind: 'agent_response', ticketId: ticket.id, entryId, ccs: true });
    const mails = await deliver();
    expect(to(mails)).toEqual(['kim@customer.test']);
    common(mails[0], '');
    expect(mails[0].parsed.subject).toBe(`Re: [#${ticket.number}] VPN <down>`);
    expect(mails[0].parsed.html).toContain('Try &lt;this&gt;');
    expect(mails[0].parsed.inReplyTo).toMatch(/^</);
  });

  it('resolved/closed notice, assignment, transfer and overdue alerts reach their recipients', async () => {
    await notify({ kind: 'ticket_closed', ticketId: ticket.id, status: 'resolved' });
    let mails = await deliver();
    expect(to(mails)).toEqual(['kim@customer.test']);
    expect(mails[0].parsed.subject).toContain('has been resolved');
    common(mails[0], 'auto-generated'); // a notice, not an answer to the user's mail

    await notify({ kind: 'ticket_assigned', ticketId: ticket.id, agentId: a2.id, comment: 'Please take <it>' });
    mails = await deliver();
    expect(to(mails)).toEqual([a2.email]);
    expect(mails[0].parsed.html).toContain('Please take &lt;it&gt;');
    common(mails[0], 'auto-generated');

    await notify({ kind: 'ticket_transferred', ticketId: ticket.id, departmentId: other });
    mails = await deliver();
    expect(to(mails)).toEqual([a3.email]);
    common(mails[0], 'auto-generated');

    await notify({ kind: 'ticket_overdue', ticketId: ticket.id });
    mails = await deliver();
    expect(to(mails)).toEqual([a1.email]); // the assignee
    common(mails[0], 'auto-generated');
  });

  it('every template has a plain-text and an HTML part', () => {
    const dir = path.resolve(__dirname, '../../views/mail');
    const txt = fs.readdirSync(dir).filter((f) => f.endsWith('.txt.ejs'));
    expect(txt.length).toBeGreaterThanOrEqual(9);
    for (const f of txt) expect(fs.existsSync(path.join(dir, f.replace('.txt.ejs', '.html.ejs'))), f).toBe(true);
  });

  it('settings turn each auto-response and alert off', async () => {
    await writeSettings(t.db, { notice_closed: false, alert_assigned: false, alert_overdue: false, alert_transfer: false }, t.clock());
    await notify({ kind: 'ticket_closed', ticketId: ticket.id, status: 'closed' });
    await notify({ kind: 'ticket_assigned', ticketId: ticket.id, agentId: a2.id });
    await notify({ kind: 'ticket_overdue', ticketId: ticket.id });
    await notify({ kind: 'ticket_transferred', ticketId: ticket.id, departmentId: other });
    expect(await deliver()).toHaveLength(0);
  });
});
