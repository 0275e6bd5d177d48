/**
 * Per-IP limits counted before the session is read, by the statement that reads it
 * (limitsBeforeSession in src/web/shared/area.ts): the session and the settings come back with the
 * rate-limit hit, so a limited form costs no statement more than an unlimited one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sign } from 'cookie-signature';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, loginAsAgent } from '../support/http.ts';
import { statementsDuring, type Statement } from '../support/statements.ts';
import { buildAgent, TEST_PASSWORD } from '../factories/index.ts';

const isHit = (s: Statement) => /^insert into .rate_limits./i.test(s.sql);
/** A statement of its own that reads the sessions table (not a subquery of the hit). */
const isSessionRead = (s: Statement) => /^select/i.test(s.sql) && /from .sessions./i.test(s.sql);

describe('limits counted by the statement that reads the session', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('reads a limited form\'s session with its hit, and the session is the one the form was given', async () => {
    const c = client(t.app);
    const _csrf = await csrfFrom(c, '/tickets/status');
    const { result: res, statements } = await statementsDuring(t.db, () => c.post('/tickets/status').type('form').send({ _csrf, email: 'nobody@example.com', number: '999999' }));
    // Not 403: the CSRF token was found in the session read along.
    expect(res.status).toBe(422);
    expect(isHit(statements[0])).toBe(true);
    expect(statements[0].sql).toMatch(/returning[\s\S]*from .sessions./i);
    expect(statements.filter(isSessionRead)).toEqual([]);
    expect($(res.text)('input[name=email]').val()).toBe('nobody@example.com');
  });

  it('reads the portal user of the session along too (with the hit, as with the session\'s own read)', async () => {
    const c = client(t.app);
    // (The form posts multipart, its token in the action URL; posted urlencoded, the token goes in the body.)
    const form = await c.get('/tickets/new');
    const token = decodeURIComponent(/[?&]_csrf=([^"&]+)/.exec(form.text)![1]);
    const topicId = String($(form.text)('#f-topicId option[value!=""]').first().val());
    const opened = await c.post('/tickets').type('form').send({ _csrf: token, topicId, email: 'along@example.com', name: 'Al Ong', subject: 'Along', message: 'Read along' });
    expect(opened.status).toBe(303);
    const userRead = (s: Statement) => /^select/i.test(s.sql) && /from .users. where .id. = \?/i.test(s.sql);
    // A page: the session's own read brings its user.
    const { result: page, statements: pageStatements } = await statementsDuring(t.db, () => c.get('/tickets/status'));
    expect($(page.text)('a[href="/tickets"]').length).toBeGreaterThan(0); // "My tickets": the user was loaded
    expect(pageStatements.filter(userRead)).toEqual([]);
    // A limited form: the hit brings it.
    const _csrf = String($(page.text)('input[name=_csrf]').val());
    const { result: res, statements } = await statementsDuring(t.db, () => c.post('/tickets/status').type('form').send({ _csrf, email: 'nobody@example.com', number: '999999' }));
    expect(res.status).toBe(422);
    expect($(res.text)('a[href="/tickets"]').length).toBeGreaterThan(0);
    expect(statements.filter(userRead)).toEqual([]);
    expect(statements.filter(isSessionRead)).toEqual([]);
  });

  it('reads no session along for a cookie signed with another secret (express-session does not trust it either)', async () => {
    const form = await client(t.app).get('/tickets/status');
    const _csrf = String($(form.text)('input[name=_csrf]').val());
    // The session the form was given (its CSRF token in it), by its real id.
    const cookie = decodeURIComponent(/tessera_portal=([^;]+)/.exec(String(form.headers['set-cookie']))![1]);
    const sid = cookie.slice(2, cookie.lastIndexOf('.'));
    expect(await t.db('sessions').where({ sid }).first('sid')).toBeDefined();
    const forged = `tessera_portal=${encodeURIComponent(`s:${sign(sid, 'not the desk secret, but long enough')}`)}`;
    const { result: res, statements } = await statementsDuring(t.db, () => client(t.app).post('/tickets/status').set('Cookie', forged).type('form').send({ _csrf, email: 'nobody@example.com', number: '999999' }));
    expect(res.status).toBe(403);
    expect(isHit(statements[0])).toBe(true);
    expect(statements[0].sql).not.toMatch(/sessions/i);
  });

  it('reads a signed-in agent\'s session on its own (their access with it), not from the hit', async () => {
    const agent = await buildAgent(t.db, { username: 'limits-agent', role: 'agent' });
    const c = await loginAsAgent(t.app, agent.username, TEST_PASSWORD);
    const _csrf = await csrfFrom(c, '/scp/profile');
    const { result: res, statements } = await statementsDuring(t.db, () => c.post('/scp/login').type('form').send({ _csrf, login: agent.username, password: 'not the password!' }));
    expect(res.status).not.toBe(403);
    expect(statements.filter(isSessionRead)).toHaveLength(1);
    expect((await c.get('/scp/tickets')).status).toBe(200);
  });

  it('refuses past the limit with the area\'s own 429 page, its session read as usual', async () => {
    const c = client(t.app);
    const _csrf = await csrfFrom(c, '/scp/login');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await c.post('/scp/login').type('form').send({ _csrf, login: 'nobody', password: 'wrong password!' })).status);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const refused = await c.post('/scp/login').type('form').send({ _csrf, login: 'nobody', password: 'wrong password!' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    const page = $(refused.text);
    expect(page('title').text()).toMatch(/too many/i);
    expect(page('form[action="/scp/logout"]').length).toBe(0);
  });
});
