import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, loginAsAgent, submit, $, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, TEST_PASSWORD, type BuiltAgent } from '../factories/index.ts';
import { findAccessToken } from '../../src/domain/auth/access-tokens.ts';
import { verifyPassword } from '../../src/domain/auth/passwords.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

const base = '/scp/admin/agents';
let t: TestApp;
let admin: Client;
let me: BuiltAgent;

beforeAll(async () => {
  t = await startTestApp();
  me = await buildAdmin(t.db, { name: 'Ada Admin' });
  admin = await loginAsAgent(t.app, me.username, me.password);
});
afterAll(async () => t.close());

const post = (path: string, data: Record<string, string | string[]>, formPath = path) => submit(admin, formPath, path, data);
const action = (id: number, name: string) => submit(admin, `${base}/${id}`, `${base}/${id}/${name}`, {});
const row = (id: number) => t.db('agents').where({ id }).first();
const lastAudit = (action: string) => t.db('audit_log').where({ action }).orderBy('id', 'desc').first();

describe('agents: create', () => {
  it('creates an agent with an initial password, department access and teams; never stores it in clear', async () => {
    const dept = await buildDepartment(t.db);
    const extra = await buildDepartment(t.db);
    const [teamId] = await t.db('teams').insert({ name: 'Night shift', is_active: true, created_at: '2026-01-01 00:00:00.000', updated_at: '2026-01-01 00:00:00.000' });
    const res = await post(base, {
      name: 'John Smith', username: 'john', email: 'John@Example.com', role: 'agent', departmentId: String(dept),
      extraDepartmentIds: [String(extra), String(dept)], teamIds: String(teamId), password: 'a long initial password',
    }, `${base}/new`);
    expect(res.status).toBe(303);
    const agent = await t.db('agents').where({ username: 'john' }).first();
    expect(agent).toMatchObject({ email: 'john@example.com', department_id: dept, role: 'agent' });
    expect(agent.password_hash).not.toContain('a long initial password');
    expect(await verifyPassword('a long initial password', agent.password_hash)).toBe(true);
    expect(await t.db('departments_agents').where({ agent_id: agent.id }).pluck('department_id')).toEqual([extra]);
    expect(await t.db('teams_agents').where({ agent_id: agent.id }).pluck('team_id')).toEqual([teamId]);
    const audit = await lastAudit('agent.create');
    expect(audit.entity_id).toBe(agent.id);
    expect(audit.after).not.toContain('a long initial password');
    await loginAsAgent(t.app, 'john', 'a long initial password');
  });

  it('creates an agent with a reset link instead of a password (mailed, expiring in an hour)', async () => {
    const dept = await buildDepartment(t.db);
    const res = await post(base, { name: 'Jane Doe', username: 'jane', email: 'jane@example.com', role: 'agent', departmentId: String(dept), sendResetLink: 'on' }, `${base}/new`);
    expect(res.status).toBe(303);
    const agent = await t.db('agents').where({ username: 'jane' }).first();
    const mail = await t.db('outbox').where({ template: 'password-reset', to_address: 'jane@example.com' }).first();
    expect(mail).toBeDefined();
    const token = /\/scp\/password\/reset\?token=([A-Za-z0-9_%-]+)/.exec(mail.text_body)![1];
    expect(mail.text_body).toContain('http://helpdesk.test/scp/password/reset?token=');
    expect((await findAccessToken(t.db, 'password_reset', decodeURIComponent(token), t.clock(), false))?.agentId).toBe(agent.id);
    t.clock.advance(61 * 60_000);
    expect(await findAccessToken(t.db, 'password_reset', decodeURIComponent(token), t.clock(), false)).toBeNull();
  });

  it('requires a password or a reset link, keeps the input but never echoes the password', async () => {
    const res = await post(base, { name: 'No Pass', username: 'nopass', email: 'nopass@example.com', role: 'agent', departmentId: '' }, `${base}/new`);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('#e-password').length).toBe(1);
    expect(page('#e-departmentId').length).toBe(1);
    expect(page('#f-username').val()).toBe('nopass');
    const short = await post(base, { name: 'Short', username: 'short', email: 'short@example.com', role: 'agent', departmentId: String(me.actor.departmentId), password: 'tiny' }, `${base}/new`);
    expect(short.status).toBe(422);
    expect($(short.text)('#e-password').length).toBe(1);
    expect($(short.text)('#f-password').val()).toBe('');
    expect(short.text).not.toContain('value="tiny"');
  });

  it('refuses a taken username or email', async () => {
    const res = await post(base, { name: 'Dup', username: 'JOHN', email: 'other@example.com', role: 'agent', departmentId: String(me.actor.departmentId), password: 'a long initial password' }, `${base}/new`);
    expect(res.status).toBe(409);
    expect($(res.text)('#e-username').length).toBe(1);
    const res2 = await post(base, { name: 'Dup', username: 'dup2', email: 'JOHN@example.com', role: 'agent', departmentId: String(me.actor.departmentId), password: 'a long initial password' }, `${base}/new`);
    expect(res2.status).toBe(409);
  });
});

