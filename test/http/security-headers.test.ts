import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, csrfFrom, loginAsAgent, submit, $ } from '../support/http.ts';
import { buildAgent, TEST_PASSWORD } from '../factories/index.ts';

function cspOf(res: request.Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of String(res.headers['content-security-policy']).split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out[name] = values.join(' ');
  }
  return out;
}

function scpCookie(res: request.Response): string {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith('tessera_scp=')) ?? '';
}

describe('security headers and cookies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('sends a strict CSP without inline script, no framing, a referrer policy and nosniff', async () => {
    for (const path of ['/', '/scp/login', '/scp/password/forgot', '/no/such/page']) {
      const res = await request(t.app).get(path);
      const csp = cspOf(res);
      expect(csp['script-src'], path).toBe("'self'");
      expect(csp['default-src']).toBe("'self'");
      expect(csp['object-src']).toBe("'none'");
      expect(csp['frame-ancestors']).toBe("'none'");
      expect(csp['base-uri']).toBe("'self'");
      expect(csp['form-action']).toBe("'self'");
      expect(String(res.headers['content-security-policy'])).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
      expect(res.headers['x-frame-options']).toBeDefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('renders pages with no inline script, no event-handler attributes and no style attributes', async () => {
    const agent = await buildAgent(t.db);
    const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
    for (const path of ['/scp', '/scp/profile', '/scp/2fa/setup']) {
      const html = (await c.get(path)).text;
      const page = $(html);
      expect(page('script:not([src])').length, path).toBe(0);
      expect(page('[style]').length, path).toBe(0);
      expect(html, path).not.toMatch(/\son[a-z]+\s*=/i);
    }
    for (const path of ['/', '/scp/login', '/scp/password/forgot']) {
      const page = $((await request(t.app).get(path)).text);
      expect(page('script:not([src])').length, path).toBe(0);
      expect(page('[style]').length, path).toBe(0);
    }
  });

  it('sets the agent session cookie HttpOnly, SameSite=Lax, on /scp, not Secure over plain http', async () => {
    const agent = await buildAgent(t.db);
    const c = client(t.app);
    const token = await csrfFrom(c, '/scp/login');
    const res = await c.post('/scp/login').type('form').send({ _csrf: token, login: agent.username, password: TEST_PASSWORD });
    const cookie = scpCookie(res);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    expect(cookie).toMatch(/;\s*Path=\/scp;/i);
    expect(cookie).not.toMatch(/;\s*Secure/i);
  });

  it('does not trust X-Forwarded-For unless a proxy is configured', async () => {
    expect(t.app.get('trust proxy')).toBe(false);
    await submit(client(t.app), '/scp/login', '/scp/login', { login: 'spoofer', password: 'wrong password!' });
    const res = await request(t.app).post('/scp/login').set('X-Forwarded-For', '203.0.113.9').type('form').send({});
    expect(res.status).toBe(403); // no CSRF token; but the IP it saw is what matters below
    const c = client(t.app);
    const token = await csrfFrom(c, '/scp/login');
    await c.post('/scp/login').set('X-Forwarded-For', '203.0.113.9').type('form').send({ _csrf: token, login: 'spoofer2', password: 'wrong password!' });
    const rows = await t.db('audit_log').where({ action: 'login.failed' }).pluck('ip');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).not.toContain('203.0.113.9');
  });

  it('rate-limits the CSP report endpoint per IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await request(t.app).post('/csp-report').set('Content-Type', 'application/csp-report').send(JSON.stringify({ 'csp-report': { 'violated-directive': 'script-src' } }));
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 204)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('refuses an oversized CSP report', async () => {
    const res = await request(t.app).post('/csp-report').set('Content-Type', 'application/csp-report').send(JSON.stringify({ x: 'a'.repeat(20_000) }));
    expect(res.status).toBe(413);
  });
});

describe('behind an https proxy (PUBLIC_URL https, TRUST_PROXY set)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: 'https://helpdesk.test', TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => t.close());

  it('marks the session cookie Secure, sends HSTS, and takes the client IP from the proxy', async () => {
    const agent = await buildAgent(t.db);
    // The test client talks plain http and would not send a Secure cookie back, so carry it by hand.
    const page = await request(t.app).get('/scp/login').set('X-Forwarded-Proto', 'https');
    expect(page.headers['strict-transport-security']).toBeDefined();
    const first = scpCookie(page);
    expect(first).toMatch(/;\s*Secure/i);
    const token = $(page.text)('input[name=_csrf]').val() as string;
    const res = await request(t.app).post('/scp/login').set('Cookie', first.split(';')[0]).set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', '198.51.100.7')
      .type('form').send({ _csrf: token, login: agent.username, password: TEST_PASSWORD });
    expect(res.status).toBe(303);
    const cookie = scpCookie(res);
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*Path=\/scp;/i);
    const row = await t.db('audit_log').where({ action: 'login.success', entity_id: agent.id }).first();
    expect(row.ip).toBe('198.51.100.7');
  });
});
