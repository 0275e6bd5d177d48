import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, submit, $, type Client } from '../support/http.ts';
import { buildAgent, TEST_PASSWORD, type BuiltAgent } from '../factories/index.ts';

/** POSTs a raw urlencoded body (so the test controls repeated keys and brackets) with the form's CSRF token. */
async function postRaw(c: Client, formPath: string, action: string, body: string) {
  const token = await csrfFrom(c, formPath);
  return c.post(action).type('form').send(`_csrf=${encodeURIComponent(token)}&${body}`);
}

describe('hostile input', () => {
  let t: TestApp;
  let agent: BuiltAgent;
  beforeAll(async () => {
    t = await startTestApp();
    agent = await buildAgent(t.db);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  describe('a field that must be one value', () => {
    it.each([
      ['repeated key', (u: string) => `login=${u}&login=${u}&password=x`],
      ['bracket key', (u: string) => `login[b]=${u}&password=x`],
      ['array key', (u: string) => `login[]=${u}&password=x`],
    ])('is refused on sign-in (%s), never a 500 and never signed in', async (_name, body) => {
      const c = client(t.app);
      const res = await postRaw(c, '/scp/login', '/scp/login', body(agent.username));
      expect(res.status).toBe(422);
      expect((await c.get('/scp')).status).toBe(303);
    });

    it('is refused for the password too', async () => {
      const res = await postRaw(client(t.app), '/scp/login', '/scp/login', `login=${agent.username}&password=${encodeURIComponent(TEST_PASSWORD)}&password=${encodeURIComponent(TEST_PASSWORD)}`);
      expect(res.status).toBe(422);
    });

    it.each([['login=a&login=b'], ['login[b]=1']])('is refused on the forgot-password form (%s) and sends no mail', async (body) => {
      const res = await postRaw(client(t.app), '/scp/password/forgot', '/scp/password/forgot', body);
      expect(res.status).toBe(422);
      expect(await t.db('outbox').where({ template: 'password-reset' }).first()).toBeUndefined();
    });

    it.each([['name=A&name=B'], ['name[b]=1']])('is refused on the profile (%s)', async (body) => {
      const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
      const res = await postRaw(c, '/scp/profile', '/scp/profile', body);
      expect(res.status).toBe(422);
      expect((await t.db('agents').where({ id: agent.id }).first()).name).toBe(`Agent ${agent.username}`);
    });

    it('is refused for the CSRF token', async () => {
      const c = client(t.app);
      const token = await csrfFrom(c, '/scp/login');
      const res = await c.post('/scp/login').type('form').send(`_csrf=${token}&_csrf=${token}&login=x&password=y`);
      expect(res.status).toBe(403);
    });

    it('is ignored for a redirect target (no open redirect either)', async () => {
      for (const next of ['next=/scp/profile&next=//evil.example', 'next=//evil.example', 'next=https://evil.example', 'next=/scp/..\\evil']) {
        const res = await postRaw(client(t.app), '/scp/login', '/scp/login', `login=${agent.username}&password=${encodeURIComponent(TEST_PASSWORD)}&${next}`);
        expect(res.status, next).toBe(303);
        expect(res.headers.location, next).toMatch(/^\/scp/);
        expect(res.headers.location, next).not.toContain('evil');
      }
    });
  });

  describe('size limits', () => {
    it('refuses a request body over 1 MB with 413, without a stack trace', async () => {
      const res = await request(t.app).post('/scp/login').type('form').send(`login=${'a'.repeat(1_100_000)}&password=x`);
      expect(res.status).toBe(413);
      expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
    });

    it('refuses a form with more than 200 fields', async () => {
      const body = Array.from({ length: 250 }, (_, i) => `f${i}=1`).join('&');
      const res = await request(t.app).post('/scp/login').type('form').send(body);
      expect(res.status).toBe(413);
    });

    it('refuses a password over 72 bytes on reset and profile rather than cutting it', async () => {
      const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
      const long = 'é'.repeat(40);
      const res = await submit(c, '/scp/profile', '/scp/profile/password', { current_password: TEST_PASSWORD, password: long, password_confirm: long });
      expect(res.status).toBe(422);
      expect($(res.text)('#e-password').length).toBe(1);
    });

    it('answers a megabyte-long password at sign-in quickly with the usual refusal', async () => {
      const started = Date.now();
      const res = await submit(client(t.app), '/scp/login', '/scp/login', { login: agent.username, password: 'x'.repeat(900_000) });
      expect([401, 422]).toContain(res.status);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('passwords', () => {
    it.each([['password123'], ['qwertyuiop'], ['1234567890'], ['Iloveyou12']])('refuses a common password: %s', async (pw) => {
      const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
      const res = await submit(c, '/scp/profile', '/scp/profile/password', { current_password: TEST_PASSWORD, password: pw, password_confirm: pw });
      expect(res.status).toBe(422);
      expect($(res.text)('#e-password').length).toBe(1);
    });

    it('refuses one shorter than 10 characters', async () => {
      const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
      const res = await submit(c, '/scp/profile', '/scp/profile/password', { current_password: TEST_PASSWORD, password: 'Xq7#pL2!', password_confirm: 'Xq7#pL2!' });
      expect(res.status).toBe(422);
    });
  });
});