describe('agents: every problem at once', () => {
  const errorsOn = (html: string) => $(html)('.error-text[id^=e-]').map((_i, el) => $(html)(el).attr('id')!.slice(2)).get().sort();

  it('reports a taken username together with a bad email and password, keeping the input', async () => {
    const res = await post(base, { name: 'Again', username: 'john', email: 'x@', role: 'agent', departmentId: String(me.actor.departmentId), password: 'abc' }, `${base}/new`);
    expect(res.status).toBe(422);
    expect(errorsOn(res.text)).toEqual(['email', 'password', 'username']);
    expect($(res.text)('#form-errors li').length).toBe(3);
    expect($(res.text)('#f-username').val()).toBe('john');
    expect($(res.text)('#f-email').val()).toBe('x@');
    expect(await t.db('agents').where({ email: 'x@' }).first()).toBeUndefined();
  });

  it('reports both a taken username and a taken email (409 when nothing else is wrong)', async () => {
    const res = await post(base, { name: 'Again', username: 'john', email: 'john@example.com', role: 'agent', departmentId: String(me.actor.departmentId), password: 'a long initial password' }, `${base}/new`);
    expect(res.status).toBe(409);
    expect(errorsOn(res.text)).toEqual(['email', 'username']);
  });

  it('on edit: a taken username together with a bad email and an unknown department', async () => {
    const a = await buildAgent(t.db);
    const res = await post(`${base}/${a.id}`, { name: 'Renamed', username: 'john', email: 'not-an-email', role: 'agent', departmentId: String(a.actor.departmentId), extraDepartmentIds: '999999' });
    expect(res.status).toBe(422);
    expect(errorsOn(res.text)).toEqual(['email', 'extraDepartmentIds', 'username']);
    expect((await row(a.id)).username).toBe(a.username);
  });
});

describe('agents: the primary department among the extra ones', () => {
  const extraBox = (html: string, deptId: number) => $(html)(`#f-extraDepartmentIds input[value="${deptId}"]`);

  it('is shown checked and disabled, not offered again, on the edit form', async () => {
    const extra = await buildDepartment(t.db);
    const a = await buildAgent(t.db, { extraDepartmentIds: [extra] });
    const page = (await admin.get(`${base}/${a.id}`)).text;
    const primary = extraBox(page, a.actor.departmentId);
    expect(primary.attr('disabled')).toBeDefined();
    expect(primary.attr('checked')).toBeDefined();
    expect(primary.attr('name')).toBeUndefined();
    expect(primary.parent().text()).toContain('(primary department)');
    expect(extraBox(page, extra).attr('disabled')).toBeUndefined();
    expect(extraBox(page, extra).attr('checked')).toBeDefined();
  });

  it('on a new form shown again after an error, follows the primary department chosen', async () => {
    const dept = await buildDepartment(t.db);
    const res = await post(base, { name: 'New one', username: 'newone', email: 'bad@', role: 'agent', departmentId: String(dept), sendResetLink: 'on' }, `${base}/new`);
    expect(res.status).toBe(422);
    expect(extraBox(res.text, dept).attr('disabled')).toBeDefined();
    expect($((await admin.get(`${base}/new`)).text)('#f-extraDepartmentIds input[disabled]').length).toBe(0);
  });

  it('ticked anyway (an old form, a script), is saved once, as the primary only', async () => {
    const extra = await buildDepartment(t.db);
    const a = await buildAgent(t.db);
    const dept = String(a.actor.departmentId);
    const res = await post(`${base}/${a.id}`, { name: 'Ticked', username: a.username, email: a.email, role: 'agent', departmentId: dept, extraDepartmentIds: [dept, String(extra), dept] });
    expect(res.status).toBe(303);
    expect(await t.db('departments_agents').where({ agent_id: a.id }).pluck('department_id')).toEqual([extra]);
    expect(await row(a.id)).toMatchObject({ department_id: a.actor.departmentId });
  });
});

