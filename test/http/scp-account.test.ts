import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, submit, $ } from '../support/http.ts';
import { buildAgent, TEST_PASSWORD, type BuiltAgent } from '../factories/index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

const NEW_PASSWORD = 'a brand new passphrase';

/** The reset link from the newest password-reset mail to `to`. */
async function resetLinkFor(t: TestApp, to: string): Promise<string> {
  const mail = await t.db('outbox').where({ template: 'password-reset', to_address: to }).orderBy('id', 'desc').first();
  const m = /(http\S+\/scp\/password\/reset\?token=\S+)/.exec(mail.text_body);
  return m![1];
}

async function agentSessions(t: TestApp, agentId: number): Promise<number> {
  const r = await t.db('sessions').where({ agent_id: agentId }).count({ n: '*' });
  return Number(r[0].n);
}

describe('agent account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());
  // All requests come from one IP; per-IP limits are tested on their own.
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  describe('forgotten password', () => {
    let agent: BuiltAgent;
    beforeAll(async () => {
      agent = await buildAgent(t.db);
    });

    it('gives the same answer for a known and an unknown account, and mails only the known one', async () => {
      const known = client(t.app);
      const unknown = client(t.app);
      const a = await submit(known, '/scp/password/forgot', '/scp/password/forgot', { login: agent.username });
      const b = await submit(unknown, '/scp/password/forgot', '/scp/password/forgot', { login: 'nobody-here' });
      expect([a.status, a.headers.location]).toEqual([303, '/scp/password/forgot']);
      expect([b.status, b.headers.location]).toEqual([a.status, a.headers.location]);
      const pa = $((await known.get('/scp/password/forgot')).text)('.flash').text();
      const pb = $((await unknown.get('/scp/password/forgot')).text)('.flash').text();
      expect(pa).toBe(pb);
      expect(pa.length).toBeGreaterThan(0);
      const mails = await t.db('outbox').where({ template: 'password-reset' });
      expect(mails.map((m: any) => m.to_address)).toEqual([agent.email]);
      const link = await resetLinkFor(t, agent.email);
      expect(link.startsWith('http://helpdesk.test/scp/password/reset?token=')).toBe(true);
      const token = decodeURIComponent(new URL(link).searchParams.get('token')!);
      const stored = await t.db('access_tokens').where({ agent_id: agent.id }).first();
      expect(stored.kind).toBe('password_reset');
      expect(stored.token_hash).not.toContain(token);
    });

    it('answers an empty login with the form and an error', async () => {
      const res = await submit(client(t.app), '/scp/password/forgot', '/scp/password/forgot', { login: '  ' });
      expect(res.status).toBe(422);
      expect($(res.text)('#e-login').length).toBe(1);
    });

    it('sends at most 3 links per account per hour, still with the same answer', async () => {
      const other = await buildAgent(t.db);
      for (let i = 0; i < 5; i++) {
        const res = await submit(client(t.app), '/scp/password/forgot', '/scp/password/forgot', { login: other.email.toUpperCase() });
        expect(res.status).toBe(303);
      }
      const r = await t.db('outbox').where({ template: 'password-reset', to_address: other.email }).count({ n: '*' });
      expect(Number(r[0].n)).toBe(3);
      t.clock.advance(61 * 60_000);
      await submit(client(t.app), '/scp/password/forgot', '/scp/password/forgot', { login: other.username });
      const r2 = await t.db('outbox').where({ template: 'password-reset', to_address: other.email }).count({ n: '*' });
      expect(Number(r2[0].n)).toBe(4);
    });

    it('rate-limits reset requests per IP', async () => {
      const statuses: number[] = [];
      const c = client(t.app);
      const token = await csrfFrom(c, '/scp/password/forgot');
      for (let i = 0; i < 11; i++) statuses.push((await c.post('/scp/password/forgot').type('form').send({ _csrf: token, login: `nobody${i}` })).status);
      expect(statuses.slice(0, 10).every((s) => s === 303)).toBe(true);
      expect(statuses[10]).toBe(429);
    });

    it('refuses unknown, empty, repeated and array tokens', async () => {
      for (const q of ['', '?token=', '?token=%20%20', '?token=nope', '?token=a&token=b', '?token[x]=1'])
        expect((await request(t.app).get(`/scp/password/reset${q}`)).status, q).toBe(404);
    });

    it('sets a new password once, ends every session of the agent and records it', async () => {
      const a = await buildAgent(t.db);
      const signedIn = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      expect(await agentSessions(t, a.id)).toBe(1);
      await submit(client(t.app), '/scp/password/forgot', '/scp/password/forgot', { login: a.username });
      const link = await resetLinkFor(t, a.email);
      const path = link.replace('http://helpdesk.test', '');
      const c = client(t.app);
      const form = await c.get(path);
      expect(form.status).toBe(200);
      const token = $(form.text)('input[name=token]').val() as string;

      const mismatch = await submit(c, path, '/scp/password/reset', { token, password: NEW_PASSWORD, password_confirm: 'something else entirely' });
      expect(mismatch.status).toBe(422);
      expect($(mismatch.text)('#e-password_confirm').length).toBe(1);
      const common = await submit(c, path, '/scp/password/reset', { token, password: 'password123', password_confirm: 'password123' });
      expect(common.status).toBe(422);
      expect($(common.text)('#e-password').length).toBe(1);

      const ok = await submit(c, path, '/scp/password/reset', { token, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
      expect([ok.status, ok.headers.location]).toEqual([303, '/scp/login']);
      expect(await agentSessions(t, a.id)).toBe(0);
      expect((await signedIn.get('/scp')).status).toBe(303);
      await loginAsAgent(t.app, a.username, NEW_PASSWORD);
      const old = await submit(client(t.app), '/scp/login', '/scp/login', { login: a.username, password: TEST_PASSWORD });
      expect(old.status).toBe(401);
      const again = await submit(client(t.app), '/scp/login', '/scp/password/reset', { token, password: 'yet another passphrase', password_confirm: 'yet another passphrase' });
      expect(again.status).toBe(404);
      expect((await request(t.app).get(path)).status).toBe(404);
      expect(await t.db('audit_log').where({ action: 'password.reset', entity_id: a.id }).first()).toBeDefined();
    });

    it('refuses an expired link', async () => {
      const a = await buildAgent(t.db);
      await submit(client(t.app), '/scp/password/forgot', '/scp/password/forgot', { login: a.username });
      const path = (await resetLinkFor(t, a.email)).replace('http://helpdesk.test', '');
      t.clock.advance(61 * 60_000);
      expect((await request(t.app).get(path)).status).toBe(404);
    });
  });

  describe('profile', () => {
    it('is for signed-in agents only', async () => {
      const res = await request(t.app).get('/scp/profile');
      expect([res.status, res.headers.location]).toEqual([303, '/scp/login?next=%2Fscp%2Fprofile']);
    });

    it('changes the name (escaped when shown) and records it', async () => {
      const a = await buildAgent(t.db);
      const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      const res = await submit(c, '/scp/profile', '/scp/profile', { name: '<script>alert(1)</script> Ada' });
      expect([res.status, res.headers.location]).toEqual([303, '/scp/profile']);
      const page = await c.get('/scp/profile');
      expect(page.text).not.toContain('<script>alert(1)</script>');
      expect($(page.text)('#f-name').val()).toBe('<script>alert(1)</script> Ada');
      expect((await t.db('agents').where({ id: a.id }).first()).name).toBe('<script>alert(1)</script> Ada');
      expect(await t.db('audit_log').where({ action: 'agent.profile', entity_id: a.id }).first()).toBeDefined();
    });

    it('refuses an empty name and keeps the input', async () => {
      const a = await buildAgent(t.db);
      const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      const res = await submit(c, '/scp/profile', '/scp/profile', { name: '' });
      expect(res.status).toBe(422);
      expect($(res.text)('#e-name').length).toBe(1);
    });

    it('changes the password only with the current one, and ends the other sessions', async () => {
      const a = await buildAgent(t.db);
      const other = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      const wrong = await submit(c, '/scp/profile', '/scp/profile/password', { current_password: 'not my password', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
      expect(wrong.status).toBe(422);
      expect($(wrong.text)('#e-current_password').length).toBe(1);
      const same = await submit(c, '/scp/profile', '/scp/profile/password', { current_password: TEST_PASSWORD, password: TEST_PASSWORD, password_confirm: TEST_PASSWORD });
      expect(same.status).toBe(422);
      const before = await t.db('sessions').where({ agent_id: a.id }).pluck('sid');
      const ok = await submit(c, '/scp/profile', '/scp/profile/password', { current_password: TEST_PASSWORD, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
      expect([ok.status, ok.headers.location]).toEqual([303, '/scp/profile']);
      const after = await t.db('sessions').where({ agent_id: a.id }).pluck('sid');
      expect(after).toHaveLength(1);
      expect(before).not.toContain(after[0]); // this session got a new id
      expect((await c.get('/scp/profile')).status).toBe(200);
      expect((await other.get('/scp')).status).toBe(303);
      await loginAsAgent(t.app, a.username, NEW_PASSWORD);
      expect(await t.db('audit_log').where({ action: 'password.change', entity_id: a.id }).first()).toBeDefined();
    });
  });

  describe('privilege change', () => {
    it('gives the session a new id when the agent\'s role changes, and keeps it signed in', async () => {
      const a = await buildAgent(t.db);
      const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      const before = await t.db('sessions').where({ agent_id: a.id }).pluck('sid');
      expect((await c.get('/scp/admin')).status).toBe(403);
      expect(await t.db('sessions').where({ agent_id: a.id }).pluck('sid')).toEqual(before); // no change, no new id
      await t.db('agents').where({ id: a.id }).update({ role: 'admin' });
      expect((await c.get('/scp/admin')).status).toBe(200);
      const after = await t.db('sessions').where({ agent_id: a.id }).pluck('sid');
      expect(after).toHaveLength(1);
      expect(before).not.toContain(after[0]);
      // The page rendered after the change carries a token that works in the new session.
      const res = await submit(c, '/scp/profile', '/scp/profile', { name: 'Promoted Agent' });
      expect(res.status).toBe(303);
    });
  });

  describe('session timeouts', () => {
    it('ends a session idle for longer than session_idle_minutes, and renews an active one', async () => {
      await writeSettings(t.db, { session_idle_minutes: 30 }, t.clock());
      try {
        const a = await buildAgent(t.db);
        const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
        t.clock.advance(25 * 60_000);
        expect((await c.get('/scp')).status).toBe(200);
        t.clock.advance(25 * 60_000);
        expect((await c.get('/scp')).status).toBe(200);
        t.clock.advance(31 * 60_000);
        expect((await c.get('/scp')).status).toBe(303);
      } finally {
        await writeSettings(t.db, { session_idle_minutes: 120 }, t.clock());
      }
    });

    it('ends a session after session_absolute_hours even when active', async () => {
      const a = await buildAgent(t.db);
      const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
      for (let i = 1; i <= 11; i++) {
        t.clock.advance(60 * 60_000);
        expect((await c.get('/scp')).status, `hour ${i}`).toBe(200);
      }
      t.clock.advance(61 * 60_000);
      expect((await c.get('/scp')).status).toBe(303);
    });
  });
});

