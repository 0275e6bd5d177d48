import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, submit, $ } from '../support/http.ts';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';

describe('foundation over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('answers /healthz and /readyz', async () => {
    expect((await request(t.app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(t.app).get('/readyz')).body).toEqual({ status: 'ready' });
  });

  it('serves the portal home with the help desk name and both entry points', async () => {
    const res = await request(t.app).get('/');
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('h1').text()).toContain('Tessera Help Desk');
    expect(page('a[href="/tickets/new"]').length).toBeGreaterThan(0);
    expect(page('a[href="/tickets/status"]').length).toBeGreaterThan(0);
  });

  it('renders an unknown page as a 404 page without a stack trace', async () => {
    const res = await request(t.app).get('/no/such/page');
    expect(res.status).toBe(404);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('sets security headers', async () => {
    const res = await request(t.app).get('/');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });

  describe('first-run setup', () => {
    it('sends /scp to setup while no agent exists', async () => {
      const res = await request(t.app).get('/scp/login');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/scp/setup');
    });

    it('keeps the input and shows errors for a bad form', async () => {
      const c = client(t.app);
      const res = await submit(c, '/scp/setup', '/scp/setup', { name: 'Ada', email: 'not-an-email', username: 'ada', password: 'short' });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('#f-name').val()).toBe('Ada');
      expect(page('#f-username').val()).toBe('ada');
      expect(page('#e-email').length).toBe(1);
      expect(page('#e-password').length).toBe(1);
      expect(await t.db('agents').count({ n: '*' })).toEqual([{ n: 0 }]);
    });

    it('refuses a password over 72 bytes rather than cutting it', async () => {
      const c = client(t.app);
      const res = await submit(c, '/scp/setup', '/scp/setup', { name: 'Ada', email: 'ada@example.com', username: 'ada', password: 'é'.repeat(40) });
      expect(res.status).toBe(422);
      expect($(res.text)('#e-password').length).toBe(1);
    });

    it('refuses a POST without a CSRF token', async () => {
      const res = await request(t.app).post('/scp/setup').type('form').send({ name: 'Ada', email: 'ada@example.com', username: 'ada', password: 'long enough password' });
      expect(res.status).toBe(403);
      expect(await t.db('agents').count({ n: '*' })).toEqual([{ n: 0 }]);
    });

    it('creates the first administrator once, then the page is gone', async () => {
      const c = client(t.app);
      const res = await submit(c, '/scp/setup', '/scp/setup', { name: 'Ada Admin', email: 'Ada@Example.com', username: 'ada', password: 'long enough password' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/scp');
      const row = await t.db('agents').where({ username: 'ada' }).first();
      expect(row.role).toBe('admin');
      expect(row.email).toBe('ada@example.com');
      expect(row.password_hash).toMatch(/^\$2[aby]\$/);
      expect((await c.get('/scp')).status).toBe(200);
      expect((await request(t.app).get('/scp/setup')).status).toBe(404);
      const again = await submit(client(t.app), '/scp/login', '/scp/setup', { name: 'Eve', email: 'eve@example.com', username: 'eve', password: 'long enough password' });
      expect(again.status).toBe(404);
      expect(await t.db('agents').where({ username: 'eve' }).first()).toBeUndefined();
    });
  });

  describe('agent sign-in', () => {
    it('refuses a wrong password with the same message as an unknown account', async () => {
      const a = await submit(client(t.app), '/scp/login', '/scp/login', { login: 'ada', password: 'wrong password!' });
      const b = await submit(client(t.app), '/scp/login', '/scp/login', { login: 'nobody', password: 'wrong password!' });
      expect(a.status).toBe(401);
      expect(b.status).toBe(401);
      expect($(a.text)('[role=alert]').text()).toBe($(b.text)('[role=alert]').text());
      expect($(a.text)('#f-login').val()).toBe('ada');
    });

    it('signs in by username or email, with a new session id', async () => {
      const c = client(t.app);
      await csrfFrom(c, '/scp/login');
      const before = await t.db('sessions').pluck('sid');
      const token = await csrfFrom(c, '/scp/login');
      const res = await c.post('/scp/login').type('form').send({ _csrf: token, login: 'ADA@example.com', password: 'long enough password' });
      expect(res.status).toBe(303);
      const after = await t.db('sessions').whereNotNull('agent_id').pluck('sid');
      expect(after.some((sid: string) => !before.includes(sid))).toBe(true);
      // Every stored id is 24 random bytes (newSessionId), as express-session's own are.
      for (const sid of [...before, ...after]) expect(sid).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect((await c.get('/scp')).status).toBe(200);
    });

    it('locks the account after 5 failures for 15 minutes', async () => {
      await t.db('agents').insert({ username: 'bob', email: 'bob@example.com', name: 'Bob', password_hash: (await t.db('agents').where({ username: 'ada' }).first()).password_hash, role: 'agent', department_id: 1, is_active: true, failed_logins: 0, created_at: '2026-01-01 00:00:00', updated_at: '2026-01-01 00:00:00' });
      for (let i = 0; i < 5; i++) await submit(client(t.app), '/scp/login', '/scp/login', { login: 'bob', password: 'wrong password!' });
      const locked = await submit(client(t.app), '/scp/login', '/scp/login', { login: 'bob', password: 'long enough password' });
      expect(locked.status).toBe(401);
      t.clock.advance(16 * 60_000);
      await loginAsAgent(t.app, 'bob', 'long enough password');
      const audit = await t.db('audit_log').where({ action: 'login.lockout' }).count({ n: '*' });
      expect(Number(audit[0].n)).toBe(1);
    });

    it('sends anonymous visitors of panel pages to sign in', async () => {
      const res = await request(t.app).get('/scp/tickets');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/scp/login?next=%2Fscp%2Ftickets');
    });

    it('keeps the session across an app restart (sessions live in the database)', async () => {
      const c = await loginAsAgent(t.app, 'ada', 'long enough password');
      const cookie = (await c.get('/scp')).request.cookies;
      const restarted = createApp({ config: t.config, db: t.db, clock: t.clock, logger: createLogger(t.config) });
      const res = await request(restarted).get('/scp').set('Cookie', cookie);
      expect(res.status).toBe(200);
    });

    it('signs out, ending the session', async () => {
      const c = await loginAsAgent(t.app, 'ada', 'long enough password');
      const res = await submit(c, '/scp', '/scp/logout', {});
      expect(res.status).toBe(303);
      expect((await c.get('/scp')).status).toBe(303);
    });
  });
});
