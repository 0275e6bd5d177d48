import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom } from '../support/http.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { openViaStatus } from './portal-support.ts';

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const set = res.headers['set-cookie'] as string[] | undefined;
  const c = set?.find((s) => s.startsWith('tessera_portal='))?.split(';')[0];
  if (!c) throw new Error('no portal cookie set');
  return c;
}

describe('portal: my tickets and sign out', () => {
  let t: TestApp;
  let first: { id: number; number: string };
  let second: { id: number; number: string };
  let bobs: { id: number; number: string };
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    first = await openTicket(t.ctx(ANONYMOUS), { email: 'ann@example.com', name: 'Ann', subject: 'Printer <b>jam</b>', message: 'It jams' });
    t.clock.advance(60_000);
    second = await openTicket(t.ctx(ANONYMOUS), { email: 'ann@example.com', name: 'Ann', subject: 'Ann’s other ticket', message: 'Not proven in the browser' });
    t.clock.advance(60_000);
    bobs = await openTicket(t.ctx(ANONYMOUS), { email: 'bob@example.com', name: 'Bob', subject: 'Bob’s ticket', message: 'Hello from Bob' });
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('shows an empty state with links to open or check a ticket, and no session links, to a visitor', async () => {
    const res = await request(t.app).get('/tickets');
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('table').length).toBe(0);
    expect(page('.empty a[href="/tickets/new"]').length).toBe(1);
    expect(page('.empty a[href="/tickets/status"]').length).toBe(1);
    expect(page('header nav a[href="/tickets"]').length).toBe(0);
    expect(page('form[action="/logout"]').length).toBe(0);
    // The existing nav links stay.
    expect(page('header nav a[href="/tickets/new"]').length).toBe(1);
    expect(page('header nav a[href="/tickets/status"]').length).toBe(1);
  });

  it('lists only the tickets this session has proven, not every ticket of the same email address', async () => {
    const c = client(t.app);
    expect((await openViaStatus(c, 'ann@example.com', first.number)).status).toBe(303);
    const res = await c.get('/tickets');
    expect(res.status).toBe(200);
    const page = $(res.text);
    const rows = page('tbody tr');
    expect(rows.length).toBe(1);
    const row = rows.first();
    expect(row.find(`a[href="/tickets/${first.number}"]`).text()).toBe(`#${first.number}`);
    expect(row.find('td[data-label=Subject]').text()).toBe('Printer <b>jam</b>');
    expect(row.find('td[data-label=Subject] b').length).toBe(0);
    expect(row.find('td[data-label=Status] .badge-open').length).toBe(1);
    expect(row.find('td[data-label=Department]').text().trim()).not.toBe('');
    expect(row.find('td[data-label="Last update"] time').attr('datetime')).toBe('2026-03-02T10:00:00.000Z');
    expect(res.text).not.toContain(second.number);
    expect(res.text).not.toContain(bobs.number);
    // The layout now offers "My tickets" and a sign-out form (plain POST with the CSRF field: works without JavaScript).
    expect(page('header nav a[href="/tickets"]').length).toBe(1);
    expect(page('header form[method=post][action="/logout"] input[name=_csrf]').length).toBe(1);
    expect(page('header form[action="/logout"] button[type=submit]').length).toBe(1);
    // Also on the other portal pages.
    const home = $((await c.get('/')).text);
    expect(home('header nav a[href="/tickets"]').length).toBe(1);
    expect(home('header form[action="/logout"]').length).toBe(1);
  });

  it('lists proven tickets newest activity first', async () => {
    const c = client(t.app);
    await openViaStatus(c, 'ann@example.com', first.number);
    await openViaStatus(c, 'ann@example.com', second.number);
    const numbers = async () => {
      const page = $((await c.get('/tickets')).text);
      return page('tbody tr').map((_i, el) => page(el).attr('data-number')).get();
    };
    expect(await numbers()).toEqual([second.number, first.number]);
    await t.db('tickets').where({ id: first.id }).update({ updated_at: toDbDate(new Date('2026-03-02T11:00:00Z')) });
    expect(await numbers()).toEqual([first.number, second.number]);
  });

  it('signs out: the session is destroyed, a flash confirms it and the ticket page sends to the status form', async () => {
    const c = client(t.app);
    const opened = await openViaStatus(c, 'ann@example.com', first.number);
    const oldCookie = cookieOf(opened);
    expect((await c.get(`/tickets/${first.number}`)).status).toBe(200);
    const _csrf = await csrfFrom(c, '/tickets');
    const res = await c.post('/logout').type('form').send({ _csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(cookieOf(res)).not.toBe(oldCookie);
    const home = $((await c.get('/')).text);
    expect(home('.flash-success').length).toBe(1);
    expect(home('header nav a[href="/tickets"]').length).toBe(0);
    expect(home('form[action="/logout"]').length).toBe(0);
    const page = await c.get(`/tickets/${first.number}`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/tickets/status?number=${first.number}`);
    expect($((await c.get('/tickets')).text)('tbody tr').length).toBe(0);
    // The old session id is gone from the store: replaying its cookie grants nothing.
    const replay = await request(t.app).get(`/tickets/${first.number}`).set('Cookie', oldCookie);
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe(`/tickets/status?number=${first.number}`);
  });

  it('refuses a sign-out without a valid CSRF token and keeps the session', async () => {
    const c = client(t.app);
    await openViaStatus(c, 'ann@example.com', first.number);
    const missing = await c.post('/logout').type('form').send({});
    const wrong = await c.post('/logout').type('form').send({ _csrf: 'not-the-token' });
    const asArray = await c.post('/logout').type('form').send(`_csrf=${encodeURIComponent(await csrfFrom(c, '/tickets'))}&_csrf=x`);
    for (const r of [missing, wrong, asArray]) expect(r.status).toBe(403);
    expect((await c.get(`/tickets/${first.number}`)).status).toBe(200);
  });
});