describe('agents: list', () => {
  it('is paginated, sorted by name and searchable', async () => {
    await t.db('settings').insert({ key: 'page_size', value: '10', updated_at: '2026-01-01 00:00:00.000' });
    for (let i = 0; i < 12; i++) await buildAgent(t.db, { name: `Zz Agent ${String(i).padStart(2, '0')}` });
    const first = $((await admin.get(base)).text);
    expect(first('tbody tr').length).toBe(10);
    expect(first('nav.pagination a[rel=next]').attr('href')).toBe(`${base}?page=2`);
    const names = first('tbody tr td:first-child').map((_i, el) => first(el).text().trim()).get();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    const second = $((await admin.get(`${base}?page=2`)).text);
    expect(second('tbody tr').length).toBeGreaterThan(0);
    const found = $((await admin.get(`${base}?q=john`)).text);
    expect(found('tbody tr').length).toBe(1);
    const none = $((await admin.get(`${base}?q=nobody-here`)).text);
    expect(none('.empty').length).toBe(1);
  });
});

describe('agents: edit, lock, disable, delete', () => {
  it('updates role and access and records the change', async () => {
    const a = await buildAgent(t.db);
    const res = await post(`${base}/${a.id}`, { name: 'Promoted', username: a.username, email: a.email, role: 'admin', departmentId: String(a.actor.departmentId) });
    expect(res.status).toBe(303);
    expect(await row(a.id)).toMatchObject({ role: 'admin', name: 'Promoted' });
    const audit = await lastAudit('agent.update');
    expect(JSON.parse(audit.before)).toMatchObject({ role: 'agent' });
    expect(JSON.parse(audit.after)).toMatchObject({ role: 'admin', name: 'Promoted' });
    await post(`${base}/${a.id}`, { name: 'Promoted', username: a.username, email: a.email, role: 'agent', departmentId: String(a.actor.departmentId) });
  });

  it('shows last sign-in and lock dates in the help desk’s time zone, as agent pages show them', async () => {
    const a = await buildAgent(t.db, { name: 'Tz Berliner', last_login_at: '2026-11-28 23:01:25.659', locked_until: '2998-07-01 08:15:00.000' });
    await writeSettings(t.db, { timezone: 'Europe/Berlin' }, new Date());
    try {
      const list = $((await admin.get(`${base}?q=Berliner`)).text);
      expect(list(`tr:has(a[href="${base}/${a.id}"]) td[data-label="Last sign-in"]`).text()).toBe('2026-11-29 00:01 GMT+1');
      const page = $((await admin.get(`${base}/${a.id}`)).text);
      expect(page('.admin-facts dt:contains("Last sign-in") + dd').text()).toBe('2026-11-29 00:01 GMT+1');
      expect(page('.admin-facts dt:contains("Locked until") + dd').text()).toBe('2998-07-01 10:15 GMT+2');
    } finally {
      await writeSettings(t.db, { timezone: 'UTC' }, new Date());
    }
  });

  it('unlocks an agent locked out by failed sign-ins', async () => {
    const a = await buildAgent(t.db, { failed_logins: 3, locked_until: '2999-01-01 00:00:00.000' });
    const page = $((await admin.get(`${base}/${a.id}`)).text);
    expect(page(`form[action="${base}/${a.id}/unlock"]`).length).toBe(1);
    expect((await action(a.id, 'unlock')).status).toBe(303);
    expect(await row(a.id)).toMatchObject({ locked_until: null, failed_logins: 0 });
    expect((await lastAudit('agent.unlock')).entity_id).toBe(a.id);
    await loginAsAgent(t.app, a.username, TEST_PASSWORD);
  });

  it('locks an agent (ending their sessions) until unlocked', async () => {
    const a = await buildAgent(t.db);
    const session = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
    expect((await action(a.id, 'lock')).status).toBe(303);
    expect((await session.get('/scp')).status).toBe(303);
    const res = await submit(client(t.app), '/scp/login', '/scp/login', { login: a.username, password: TEST_PASSWORD });
    expect(res.status).toBe(401);
  });

  it('disables an agent (signed out, cannot sign in) and enables again', async () => {
    const a = await buildAgent(t.db);
    const session = await loginAsAgent(t.app, a.username, TEST_PASSWORD);
    expect((await action(a.id, 'disable')).status).toBe(303);
    expect(Boolean((await row(a.id)).is_active)).toBe(false);
    expect((await session.get('/scp')).status).toBe(303);
    expect((await action(a.id, 'enable')).status).toBe(303);
    await loginAsAgent(t.app, a.username, TEST_PASSWORD);
  });

  it('sends a password-reset link from the edit page', async () => {
    const a = await buildAgent(t.db);
    expect((await action(a.id, 'reset-password')).status).toBe(303);
    const mail = await t.db('outbox').where({ template: 'password-reset', to_address: a.email }).first();
    expect(mail).toBeDefined();
    // Automatic mail, as the self-service reset: no out-of-office answers to it (RFC 3834).
    expect(JSON.parse(mail.headers)).toMatchObject({ 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply' });
    expect(await t.db('access_tokens').where({ agent_id: a.id, kind: 'password_reset' }).first()).toBeDefined();
    expect((await lastAudit('agent.password_reset_sent')).entity_id).toBe(a.id);
  });

  it('deletes an agent without history, refuses one with tickets (offering disable)', async () => {
    const fresh = await buildAgent(t.db);
    await t.db('departments').where({ id: fresh.actor.departmentId }).update({ manager_agent_id: fresh.id });
    expect((await action(fresh.id, 'delete')).status).toBe(303);
    expect(await row(fresh.id)).toBeUndefined();
    expect((await t.db('departments').where({ id: fresh.actor.departmentId }).first()).manager_agent_id).toBeNull();
    const busy = await buildAgent(t.db);
    await buildTicket(t.db, { assignee_agent_id: busy.id });
    const res = await action(busy.id, 'delete');
    expect(res.status).toBe(409);
    expect($(res.text)(`form[action="${base}/${busy.id}/disable"]`).length).toBe(1);
    expect(await row(busy.id)).toBeDefined();
  });
});

describe('the last active administrator', () => {
  it('cannot be demoted, locked, disabled or deleted', async () => {
    await t.db('agents').where('role', 'admin').whereNot('id', me.id).update({ role: 'agent' });
    const other = await buildAdmin(t.db);
    const otherClient = await loginAsAgent(t.app, other.username, other.password);
    // An admin cannot disable their own account…
    expect((await submit(otherClient, `${base}/${other.id}`, `${base}/${other.id}/disable`, {})).status).toBe(409);
    expect(Boolean((await row(other.id)).is_active)).toBe(true);
    // …but another admin can; that leaves `me` as the last active administrator.
    expect((await action(other.id, 'disable')).status).toBe(303);
    const demote = await post(`${base}/${me.id}`, { name: 'Ada Admin', username: me.username, email: me.email, role: 'agent', departmentId: String(me.actor.departmentId) });
    expect(demote.status).toBe(409);
    expect($(demote.text)('#e-role').length).toBe(1);
    expect($(demote.text)('#f-name').val()).toBe('Ada Admin');
    const demoteAndMore = await post(`${base}/${me.id}`, { name: 'Ada Admin', username: me.username, email: 'bad@', role: 'agent', departmentId: String(me.actor.departmentId) });
    expect(demoteAndMore.status).toBe(422);
    expect($(demoteAndMore.text)('#e-role').length).toBe(1);
    expect($(demoteAndMore.text)('#e-email').length).toBe(1);
    for (const name of ['lock', 'disable', 'delete']) expect((await action(me.id, name)).status, name).toBe(409);
    const after = await row(me.id);
    expect(after).toMatchObject({ role: 'admin', locked_until: null });
    expect(Boolean(after.is_active)).toBe(true);
  });

  it('a locked admin does not count as active', async () => {
    const second = await buildAdmin(t.db, { locked_until: '2999-01-01 00:00:00.000' });
    expect((await action(me.id, 'disable')).status).toBe(409);
    await t.db('agents').where({ id: second.id }).update({ locked_until: null });
  });
});
