/**
 * The CSRF token is made (and stored in a session) only when a page with a form asks for it: pages
 * without forms give anonymous visitors no session cookie and write no `sessions` row, so browsing
 * (or a crawler) costs no database write per page view. Pages with forms still do, and the token
 * they carry still guards their POST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';

describe('CSRF token on demand', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());
  const sessions = async () => Number((await t.db('sessions').count({ n: '*' }))[0].n);

  it('serves the portal home to an anonymous visitor without a session', async () => {
    const before = await sessions();
    const res = await request(t.app).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessions()).toBe(before);
  });

  it('starts a session for a page with a form, and its token guards the POST', async () => {
    const agent = request.agent(t.app);
    const before = await sessions();
    const form = await agent.get('/tickets/new');
    expect(form.status).toBe(200);
    expect(String(form.headers['set-cookie'])).toMatch(/=/);
    expect(await sessions()).toBe(before + 1);
    const token = /[?&]_csrf=([^"&]+)/.exec(form.text)?.[1];
    expect(token).toBeTruthy();
    // Without the token the same session's POST is refused; the page's token is the session's.
    const refused = await agent.post('/tickets/status').type('form').send({ email: 'a@b.test', number: '123456' });
    expect(refused.status).toBe(403);
    const again = await agent.get('/tickets/new');
    expect(/[?&]_csrf=([^"&]+)/.exec(again.text)?.[1]).toBe(token);
  });
});
