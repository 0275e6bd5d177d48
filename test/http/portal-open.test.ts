import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client } from '../support/http.ts';
import { buildAgent, buildDepartment, buildSlaPlan, buildTopic } from '../factories/index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { dbDate } from '../../src/db/dialect.ts';
import { count, multipartAction, postMultipart } from './portal-support.ts';

const valid = { email: 'Robin@Example.com', name: 'Robin Reader', phone: '+44 20 7946 0000', subject: 'Printer on fire', message: 'Line one\nLine two\n\n  indented <b>not bold</b>' };

describe('portal: open a ticket', () => {
  let t: TestApp;
  let topicId: number;
  let deptId: number;
  let slaId: number;
  let highId: number;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    deptId = await buildDepartment(t.db, { name: 'Hardware' });
    slaId = await buildSlaPlan(t.db, { grace_minutes: 120 });
    highId = (await t.db('priorities').where({ name: 'High' }).first()).id;
    topicId = await buildTopic(t.db, { name: 'Broken hardware', department_id: deptId, priority_id: highId, sla_plan_id: slaId });
    await buildTopic(t.db, { name: 'Secret internal topic', is_public: false });
    await buildTopic(t.db, { name: 'Retired topic', is_active: false });
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('shows the form with public active topics, a honeypot and a multipart action carrying the CSRF token', async () => {
    const res = await request(t.app).get('/tickets/new');
    expect(res.status).toBe(200);
    const page = $(res.text);
    const options = page('#f-topicId option').map((_i, o) => page(o).text()).get();
    expect(options).toContain('Broken hardware');
    expect(options).toContain('General Inquiry');
    expect(options).not.toContain('Secret internal topic');
    expect(options).not.toContain('Retired topic');
    // The install's default topic is preselected.
    expect(page('#f-topicId option[selected]').text()).toBe('General Inquiry');
    const form = page('form[enctype="multipart/form-data"]');
    expect(form.attr('method')).toBe('post');
    expect(form.attr('action')).toMatch(/^\/tickets\?_csrf=.+/);
    const hp = page('input[name=website]');
    expect(hp.attr('tabindex')).toBe('-1');
    expect(hp.attr('autocomplete')).toBe('off');
    expect(hp.closest('.hp').length).toBe(1);
    expect(page('label[for=f-website]').text()).toBe('Leave this empty');
    expect(page('input[type=file][name=attachments][multiple]').length).toBe(1);
    for (const f of ['email', 'name', 'phone', 'subject', 'message']) expect(page(`label[for=f-${f}]`).length).toBe(1);
    expect(page('meta[name=viewport]').attr('content')).toContain('width=device-width');
  });

  it('opens a ticket in one go: user, number, routing by topic, SLA, first message, attachments, event, mail; then the confirmation page', async () => {
    const agent = await buildAgent(t.db, { department_id: deptId });
    const c = client(t.app);
    const action = await multipartAction(c, '/tickets/new');
    const res = await postMultipart(c, action, { ...valid, topicId: String(topicId), website: '' }, [
      { name: 'screenshot.png', data: Buffer.from('png-bytes'), type: 'image/png' },
      { name: 'notes.txt', data: 'some notes', type: 'text/plain' },
    ]);
    expect(res.status).toBe(303);
    const m = /^\/tickets\/([0-9]+)\/opened$/.exec(res.headers.location);
    expect(m).not.toBeNull();
    const number = m![1];
    const ticket = await t.db('tickets').where({ number }).first();
    expect(ticket).toMatchObject({ source: 'web', status: 'open', state: 'open', department_id: deptId, priority_id: highId, sla_plan_id: slaId, topic_id: topicId });
    expect(dbDate(ticket.due_at)!.toISOString()).toBe('2026-03-02T12:00:00.000Z');
    const user = await t.db('users').where({ id: ticket.user_id }).first();
    expect(user).toMatchObject({ email: 'robin@example.com', name: 'Robin Reader', phone: '+44 20 7946 0000' });
    const entries = await t.db('thread_entries').where({ ticket_id: ticket.id });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'message', body: valid.message, user_id: user.id });
    const files = await t.db('attachments').where({ ticket_id: ticket.id, entry_id: entries[0].id }).orderBy('id');
    expect(files.map((f: any) => f.filename)).toEqual(['screenshot.png', 'notes.txt']);
    expect(await t.db('ticket_events').where({ ticket_id: ticket.id }).pluck('event')).toEqual(['created']);
    const mail = await t.db('outbox').where({ ticket_id: ticket.id }).orderBy('id');
    const toUser = mail.filter((r: any) => r.to_address === 'robin@example.com');
    expect(toUser).toHaveLength(1);
    expect(toUser[0].text_body).toContain(`#${number}`);
    expect(toUser[0].text_body).toMatch(/http:\/\/helpdesk\.test\/tickets\/access\?token=[\w-]+/);
    expect(mail.filter((r: any) => r.to_address === agent.email && r.template === 'new-ticket-alert')).toHaveLength(1);

    const confirm = await c.get(res.headers.location);
    expect(confirm.status).toBe(200);
    const cp = $(confirm.text);
    expect(cp('h1').text()).toContain('ticket is open');
    expect(cp('.ticket-number').text()).toBe(`#${number}`);
    expect(cp(`a[href="/tickets/${number}"]`).length).toBe(1);
    // The link works in this browser: the ticket page shows the message with its line breaks, escaped.
    const page = await c.get(`/tickets/${number}`);
    expect(page.status).toBe(200);
    const body = $(page.text)('.entry .body').first();
    expect(body.text()).toBe(valid.message);
    expect(body.find('b').length).toBe(0);
    // Another browser cannot see the confirmation or the ticket.
    expect((await request(t.app).get(res.headers.location)).status).toBe(404);
  });

  it('finds an existing user by email instead of creating a second one', async () => {
    const before = await count(t.db, 'users', { email: 'robin@example.com' });
    expect(before).toBe(1);
    const c = client(t.app);
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, email: 'ROBIN@example.COM', name: 'Someone Else', topicId: String(topicId) });
    expect(res.status).toBe(303);
    expect(await count(t.db, 'users', { email: 'robin@example.com' })).toBe(1);
    // The ticket is Robin's, and the known name is kept (mail greets Robin).
    const robin = await t.db('users').where({ email: 'robin@example.com' }).first();
    expect(robin.name).toBe('Robin Reader');
    const ticket = await t.db('tickets').where({ number: res.headers.location.split('/')[2] }).first();
    expect(ticket.user_id).toBe(robin.id);
    expect((await t.db('outbox').where({ ticket_id: ticket.id, to_address: 'robin@example.com' }).first()).to_name).toBe('Robin Reader');
  });

  it('grants the new ticket to the browser under a new session id: the old id is gone from the store', async () => {
    const sidOf = (res: { headers: Record<string, unknown> }) => {
      const cookie = (res.headers['set-cookie'] as string[] | undefined)?.find((h) => h.startsWith('tessera_portal='));
      return cookie ? decodeURIComponent(cookie.split(';')[0].split('=')[1]).slice(2).split('.')[0] : undefined;
    };
    const c = client(t.app);
    const form = await c.get('/tickets/new');
    const oldSid = sidOf(form)!;
    const oldCookie = (form.headers['set-cookie'] as unknown as string[]).find((h) => h.startsWith('tessera_portal='))!.split(';')[0];
    expect(await count(t.db, 'sessions', { sid: oldSid })).toBe(1);
    const action = $(form.text)('form[enctype="multipart/form-data"]').attr('action')!;
    const res = await postMultipart(c, action, { ...valid, email: 'rotated@example.com', topicId: String(topicId) });
    expect(res.status).toBe(303);
    const newSid = sidOf(res);
    expect(newSid).toBeDefined();
    expect(newSid).not.toBe(oldSid);
    expect(await count(t.db, 'sessions', { sid: oldSid })).toBe(0);
    const row = await t.db('sessions').where({ sid: newSid }).first();
    expect(JSON.parse(row.sess)).toMatchObject({ userId: expect.any(Number), ticketIds: [expect.any(Number)] });
    expect((await c.get(res.headers.location)).status).toBe(200);
    // The old cookie grants nothing.
    expect((await request(t.app).get(res.headers.location).set('Cookie', oldCookie)).status).toBe(404);
  });

  it('ignores routing and notification fields a portal user adds to the request', async () => {
    const other = await buildDepartment(t.db);
    const c = client(t.app);
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, email: 'sneaky@example.com', topicId: String(topicId), departmentId: String(other), priorityId: '1', notifyUser: 'false', source: 'phone' });
    expect(res.status).toBe(303);
    const number = res.headers.location.split('/')[2];
    const ticket = await t.db('tickets').where({ number }).first();
    expect(ticket).toMatchObject({ department_id: deptId, priority_id: highId, source: 'web' });
    expect(await count(t.db, 'outbox', { ticket_id: ticket.id, to_address: 'sneaky@example.com' })).toBe(1);
  });

  it('re-shows the form with errors next to the fields and everything typed kept, creating nothing', async () => {
    const tickets = await count(t.db, 'tickets');
    const users = await count(t.db, 'users');
    const c = client(t.app);
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { email: 'not-an-email', name: 'Kept Name', phone: '555-1234', topicId: String(topicId), subject: '', message: 'Kept\nmessage' }, [{ name: 'a.txt', data: 'x', type: 'text/plain' }]);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('#e-email').length).toBe(1);
    expect(page('#e-subject').length).toBe(1);
    expect(page('#f-email').attr('aria-invalid')).toBe('true');
    expect(page('#e-name').length).toBe(0);
    expect(page('#f-email').val()).toBe('not-an-email');
    expect(page('#f-name').val()).toBe('Kept Name');
    expect(page('#f-phone').val()).toBe('555-1234');
    expect(page('#f-message').text()).toBe('Kept\nmessage');
    expect(page('#f-topicId option[selected]').attr('value')).toBe(String(topicId));
    expect(page('#form-errors a[href="#f-email"]').length).toBe(1);
    expect(page('.files-dropped').length).toBe(1);
    expect(await count(t.db, 'tickets')).toBe(tickets);
    expect(await count(t.db, 'users')).toBe(users);
  });

  it('requires a help topic and refuses one that is not public', async () => {
    const priv = await t.db('help_topics').where({ name: 'Secret internal topic' }).first();
    const c = client(t.app);
    const none = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, topicId: '' });
    expect(none.status).toBe(422);
    expect($(none.text)('#e-topicId').length).toBe(1);
    const hidden = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, topicId: String(priv.id) });
    expect(hidden.status).toBe(422);
    expect($(hidden.text)('#e-topicId').length).toBe(1);
    expect($(hidden.text)('#f-subject').val()).toBe(valid.subject);
  });

  it('refuses a forbidden file type with a clear message and writes nothing', async () => {
    const tickets = await count(t.db, 'tickets');
    const users = await count(t.db, 'users');
    const c = client(t.app);
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, email: 'new-person@example.com', topicId: String(topicId) }, [{ name: 'invoice.pdf.exe', data: 'MZ', type: 'application/octet-stream' }]);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('#e-attachments').text()).toContain('invoice.pdf.exe');
    expect(page('#f-subject').val()).toBe(valid.subject);
    expect(await count(t.db, 'tickets')).toBe(tickets);
    expect(await count(t.db, 'users')).toBe(users);
  });

  it('refuses a file over the size limit (413) and too many files (422), keeping the typed fields', async () => {
    await writeSettings(t.db, { attachment_max_bytes: 2048, attachment_max_count: 2 }, new Date());
    try {
      const tickets = await count(t.db, 'tickets');
      const c = client(t.app);
      const big = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, topicId: String(topicId) }, [{ name: 'big.pdf', data: Buffer.alloc(4096, 1), type: 'application/pdf' }]);
      expect(big.status).toBe(413);
      let page = $(big.text);
      expect(page('#e-attachments').text()).toContain('big.pdf');
      expect(page('#f-name').val()).toBe(valid.name);
      expect(page('#f-message').text()).toBe(valid.message);
      expect(page('.files-dropped').length).toBe(1);
      const many = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, topicId: String(topicId) }, [1, 2, 3].map((i) => ({ name: `f${i}.txt`, data: 'x', type: 'text/plain' })));
      expect(many.status).toBe(422);
      page = $(many.text);
      expect(page('#e-attachments').text()).toContain('at most 2');
      expect(page('#f-subject').val()).toBe(valid.subject);
      expect(await count(t.db, 'tickets')).toBe(tickets);
    } finally {
      await writeSettings(t.db, { attachment_max_bytes: 10 * 1024 * 1024, attachment_max_count: 5 }, new Date());
    }
  });

  it('refuses a filled honeypot with 422 and creates nothing', async () => {
    const tickets = await count(t.db, 'tickets');
    const users = await count(t.db, 'users');
    const c = client(t.app);
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, email: 'bot@spam.example', topicId: String(topicId), website: 'http://spam.example' });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('#form-errors').text()).toContain('Leave this empty');
    expect(page('input[name=website]').val()).toBe('');
    expect(page('#f-subject').val()).toBe(valid.subject);
    expect(await count(t.db, 'tickets')).toBe(tickets);
    expect(await count(t.db, 'users')).toBe(users);
  });

  it('enforces CSRF on the multipart POST', async () => {
    const tickets = await count(t.db, 'tickets');
    const c = client(t.app);
    await c.get('/tickets/new');
    const none = await postMultipart(c, '/tickets', { ...valid, topicId: String(topicId) });
    expect(none.status).toBe(403);
    const wrong = await postMultipart(c, '/tickets?_csrf=not-the-token', { ...valid, topicId: String(topicId) });
    expect(wrong.status).toBe(403);
    // A token of another session does not work either.
    const other = client(t.app);
    const foreign = await multipartAction(other, '/tickets/new');
    const stolen = await postMultipart(c, foreign, { ...valid, topicId: String(topicId) });
    expect(stolen.status).toBe(403);
    const urlencoded = await c.post('/tickets').type('form').send({ ...valid, topicId: String(topicId) });
    expect(urlencoded.status).toBe(403);
    expect(await count(t.db, 'tickets')).toBe(tickets);
  });

  it('rate-limits ticket creation per IP (10 an hour)', async () => {
    const c = client(t.app);
    for (let i = 0; i < 10; i++) {
      const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, subject: '' });
      expect(res.status).toBe(422);
    }
    const tickets = await count(t.db, 'tickets');
    const attachments = await count(t.db, 'attachments');
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, topicId: String(topicId) }, [{ name: 'photo.png', data: Buffer.from('not kept'), type: 'image/png' }]);
    expect(res.status).toBe(429);
    expect(await count(t.db, 'tickets')).toBe(tickets);
    expect(await count(t.db, 'attachments')).toBe(attachments);
    // The form comes back with what was typed (the files are not kept), and says when to try again.
    const page = $(res.text);
    expect(page('#form-errors').text()).toMatch(/Your message is kept below\. Please try again in (60|59) minutes\./);
    expect(page('#form-errors').text()).toContain('Your attachments were not kept');
    expect(page('#f-subject').val()).toBe(valid.subject);
    expect(page('#f-message').text()).toBe(valid.message);
    expect(page('#f-email').val()).toBe(valid.email);
    expect(res.headers['retry-after']).toBeDefined();
    t.clock.advance(61 * 60_000);
    const later = await postMultipart(c, await multipartAction(c, '/tickets/new'), { ...valid, topicId: String(topicId) });
    expect(later.status).toBe(303);
  });
});
