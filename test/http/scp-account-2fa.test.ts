import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { generate } from 'otplib';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, submit, $, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, TEST_PASSWORD, type BuiltAgent } from '../factories/index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

/** The TOTP code for `secret` at the test clock's time. */
async function codeAt(t: TestApp, secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor(t.clock().getTime() / 1000) });
}

/** Enrols a signed-in agent; returns the secret and the recovery codes shown. */
async function enrol(t: TestApp, c: Client): Promise<{ secret: string; codes: string[] }> {
  const page = $((await c.get('/scp/2fa/setup')).text);
  const secret = page('code.secret').text();
  const res = await submit(c, '/scp/2fa/setup', '/scp/2fa/setup', { code: await codeAt(t, secret) });
  expect(res.status).toBe(200);
  const codes = $(res.text)('.recovery-codes code').map((_, el) => $(res.text)(el).text()).get();
  return { secret, codes };
}

/** Password step: returns the client, now waiting for the code. */
async function passwordStep(t: TestApp, a: BuiltAgent): Promise<Client> {
  const c = client(t.app);
  const res = await submit(c, '/scp/login', '/scp/login', { login: a.username, password: TEST_PASSWORD });
  expect([res.status, res.headers.location]).toEqual([303, '/scp/2fa?next=%2Fscp']);
  return c;
}

