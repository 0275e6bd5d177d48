import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, type Client } from '../support/http.ts';
import { buildAgent } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { storeAttachments } from '../../src/domain/tickets/attachment-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { count, multipartAction, openViaStatus, postMultipart } from './portal-support.ts';

describe('portal: the user’s ticket page, replies, closing and attachments', () => {
  let t: TestApp;
  let a: { id: number; number: string; entryId: number };
  let b: { id: number; number: string; entryId: number };
  let ids: { aMessage: number; aResponse: number; aNote: number; aHtml: number; bMessage: number };
  let ann: Client;

  /** Adds an entry (and optionally a file on it) straight to the database, as the agent panel would. */
  async function addEntry(ticketId: number, kind: 'response' | 'note', body: string, file?: { filename: string; contentType: string; data: Buffer }, agentId?: number) {
    return t.db.transaction(async (trx) => {
      const [entryId] = await trx('thread_entries').insert({ ticket_id: ticketId, kind, agent_id: agentId ?? null, poster_name: kind === 'note' ? 'Nora Notewriter' : 'Sam Support', body, source: 'web', created_at: toDbDate(t.clock()) });
      const [fileId] = file ? await storeAttachments(trx, ticketId, entryId, [file], t.clock()) : [0];
      return { entryId, fileId };
    });
  }

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const agent = await buildAgent(t.db, { department_id: 1 });
    a = await openTicket(t.ctx(ANONYMOUS), { email: 'ann@example.com', name: 'Ann', subject: 'Ann’s laptop', message: 'First line\nSecond line <script>alert(1)</script>' }, [{ filename: 'photo.png', contentType: 'image/png', data: Buffer.from('ann-photo') }]);
    b = await openTicket(t.ctx(ANONYMOUS), { email: 'bob@example.com', name: 'Bob', subject: 'Bob’s secret', message: 'Bob only' }, [{ filename: 'bob.pdf', contentType: 'application/pdf', data: Buffer.from('bob-pdf') }]);
    t.clock.advance(60_000);
    const response = await addEntry(a.id, 'response', 'We are on it.', { filename: 'fix.txt', contentType: 'text/plain', data: Buffer.from('steps') }, agent.id);
    t.clock.advance(60_000);
    const note = await addEntry(a.id, 'note', 'INTERNAL: customer is difficult', { filename: 'internal.txt', contentType: 'text/plain', data: Buffer.from('secret') }, agent.id);
    const html = await addEntry(a.id, 'response', 'Here is a page', { filename: 'page.html', contentType: 'text/html', data: Buffer.from('<script>alert(1)</script>') }, agent.id);
    const files = await t.db('attachments').whereIn('ticket_id', [a.id, b.id]).orderBy('id').select('id', 'filename');
    const byName = (n: string) => files.find((f: any) => f.filename === n).id as number;
    ids = { aMessage: byName('photo.png'), aResponse: response.fileId, aNote: note.fileId, aHtml: html.fileId, bMessage: byName('bob.pdf') };
    ann = client(t.app);
    expect((await openViaStatus(ann, 'ann@example.com', a.number)).status).toBe(303);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('shows number, subject, status, department, dates and the thread oldest first, without internal notes', async () => {
    const res = await ann.get(`/tickets/${a.number}`);
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('h1').text()).toContain(`#${a.number}`);
    expect(page('h1').text()).toContain('Ann’s laptop');
    expect(page('#ticket-status').text()).toBe('Open');
    expect(page('.props').text()).toContain('Support');
    expect(page('.props time').first().attr('datetime')).toBe('2026-03-02T10:00:00.000Z');
    const entries = page('.thread .entry');
    expect(entries.length).toBe(3);
    expect(entries.eq(0).hasClass('entry-message')).toBe(true);
    expect(entries.eq(0).find('.body').text()).toBe('First line\nSecond line <script>alert(1)</script>');
    expect(entries.eq(1).find('.body').text()).toBe('We are on it.');
    expect(entries.eq(1).hasClass('entry-response')).toBe(true);
    // An agent's reply says so, not a fixed "Support" that reads like the department's name.
    expect(entries.eq(1).find('header .muted').text()).toBe('Staff reply');
    expect(entries.eq(0).find('header .muted').text()).toBe('You wrote');
    expect(res.text).not.toContain('INTERNAL');
    expect(res.text).not.toContain('Nora Notewriter');
    expect(res.text).not.toContain('internal.txt');
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(page(`a[href="/attachments/${ids.aMessage}"]`).text()).toBe('photo.png');
    expect(page(`a[href="/attachments/${ids.aResponse}"]`).text()).toBe('fix.txt');
    expect(page(`a[href="/attachments/${ids.aNote}"]`).length).toBe(0);
  });

  it('shows dates in the help desk’s time zone, formatted as agent pages show them', async () => {
    await writeSettings(t.db, { timezone: 'Europe/Berlin' }, t.clock());
    try {
      const page = $((await ann.get(`/tickets/${a.number}`)).text);
      expect(page('.props time').first().text()).toBe('2026-03-02 11:00 GMT+1');
      expect(page('.thread .entry time').eq(0).text()).toBe('2026-03-02 11:00 GMT+1');
      expect(page('.thread .entry time').eq(1).text()).toBe('2026-03-02 11:01 GMT+1');
      const mine = $((await ann.get('/tickets')).text);
      expect(mine(`tr[data-number="${a.number}"] time`).text()).toMatch(/^2026-03-02 11:0\d GMT\+1$/);
    } finally {
      await writeSettings(t.db, { timezone: 'UTC' }, t.clock());
    }
  });

  it('answers 404 for an unknown number and for someone else’s ticket, alike', async () => {
    const unknown = await ann.get('/tickets/99999999');
    const other = await ann.get(`/tickets/${b.number}`);
    expect(unknown.status).toBe(404);
    expect(other.status).toBe(404);
    expect(other.text).not.toContain('Bob’s secret');
    expect((await ann.get('/tickets/%00abc')).status).toBe(404);
  });

  it('never lets Ann reply to, close or download from Bob’s ticket by changing the number or the id', async () => {
    const entries = await count(t.db, 'thread_entries', { ticket_id: b.id });
    const reply = await postMultipart(ann, (await multipartAction(ann, `/tickets/${a.number}`)).replace(a.number, b.number), { message: 'Injected' });
    expect(reply.status).toBe(404);
    const close = await ann.post(`/tickets/${b.number}/close`).type('form').send({ _csrf: await csrfFrom(ann, `/tickets/${a.number}`) });
    expect(close.status).toBe(404);
    expect(await count(t.db, 'thread_entries', { ticket_id: b.id })).toBe(entries);
    expect((await t.db('tickets').where({ id: b.id }).first()).status).toBe('open');
    expect((await ann.get(`/attachments/${ids.bMessage}`)).status).toBe(404);
    expect((await ann.get(`/attachments/${ids.aNote}`)).status).toBe(404);
    expect((await ann.get('/attachments/999999')).status).toBe(404);
    expect((await ann.get('/attachments/abc')).status).toBe(404);
    expect(await count(t.db, 'ticket_events', { ticket_id: b.id })).toBe(1);
  });

  it('serves attachments only to someone who may read the ticket, always as a download with a safe type', async () => {
    const res = await ann.get(`/attachments/${ids.aMessage}`).buffer(true);
    expect(res.status).toBe(200);
    // RFC 6266: a token-safe name may be sent quoted or bare; either way it is a download, never inline.
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="?photo\.png"?(;|$)/);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(Buffer.from(res.body).toString()).toBe('ann-photo');
    const html = await ann.get(`/attachments/${ids.aHtml}`).buffer(true);
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toBe('application/octet-stream');
    expect(html.headers['content-disposition']).toMatch(/^attachment;/);
    expect(html.headers['content-security-policy']).toContain('sandbox');
    expect((await request(t.app).get(`/attachments/${ids.aMessage}`)).status).toBe(404);
  });

  it('adds a reply with an attachment, recording an event and alerting the agents', async () => {
    const before = await count(t.db, 'ticket_events', { ticket_id: a.id, event: 'message' });
    const alerts = await count(t.db, 'outbox', { ticket_id: a.id, template: 'new-message-alert' });
    const action = await multipartAction(ann, `/tickets/${a.number}`);
    const res = await postMultipart(ann, action, { message: 'Still broken.\nAny news?' }, [{ name: 'log.txt', data: 'log', type: 'text/plain' }]);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${a.number}`);
    const last = await t.db('thread_entries').where({ ticket_id: a.id }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ kind: 'message', body: 'Still broken.\nAny news?', source: 'web' });
    expect(await count(t.db, 'attachments', { entry_id: last.id })).toBe(1);
    expect(await count(t.db, 'ticket_events', { ticket_id: a.id, event: 'message' })).toBe(before + 1);
    expect(await count(t.db, 'outbox', { ticket_id: a.id, template: 'new-message-alert' })).toBe(alerts + 1);
    const page = $((await ann.get(`/tickets/${a.number}`)).text);
    expect(page('.thread .entry').last().find('.body').text()).toBe('Still broken.\nAny news?');
    expect(page('.flash-success').length).toBe(1);
  });

  it('re-shows a reply with errors, keeping the message (attachments excepted, with a note)', async () => {
    const entries = await count(t.db, 'thread_entries', { ticket_id: a.id });
    const action = await multipartAction(ann, `/tickets/${a.number}`);
    const bad = await postMultipart(ann, action, { message: 'Please keep me' }, [{ name: 'evil.svg', data: '<svg/>', type: 'image/svg+xml' }]);
    expect(bad.status).toBe(422);
    let page = $(bad.text);
    expect(page('#f-message').text()).toBe('Please keep me');
    expect(page('#e-attachments').text()).toContain('evil.svg');
    expect(page('.files-dropped').length).toBe(1);
    const empty = await postMultipart(ann, action, { message: '   ' });
    expect(empty.status).toBe(422);
    page = $(empty.text);
    expect(page('#e-message').length).toBe(1);
    expect(await count(t.db, 'thread_entries', { ticket_id: a.id })).toBe(entries);
  });

  it('enforces CSRF on reply and close', async () => {
    const entries = await count(t.db, 'thread_entries', { ticket_id: a.id });
    expect((await postMultipart(ann, `/tickets/${a.number}/reply`, { message: 'no token' })).status).toBe(403);
    expect((await postMultipart(ann, `/tickets/${a.number}/reply?_csrf=forged`, { message: 'forged' })).status).toBe(403);
    expect((await ann.post(`/tickets/${a.number}/close`).type('form').send({})).status).toBe(403);
    expect(await count(t.db, 'thread_entries', { ticket_id: a.id })).toBe(entries);
    expect((await t.db('tickets').where({ id: a.id }).first()).state).toBe('open');
  });

  it('lets the user close their own ticket (event, overdue cleared), then a reply reopens it', async () => {
    await t.db('tickets').where({ id: a.id }).update({ is_overdue: true });
    const before = await t.db('tickets').where({ id: a.id }).first();
    const page = $((await ann.get(`/tickets/${a.number}`)).text);
    expect(page('form.close-ticket').attr('data-confirm')).toBeTruthy();
    const res = await ann.post(`/tickets/${a.number}/close`).type('form').send({ _csrf: await csrfFrom(ann, `/tickets/${a.number}`) });
    expect(res.status).toBe(303);
    const closed = await t.db('tickets').where({ id: a.id }).first();
    expect(closed).toMatchObject({ status: 'closed', state: 'closed', version: before.version + 1 });
    expect(Boolean(Number(closed.is_overdue))).toBe(false);
    expect(closed.closed_at).toBeTruthy();
    const ev = await t.db('ticket_events').where({ ticket_id: a.id, event: 'closed' }).first();
    expect(ev).toMatchObject({ actor_kind: 'user' });
    expect(JSON.parse(ev.data)).toMatchObject({ by: 'user', to: 'closed' });
    const shown = $((await ann.get(`/tickets/${a.number}`)).text);
    expect(shown('#ticket-status').text()).toBe('Closed');
    expect(shown('form.close-ticket').length).toBe(0);
    expect(shown('#reply').text()).toContain('reopen');
    // Closing twice is refused.
    const again = await ann.post(`/tickets/${a.number}/close`).type('form').send({ _csrf: await csrfFrom(ann, '/tickets/status') });
    expect(again.status).toBe(409);
    // A reply reopens it.
    const reply = await postMultipart(ann, await multipartAction(ann, `/tickets/${a.number}`), { message: 'It broke again' });
    expect(reply.status).toBe(303);
    const reopened = await t.db('tickets').where({ id: a.id }).first();
    expect(reopened).toMatchObject({ status: 'open', state: 'open', closed_at: null });
    expect(await count(t.db, 'ticket_events', { ticket_id: a.id, event: 'reopened' })).toBe(1);
    expect($((await ann.get(`/tickets/${a.number}`)).text)('#ticket-status').text()).toBe('Open');
  });

  it('explains why a closed ticket cannot be replied to when reopening is switched off', async () => {
    await writeSettings(t.db, { reopen_on_user_reply: false }, t.clock());
    try {
      const action = await multipartAction(ann, `/tickets/${a.number}`);
      await ann.post(`/tickets/${a.number}/close`).type('form').send({ _csrf: await csrfFrom(ann, `/tickets/${a.number}`) });
      const page = $((await ann.get(`/tickets/${a.number}`)).text);
      expect(page('#reply form').length).toBe(0);
      expect(page('.reply-closed a[href="/tickets/new"]').length).toBe(1);
      const entries = await count(t.db, 'thread_entries', { ticket_id: a.id });
      const res = await postMultipart(ann, action, { message: 'Let me in' });
      expect(res.status).toBe(409);
      expect(await count(t.db, 'thread_entries', { ticket_id: a.id })).toBe(entries);
      expect((await t.db('tickets').where({ id: a.id }).first()).state).toBe('closed');
    } finally {
      await writeSettings(t.db, { reopen_on_user_reply: true }, t.clock());
    }
  });
});
