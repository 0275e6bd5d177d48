/**
 * Flash messages ("Your reply was posted.") travel to the next page in a signed cookie of the area,
 * not in the session: no session write to show one, none kept for a visitor without a session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import request from 'supertest';
import crypto from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent } from '../support/http.ts';
import { buildAgent } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { flash, FLASH_MAX } from '../../src/web/shared/render.ts';
import { signedCookies } from '../../src/web/shared/session.ts';
import type { AppDeps } from '../../src/web/shared/deps.ts';

const BAD_LINK = 'That link is not valid or has expired.';
const messagesOn = (html: string) => $(html)('.flash').map((_, e) => $(html)(e).text()).get();
/** The response's Set-Cookie headers, one per line. */
const setCookies = (res: { headers: Record<string, unknown> }) => ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).join('\n');
const sessionRows = (t: TestApp) => t.db('sessions').count({ n: '*' }).then((r) => Number(r[0].n));

describe('flash messages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t?.close());

  it('shows a message on the next page only, without a session for a visitor who has none', async () => {
    const c = client(t.app);
    const before = await sessionRows(t);
    const res = await c.get('/tickets/access?token=not-a-token');
    expect(res.status).toBe(303);
    expect(setCookies(res)).toMatch(/tessera_portal_flash=s%3A.*; Path=\/; Expires=.*; HttpOnly; SameSite=Lax/);
    expect(setCookies(res)).not.toContain('tessera_portal=');
    expect(await sessionRows(t)).toBe(before);
    const next = await c.get('/tickets/status');
    expect(messagesOn(next.text).some((m) => m.includes(BAD_LINK))).toBe(true);
    expect(setCookies(next)).toMatch(/tessera_portal_flash=; Path=\/; Expires=Thu, 01 Jan 1970/);
    expect(messagesOn((await c.get('/tickets/status')).text).some((m) => m.includes(BAD_LINK))).toBe(false);
  });

  it('keeps a message once however often it is queued before a page is loaded', async () => {
    const c = client(t.app);
    for (let i = 0; i < 8; i++) expect((await c.get('/tickets/access?token=x' + i)).status).toBe(303);
    expect(messagesOn((await c.get('/tickets/status')).text).filter((m) => m.includes(BAD_LINK))).toHaveLength(1);
  });

  it('ignores a flash cookie that is not signed with its key (derived from the session secret, not the secret itself)', async () => {
    const json = JSON.stringify([{ type: 'error', message: 'Your account is locked, call +1 555 0100' }]);
    for (const forged of [`j%3A${encodeURIComponent(json)}`, encodeURIComponent(json), `s%3A${encodeURIComponent(`${json}.${crypto.createHmac('sha256', 'x'.repeat(40)).update(json).digest('base64').replace(/=+$/, '')}`)}`]) {
      const res = await request(t.app).get('/tickets/status').set('Cookie', `tessera_portal_flash=${forged}`);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('call +1 555 0100');
    }
  });

  it('signs out of the portal without leaving a session behind, and says so', async () => {
    const ticket = await openTicket(t.ctx(ANONYMOUS), { email: 'fay@example.com', name: 'Fay', subject: 'Printer', message: 'It jams' });
    const c = client(t.app);
    const form = $((await c.get('/tickets/status')).text);
    const opened = await c.post('/tickets/status').type('form').send({ _csrf: String(form('input[name=_csrf]').first().val()), email: 'fay@example.com', number: ticket.number });
    expect(opened.status).toBe(303);
    const page = $((await c.get(opened.headers.location)).text);
    const before = await sessionRows(t);
    const out = await c.post('/logout').type('form').send({ _csrf: String(page('form[action="/logout"] input[name=_csrf]').val()) });
    expect(out.status).toBe(303);
    expect(await sessionRows(t)).toBe(before - 1);
    const home = await c.get('/');
    expect(messagesOn(home.text)).toContain('You have signed out.');
    expect((await c.get(`/tickets/${ticket.number}`)).status).toBe(303);
    expect(await sessionRows(t)).toBe(before - 1);
  });

  it("posts an agent's reply without writing the session, and the ticket page shows the message once", async () => {
    const agent = await buildAgent(t.db, { name: 'Ida', username: 'ida', role: 'admin' });
    const c = await loginAsAgent(t.app, agent.username, agent.password);
    const ticket = await openTicket(t.ctx(ANONYMOUS), { email: 'gus@example.com', name: 'Gus', subject: 'VPN', message: 'No VPN' });
    const page = $((await c.get(`/scp/tickets/${ticket.id}`)).text);
    const form = page(`form[action^="/scp/tickets/${ticket.id}/reply"]`).first();
    const data = { _csrf: String(page('input[name=_csrf]').first().val()), version: String(form.find('input[name=version]').val()), seen: String(form.find('input[name=seen]').val()) };
    const rowsBefore = await t.db('sessions').whereNotNull('agent_id').select('sid', 'sess', 'expires_at');
    const res = await c.post(`/scp/tickets/${ticket.id}/reply`).type('form').send({ ...data, message: 'Reconnect please', notifyUser: 'user', status: '' });
    expect(res.status).toBe(303);
    expect(setCookies(res)).toMatch(/tessera_scp_flash=s%3A.*; Path=\/scp;/);
    expect(await t.db('sessions').whereNotNull('agent_id').select('sid', 'sess', 'expires_at')).toEqual(rowsBefore);
    const shown = messagesOn((await c.get(`/scp/tickets/${ticket.id}`)).text);
    expect(shown.filter((m) => /reply/i.test(m))).toHaveLength(1);
    expect(messagesOn((await c.get(`/scp/tickets/${ticket.id}`)).text).filter((m) => /reply/i.test(m))).toHaveLength(0);
    // The portal's cookie is not the agent panel's: a portal message is not shown in /scp.
    const mixed = await c.get('/scp/tickets').set('Cookie', (await client(t.app).get('/tickets/access?token=y')).headers['set-cookie'][0].split(';')[0]);
    expect(mixed.text).not.toContain(BAD_LINK);
  });
});

describe('flash: at most the newest few wait', () => {
  const deps = { config: { sessionSecret: 's'.repeat(40), publicUrl: 'https://helpdesk.test' } } as unknown as AppDeps;
  const app = express();
  app.use(signedCookies(deps));
  app.get('/many', (req, res) => {
    res.locals.area = 'scp';
    for (let i = 1; i <= 12; i++) flash(req, 'info', `message ${i}`);
    flash(req, 'info', 'message 9');
    res.json(res.locals.flashQueued);
  });

  it(`keeps the newest ${FLASH_MAX} in the order they came (a repeated one moves to the end), in one Secure cookie`, async () => {
    const res = await request(app).get('/many');
    expect(res.body.map((f: { message: string }) => f.message)).toEqual(['message 8', 'message 10', 'message 11', 'message 12', 'message 9']);
    const cookies: string[] = res.headers['set-cookie'] as unknown as string[];
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^tessera_scp_flash=s%3A.*; Path=\/scp; Expires=.*; HttpOnly; Secure; SameSite=Lax$/);
  });
});