describe('agent two-factor sign-in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
    await writeSettings(t.db, { require_2fa: 'none' }, t.clock());
  });

  it('enrols with a server-rendered QR code and a confirming code, then shows 10 recovery codes once', async () => {
    const a = await buildAgent(t.db);
    const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
    const setup = await c.get('/scp/2fa/setup');
    expect(setup.status).toBe(200);
    const img = $(setup.text)('img.qr').attr('src')!;
    expect(img.startsWith('data:image/png;base64,')).toBe(true);
    const secret = $(setup.text)('code.secret').text();
    expect($((await c.get('/scp/2fa/setup')).text)('code.secret').text()).toBe(secret); // resumes, same secret

    const wrong = await submit(c, '/scp/2fa/setup', '/scp/2fa/setup', { code: '000000' === (await codeAt(t, secret)) ? '111111' : '000000' });
    expect(wrong.status).toBe(422);
    expect($(wrong.text)('#e-code').length).toBe(1);
    expect((await t.db('agents').where({ id: a.id }).first()).totp_enabled).toBeFalsy();

    const res = await submit(c, '/scp/2fa/setup', '/scp/2fa/setup', { code: await codeAt(t, secret) });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const codes = $(res.text)('.recovery-codes code').map((_, el) => $(res.text)(el).text()).get();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const row = await t.db('agents').where({ id: a.id }).first();
    expect(Boolean(row.totp_enabled)).toBe(true);
    const hashes = JSON.parse(row.recovery_codes);
    expect(hashes).toHaveLength(10);
    for (const h of hashes) expect(h).toMatch(/^\$2[aby]\$/);
    expect(row.recovery_codes).not.toContain(codes[0]);
    expect((await c.get('/scp/profile')).status).toBe(200); // still signed in after the session id changed
    expect($((await c.get('/scp/2fa/setup')).text)('img.qr').length).toBe(0); // already on: no new secret
    expect(await t.db('audit_log').where({ action: '2fa.enable', entity_id: a.id }).first()).toBeDefined();
  });

  it('asks for the code after the password; the session is signed in only after it', async () => {
    const a = await buildAgent(t.db);
    const { secret } = await enrol(t, await loginAsAgent(t.app, a.username, TEST_PASSWORD));
    t.clock.advance(30_000);
    await t.db('sessions').where({ agent_id: a.id }).delete(); // the enrolment session
    const c = await passwordStep(t, a);
    expect((await c.get('/scp')).status).toBe(303);
    expect((await c.get('/scp/profile')).headers.location).toMatch(/^\/scp\/login/);
    expect(await t.db('sessions').where({ agent_id: a.id }).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);
    expect((await c.get('/scp/2fa')).status).toBe(200);

    const wrong = await submit(c, '/scp/2fa', '/scp/2fa', { code: '12345x' });
    expect(wrong.status).toBe(401);
    const pendingSid = (await t.db('sessions').pluck('sid')) as string[];
    const ok = await submit(c, '/scp/2fa', '/scp/2fa', { code: await codeAt(t, secret), next: '/scp' });
    expect([ok.status, ok.headers.location]).toEqual([303, '/scp']);
    expect((await c.get('/scp')).status).toBe(200);
    const sids = await t.db('sessions').where({ agent_id: a.id }).pluck('sid');
    expect(sids).toHaveLength(1);
    expect(pendingSid).not.toContain(sids[0]); // new id once fully signed in
    expect(await t.db('audit_log').where({ action: '2fa.success', entity_id: a.id }).first()).toBeDefined();
  });

  it('accepts a TOTP code once (no replay within its time window)', async () => {
    const a = await buildAgent(t.db);
    const { secret } = await enrol(t, await loginAsAgent(t.app, a.username, TEST_PASSWORD));
    t.clock.advance(30_000);
    const code = await codeAt(t, secret);
    const first = await passwordStep(t, a);
    expect((await submit(first, '/scp/2fa', '/scp/2fa', { code })).status).toBe(303);
    const second = await passwordStep(t, a);
    expect((await submit(second, '/scp/2fa', '/scp/2fa', { code })).status).toBe(401);
  });

  it('accepts each recovery code once, in any case and spacing', async () => {
    const a = await buildAgent(t.db);
    const { codes } = await enrol(t, await loginAsAgent(t.app, a.username, TEST_PASSWORD));
    const c = await passwordStep(t, a);
    const res = await submit(c, '/scp/2fa', '/scp/2fa', { code: ` ${codes[3].toUpperCase()} ` });
    expect([res.status, res.headers.location]).toEqual([303, '/scp']);
    expect(JSON.parse((await t.db('agents').where({ id: a.id }).first()).recovery_codes)).toHaveLength(9);
    const again = await passwordStep(t, a);
    expect((await submit(again, '/scp/2fa', '/scp/2fa', { code: codes[3] })).status).toBe(401);
    expect(await t.db('audit_log').where({ action: '2fa.recovery_code_used', entity_id: a.id }).first()).toBeDefined();
  });

  it('counts wrong codes towards the lockout and then ends the pending step', async () => {
    const a = await buildAgent(t.db);
    const { secret } = await enrol(t, await loginAsAgent(t.app, a.username, TEST_PASSWORD));
    const c = await passwordStep(t, a);
    const token = await csrfFrom(c, '/scp/2fa');
    for (let i = 0; i < 5; i++) expect((await c.post('/scp/2fa').type('form').send({ _csrf: token, code: 'wrong-code' })).status).toBe(401);
    t.clock.advance(30_000);
    const locked = await c.post('/scp/2fa').type('form').send({ _csrf: token, code: await codeAt(t, secret) });
    expect([locked.status, locked.headers.location]).toEqual([303, '/scp/login']);
    expect((await c.get('/scp/2fa')).headers.location).toBe('/scp/login');
    expect(await t.db('audit_log').where({ action: 'login.lockout', entity_id: a.id }).first()).toBeDefined();
  });

  it('abandons a pending step after 10 minutes', async () => {
    const a = await buildAgent(t.db);
    const { secret } = await enrol(t, await loginAsAgent(t.app, a.username, TEST_PASSWORD));
    const c = await passwordStep(t, a);
    t.clock.advance(11 * 60_000);
    const res = await submit(c, '/scp/login', '/scp/2fa', { code: await codeAt(t, secret) });
    expect([res.status, res.headers.location]).toEqual([303, '/scp/login']);
    expect((await c.get('/scp')).status).toBe(303);
  });

  it('turns 2FA off only with the current password', async () => {
    const a = await buildAgent(t.db);
    const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
    await enrol(t, c);
    expect((await submit(c, '/scp/profile', '/scp/2fa/disable', { current_password: 'not the password' })).status).toBe(422);
    const ok = await submit(c, '/scp/profile', '/scp/2fa/disable', { current_password: TEST_PASSWORD });
    expect([ok.status, ok.headers.location]).toEqual([303, '/scp/profile']);
    const row = await t.db('agents').where({ id: a.id }).first();
    expect([Boolean(row.totp_enabled), row.totp_secret, row.recovery_codes]).toEqual([false, null, null]);
    await loginAsAgent(t.app, a.username, TEST_PASSWORD); // no code asked any more
  });

  it('replaces the recovery codes with the current password', async () => {
    const a = await buildAgent(t.db);
    const c = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
    const { codes } = await enrol(t, c);
    const res = await submit(c, '/scp/profile', '/scp/2fa/recovery-codes', { current_password: TEST_PASSWORD });
    expect(res.status).toBe(200);
    const fresh = $(res.text)('.recovery-codes code').map((_, el) => $(res.text)(el).text()).get();
    expect(fresh).toHaveLength(10);
    const p = await passwordStep(t, a);
    expect((await submit(p, '/scp/2fa', '/scp/2fa', { code: codes[0] })).status).toBe(401);
    expect((await submit(p, '/scp/2fa', '/scp/2fa', { code: fresh[0] })).status).toBe(303);
  });

  describe('required by the administrator', () => {
    it("'admins': sends an admin without 2FA to enrolment and keeps them there until done", async () => {
      await writeSettings(t.db, { require_2fa: 'admins' }, t.clock());
      const admin = await buildAdmin(t.db);
      const c = client(t.app);
      const res = await submit(c, '/scp/login', '/scp/login', { login: admin.username, password: TEST_PASSWORD });
      expect([res.status, res.headers.location]).toEqual([303, '/scp/2fa/setup']);
      expect((await c.get('/scp')).headers.location).toBe('/scp/2fa/setup');
      expect((await c.get('/scp/admin')).headers.location).toBe('/scp/2fa/setup');
      expect((await c.get('/scp/profile')).headers.location).toBe('/scp/2fa/setup');
      await enrol(t, c);
      expect((await c.get('/scp')).status).toBe(200);
      expect((await submit(c, '/scp/profile', '/scp/2fa/disable', { current_password: TEST_PASSWORD })).status).toBe(403);
      // An ordinary agent is not affected.
      const agent = await buildAgent(t.db);
      const ac = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
      expect((await ac.get('/scp')).status).toBe(200);
    });

    it("'all': applies to every agent, also to sessions that began before the setting changed", async () => {
      const agent = await buildAgent(t.db);
      const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
      await writeSettings(t.db, { require_2fa: 'all' }, t.clock());
      expect((await c.get('/scp')).headers.location).toBe('/scp/2fa/setup');
      expect((await request(t.app).get('/scp/password/forgot')).status).toBe(200); // public pages unaffected
    });
  });
});
