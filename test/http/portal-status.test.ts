import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom } from '../support/http.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { count, openViaStatus } from './portal-support.ts';

function cookieOf(res: { headers: Record<string, unknown> }): string | undefined {
  const set = res.headers['set-cookie'] as string[] | undefined;
  return set?.find((c) => c.startsWith('tessera_portal='))?.split(';')[0];
}

function linkIn(body: string): string {
  const m = /http:\/\/helpdesk\.test(\/tickets\/access\?token=[\w%-]+)/.exec(body);
  if (!m) throw new Error('no access link in mail');
  return m[1];
}

describe('portal: check ticket status and access links', () => {
  let t: TestApp;
  let mine: { id: number; number: string };
  let theirs: { id: number; number: string };
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    mine = await openTicket(t.ctx(ANONYMOUS), { email: 'ann@example.com', name: 'Ann', subject: 'Ann’s ticket', message: 'Hello from Ann' });
    theirs = await openTicket(t.ctx(ANONYMOUS), { email: 'bob@example.com', name: 'Bob', subject: 'Bob’s private ticket', message: 'Hello from Bob' });
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('shows the form with both choices, an empty state and works without JavaScript (plain POST form)', async () => {
    const res = await request(t.app).get('/tickets/status');
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('form[method=post][action="/tickets/status"] input[name=_csrf]').length).toBe(1);
    expect(page('button[name=action][value=view]').length).toBe(1);
    expect(page('button[name=action][value=link]').length).toBe(1);
    expect(page('.session-tickets').length).toBe(0);
  });

  it('opens the ticket for this browser with email + number, with a new session id', async () => {
    const c = client(t.app);
    const first = await c.get('/tickets/status');
    const before = cookieOf(first);
    const res = await openViaStatus(c, '  ANN@Example.com ', `#${mine.number}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${mine.number}`);
    const after = cookieOf(res);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const page = await c.get(`/tickets/${mine.number}`);
    expect(page.status).toBe(200);
    expect($(page.text)('h1').text()).toContain('Ann’s ticket');
    // The status page now lists the tickets opened in this browser.
    const status = $((await c.get('/tickets/status')).text);
    expect(status(`.session-tickets a[href="/tickets/${mine.number}"]`).length).toBe(1);
    // That session still cannot read Bob's ticket.
    expect((await c.get(`/tickets/${theirs.number}`)).status).toBe(404);
  });

  it('answers a wrong email and a wrong number with the same message, keeps the input, and grants nothing', async () => {
    const c = client(t.app);
    const wrongEmail = await openViaStatus(c, 'bob@example.com', mine.number);
    const wrongNumber = await openViaStatus(c, 'ann@example.com', '999999999');
    const neither = await openViaStatus(c, 'nobody@example.com', '1');
    for (const r of [wrongEmail, wrongNumber, neither]) expect(r.status).toBe(422);
    const msg = (r: { text: string }) => $(r.text)('#form-errors').text().trim();
    expect(msg(wrongEmail)).not.toBe('');
    expect(msg(wrongNumber)).toBe(msg(wrongEmail));
    expect(msg(neither)).toBe(msg(wrongEmail));
    expect($(wrongEmail.text)('#f-email').val()).toBe('bob@example.com');
    expect($(wrongEmail.text)('#f-number').val()).toBe(mine.number);
    expect((await c.get(`/tickets/${mine.number}`)).status).toBe(303);
  });

  it('validates the fields themselves', async () => {
    const res = await openViaStatus(client(t.app), 'not-an-email', '');
    expect(res.status).toBe(422);
    expect($(res.text)('#e-email').length).toBe(1);
    expect($(res.text)('#e-number').length).toBe(1);
  });

  it('sends anonymous visitors of a ticket page to the status form, the same for any number', async () => {
    const known = await request(t.app).get(`/tickets/${mine.number}`);
    const unknown = await request(t.app).get('/tickets/123');
    expect(known.status).toBe(303);
    expect(known.headers.location).toBe(`/tickets/status?number=${mine.number}`);
    expect(unknown.status).toBe(303);
    expect(unknown.headers.location).toBe('/tickets/status?number=123');
  });

  it('emails an access link for a matching pair, says the same for a wrong one, and the link opens the ticket', async () => {
    const c = client(t.app);
    const before = await count(t.db, 'outbox', { template: 'access-link' });
    const _csrf = await csrfFrom(c, '/tickets/status');
    const wrong = await c.post('/tickets/status').type('form').send({ _csrf, email: 'bob@example.com', number: mine.number, action: 'link' });
    expect(wrong.status).toBe(303);
    const wrongFlash = $((await c.get(wrong.headers.location)).text)('.flash').text();
    expect(await count(t.db, 'outbox', { template: 'access-link' })).toBe(before);
    const right = await c.post('/tickets/status').type('form').send({ _csrf: await csrfFrom(c, '/tickets/status'), email: 'ann@example.com', number: mine.number, action: 'link' });
    expect(right.status).toBe(303);
    expect($((await c.get(right.headers.location)).text)('.flash').text()).toBe(wrongFlash);
    const mail = await t.db('outbox').where({ template: 'access-link' }).orderBy('id', 'desc').first();
    expect(mail).toMatchObject({ to_address: 'ann@example.com', ticket_id: mine.id });
    expect(mail.subject).toContain(mine.number);
    // Requesting a link grants nothing by itself.
    expect((await c.get(`/tickets/${mine.number}`)).status).toBe(303);
    const link = linkIn(mail.text_body);
    const other = client(t.app);
    const res = await other.get(link);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${mine.number}`);
    expect((await other.get(`/tickets/${mine.number}`)).status).toBe(200);
    expect((await other.get(`/tickets/${theirs.number}`)).status).toBe(404);
    // Stored hashed: the token itself is nowhere in the database.
    const token = decodeURIComponent(link.split('token=')[1]);
    expect(await count(t.db, 'access_tokens', { token_hash: token })).toBe(0);
  });

  it('accepts the link from the auto-response mail again and again until it expires', async () => {
    const mail = await t.db('outbox').where({ ticket_id: mine.id, template: 'ticket-autoresponse' }).first();
    const link = linkIn(mail.text_body);
    for (let i = 0; i < 2; i++) {
      const c = client(t.app);
      expect((await c.get(link)).headers.location).toBe(`/tickets/${mine.number}`);
      expect((await c.get(`/tickets/${mine.number}`)).status).toBe(200);
    }
    t.clock.advance(31 * 24 * 3600_000);
    try {
      const c = client(t.app);
      const res = await c.get(link);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/tickets/status');
      expect($((await c.get('/tickets/status')).text)('.flash-error').length).toBe(1);
      expect((await c.get(`/tickets/${mine.number}`)).status).toBe(303);
    } finally {
      t.clock.advance(-31 * 24 * 3600_000);
    }
  });

  it('refuses a tampered, empty or repeated token parameter', async () => {
    const mail = await t.db('outbox').where({ ticket_id: mine.id, template: 'ticket-autoresponse' }).first();
    const link = linkIn(mail.text_body);
    const token = decodeURIComponent(link.split('token=')[1]);
    const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const q of [`token=${encodeURIComponent(tampered)}`, 'token=', 'token=%20', '', `token=${encodeURIComponent(token)}&token=${encodeURIComponent(token)}`]) {
      const c = client(t.app);
      const res = await c.get(`/tickets/access?${q}`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/tickets/status');
      expect((await c.get(`/tickets/${mine.number}`)).status).toBe(303);
    }
  });

  it('keeps earlier tickets of the same user in the session, but starts afresh for another user', async () => {
    const second = await openTicket(t.ctx(ANONYMOUS), { email: 'ann@example.com', name: 'Ann', subject: 'Ann again', message: 'Second' });
    const c = client(t.app);
    await openViaStatus(c, 'ann@example.com', mine.number);
    await openViaStatus(c, 'ann@example.com', second.number);
    expect((await c.get(`/tickets/${mine.number}`)).status).toBe(200);
    expect((await c.get(`/tickets/${second.number}`)).status).toBe(200);
    await openViaStatus(c, 'bob@example.com', theirs.number);
    expect((await c.get(`/tickets/${theirs.number}`)).status).toBe(200);
    expect((await c.get(`/tickets/${mine.number}`)).status).toBe(404);
  });

  it('enforces CSRF on the status form', async () => {
    const c = client(t.app);
    await c.get('/tickets/status');
    const res = await c.post('/tickets/status').type('form').send({ email: 'ann@example.com', number: mine.number, action: 'view' });
    expect(res.status).toBe(403);
    const link = await c.post('/tickets/status').type('form').send({ _csrf: 'forged', email: 'ann@example.com', number: mine.number, action: 'link' });
    expect(link.status).toBe(403);
  });

  it('rate-limits status checks per IP (10 per 15 minutes), even with the right pair', async () => {
    const c = client(t.app);
    for (let i = 0; i < 10; i++) expect((await openViaStatus(c, 'ann@example.com', String(100 + i))).status).toBe(422);
    const blocked = await openViaStatus(c, 'ann@example.com', mine.number);
    expect(blocked.status).toBe(429);
    // The form again, with what was typed and when to try again.
    expect($(blocked.text)('#form-errors').text()).toMatch(/Too many checks from your network\. Please try again in 1[45] minutes\./);
    expect($(blocked.text)('input[name=email]').val()).toBe('ann@example.com');
    expect((await c.get(`/tickets/${mine.number}`)).status).toBe(303);
    t.clock.advance(16 * 60_000);
    expect((await openViaStatus(c, 'ann@example.com', mine.number)).status).toBe(303);
  });
});
