import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { loginAsAgent, submit, $, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildPriority, buildSlaPlan, buildTicket, buildTopic } from '../factories/index.ts';
import { getSettings } from '../../src/domain/settings/settings-service.ts';

let t: TestApp;
let admin: Client;
let adminId: number;

beforeAll(async () => {
  t = await startTestApp();
  const a = await buildAdmin(t.db);
  adminId = a.id;
  admin = await loginAsAgent(t.app, a.username, a.password);
});
afterAll(async () => t.close());

async function lastAudit(action: string) {
  return t.db('audit_log').where({ action }).orderBy('id', 'desc').first();
}
async function post(path: string, data: Record<string, string | string[]>, formPath = path) {
  return submit(admin, formPath, path, data);
}
async function action(base: string, id: number, name: string) {
  return submit(admin, `${base}/${id}`, `${base}/${id}/${name}`, {});
}

/** The fields a re-shown form marks as wrong, sorted. */
function errorsOn(html: string): string[] {
  const page = $(html);
  return page('.error-text[id^=e-]').map((_i, el) => page(el).attr('id')!.slice(2)).get().sort();
}

describe('every problem of a form at once (a taken name is not kept for a second round)', () => {
  it.each([
    ['departments', { name: 'support', emailAddress: 'not-an-email', managerId: '999999' }, ['emailAddress', 'managerId', 'name']],
    ['sla-plans', { name: 'Default SLA', grace: 'soon', scheduleId: '999999' }, ['grace', 'name', 'scheduleId']],
    ['help-topics', { name: 'Billing', departmentId: '999999', priorityId: 'x' }, ['departmentId', 'name', 'priorityId']],
    ['priorities', { name: 'emergency', urgency: '0', color: 'red' }, ['color', 'name', 'urgency']],
    ['teams', { name: 'Taken team', leadId: '999999' }, ['leadId', 'name']],
    ['schedules', { name: '', kind: 'business', timezone: 'UTC', span_1: '09:00-17:00, 16:00-18:00', holidays: 'Christmas' }, ['holidays', 'name', 'span_1']],
    ['schedules', { name: 'Taken schedule', kind: 'business', timezone: 'Mars/Olympus', span_1: 'nine to five', holidays: '2026-02-30 Nope' }, ['holidays', 'name', 'span_1', 'timezone']],
  ])('%s', async (path, data, expected) => {
    if (path === 'teams') await t.db('teams').insert({ name: 'Taken team', is_active: true, created_at: '2026-01-01 00:00:00.000', updated_at: '2026-01-01 00:00:00.000' });
    if (data.name === 'Taken schedule') await submit(admin, '/scp/admin/schedules/new', '/scp/admin/schedules', { name: 'Taken schedule', kind: '24x7' });
    if (path === 'help-topics') await buildTopic(t.db, { name: 'Billing' });
    const base = `/scp/admin/${path}`;
    const before = await t.db(path === 'help-topics' ? 'help_topics' : path.replace('-', '_')).count({ n: '*' });
    const res = await post(base, data, `${base}/new`);
    expect(res.status).toBe(422);
    expect(errorsOn(res.text)).toEqual(expected);
    for (const [k, v] of Object.entries(data)) if (!k.endsWith('Id') && k !== 'kind' && k !== 'timezone') expect($(res.text)(`#f-${k}`).val(), k).toBe(v);
    expect(await t.db(path === 'help-topics' ? 'help_topics' : path.replace('-', '_')).count({ n: '*' })).toEqual(before);
  });

  it('on edit too (a department renamed to a taken name with a bad address)', async () => {
    const id = await buildDepartment(t.db);
    const res = await post(`/scp/admin/departments/${id}`, { name: 'Support', emailAddress: 'nope' });
    expect(res.status).toBe(422);
    expect(errorsOn(res.text)).toEqual(['emailAddress', 'name']);
  });
});

describe('admin index', () => {
  it('links every section, including mail log and API keys', async () => {
    const res = await admin.get('/scp/admin');
    expect(res.status).toBe(200);
    const page = $(res.text);
    for (const href of ['settings', 'agents', 'teams', 'departments', 'help-topics', 'sla-plans', 'schedules', 'priorities', 'mail', 'api-keys', 'audit'])
      expect(page(`a[href="/scp/admin/${href}"]`).length, href).toBe(1);
  });
});

describe('departments', () => {
  const base = '/scp/admin/departments';

  it('lists departments sorted by name', async () => {
    await buildDepartment(t.db, { name: 'Zeta desk' });
    await buildDepartment(t.db, { name: 'Alpha desk' });
    const res = await admin.get(base);
    expect(res.status).toBe(200);
    const names = $(res.text)('table.admin-list tbody tr td:first-child').map((_i, el) => $(res.text)(el).text().trim()).get();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(names).toContain('Support');
  });

  it('creates a department with SLA, manager, email identity and members, and audits it', async () => {
    const plan = await buildSlaPlan(t.db, { name: 'Dept plan' });
    const member = await buildAgent(t.db);
    const res = await post(base, { name: 'Online Banking', slaPlanId: String(plan), managerId: String(adminId), isPublic: 'on', emailAddress: 'Banking@Example.com', emailName: 'Banking team', memberIds: [String(member.id)] }, `${base}/new`);
    expect(res.status).toBe(303);
    const row = await t.db('departments').where({ name: 'Online Banking' }).first();
    expect(res.headers.location).toBe(`${base}/${row.id}`);
    expect(row).toMatchObject({ sla_plan_id: plan, manager_agent_id: adminId, email_address: 'banking@example.com', email_name: 'Banking team' });
    expect(await t.db('departments_agents').where({ department_id: row.id }).pluck('agent_id')).toEqual([member.id]);
    const audit = await lastAudit('department.create');
    expect(audit).toMatchObject({ entity: 'department', entity_id: row.id, agent_id: adminId });
    expect(JSON.parse(audit.after)).toMatchObject({ name: 'Online Banking', memberIds: [member.id] });
    const edit = $((await admin.get(`${base}/${row.id}`)).text);
    expect(edit('#f-name').val()).toBe('Online Banking');
    expect(edit(`input[name=memberIds][value="${member.id}"]`).attr('checked')).toBeDefined();
  });

  it('shows the agents whose primary department it is as included, not as extra access to tick; ticked anyway, none is stored', async () => {
    const dept = await buildDepartment(t.db, { name: 'Field Service' });
    const own = await buildAgent(t.db, { department_id: dept, name: 'Fiona Field' });
    const other = await buildAgent(t.db, { name: 'Oscar Other' });
    const edit = $((await admin.get(`${base}/${dept}`)).text);
    const box = (id: number) => edit(`#f-memberIds input[value="${id}"]`);
    expect(box(own.id).is(':disabled')).toBe(true);
    expect(box(own.id).attr('checked')).toBeDefined();
    expect(box(own.id).attr('name')).toBeUndefined();
    expect(box(own.id).parent().text()).toContain('(primary department)');
    expect(box(other.id).is(':disabled')).toBe(false);
    // An old form (or a script) that sends the primary agent among the members: stored as primary only.
    const res = await post(`${base}/${dept}`, { name: 'Field Service', memberIds: [String(own.id), String(other.id)] }, `${base}/${dept}`);
    expect(res.status).toBe(303);
    expect(await t.db('departments_agents').where({ department_id: dept }).pluck('agent_id')).toEqual([other.id]);
  });

  it('keeps the input and shows errors for an invalid form', async () => {
    const res = await post(base, { name: '', emailAddress: 'not-an-email', emailName: 'Kept name' }, `${base}/new`);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('#e-name').length).toBe(1);
    expect(page('#e-emailAddress').length).toBe(1);
    expect(page('#f-emailAddress').val()).toBe('not-an-email');
    expect(page('#f-emailName').val()).toBe('Kept name');
  });

  it('names the "From name" field as the form labels it', async () => {
    const res = await post(base, { name: 'Long sender', emailName: 'x'.repeat(121) }, `${base}/new`);
    expect(res.status).toBe(422);
    expect($(res.text)('label[for="f-emailName"]').text()).toBe('From name');
    expect($(res.text)('#e-emailName').text()).toMatch(/^From name /);
  });

  it('refuses a duplicate name (case-insensitive) as a form error', async () => {
    const res = await post(base, { name: 'support' }, `${base}/new`);
    expect(res.status).toBe(409);
    expect($(res.text)('#e-name').length).toBe(1);
    expect($(res.text)('#f-name').val()).toBe('support');
  });

  it('updates a department and records before/after', async () => {
    const id = await buildDepartment(t.db, { name: 'Old name' });
    const res = await post(`${base}/${id}`, { name: 'New name', isPublic: '' });
    expect(res.status).toBe(303);
    expect(await t.db('departments').where({ id }).first()).toMatchObject({ name: 'New name' });
    const audit = await lastAudit('department.update');
    expect(JSON.parse(audit.before)).toMatchObject({ name: 'Old name', isPublic: true });
    expect(JSON.parse(audit.after)).toMatchObject({ name: 'New name', isPublic: false });
  });

  it('disables and enables a department', async () => {
    const id = await buildDepartment(t.db);
    expect((await action(base, id, 'disable')).status).toBe(303);
    expect(Boolean((await t.db('departments').where({ id }).first()).is_active)).toBe(false);
    expect((await lastAudit('department.disable')).entity_id).toBe(id);
    expect((await action(base, id, 'enable')).status).toBe(303);
    expect(Boolean((await t.db('departments').where({ id }).first()).is_active)).toBe(true);
  });

  it('deletes an unused department, with confirmation on the form', async () => {
    const id = await buildDepartment(t.db);
    const page = $((await admin.get(`${base}/${id}`)).text);
    expect(page(`form[action="${base}/${id}/delete"]`).attr('data-confirm')).toBeTruthy();
    expect((await action(base, id, 'delete')).headers.location).toBe(base);
    expect(await t.db('departments').where({ id }).first()).toBeUndefined();
    expect((await lastAudit('department.delete')).entity_id).toBe(id);
  });

  it('refuses to delete a department still in use and offers to disable it', async () => {
    const id = await buildDepartment(t.db);
    await buildTicket(t.db, { department_id: id });
    const res = await action(base, id, 'delete');
    expect(res.status).toBe(409);
    expect($(res.text)('#problem').text()).toMatch(/ticket/);
    expect($(res.text)(`form[action="${base}/${id}/disable"]`).length).toBe(1);
    expect(await t.db('departments').where({ id }).first()).toBeDefined();
  });

  it('refuses to disable or delete the default department', async () => {
    const { default_department_id: id } = await getSettings(t.db);
    expect((await action(base, id!, 'disable')).status).toBe(409);
    expect((await action(base, id!, 'delete')).status).toBe(409);
    expect(Boolean((await t.db('departments').where({ id }).first()).is_active)).toBe(true);
  });

  it('answers 404 for an unknown department', async () => {
    expect((await admin.get(`${base}/999999`)).status).toBe(404);
    expect((await admin.get(`${base}/abc`)).status).toBe(404);
  });
});

describe('SLA plans', () => {
  const base = '/scp/admin/sla-plans';

  it('creates a plan with grace in hours and minutes', async () => {
    const res = await post(base, { name: 'Sev-A', grace: '1:30', alertsEnabled: 'on' }, `${base}/new`);
    expect(res.status).toBe(303);
    expect(await t.db('sla_plans').where({ name: 'Sev-A' }).first()).toMatchObject({ grace_minutes: 90 });
    await post(base, { name: 'Sev-B', grace: '4.5' }, `${base}/new`);
    const b = await t.db('sla_plans').where({ name: 'Sev-B' }).first();
    expect(b).toMatchObject({ grace_minutes: 270 });
    expect(Boolean(b.alerts_disabled)).toBe(true);
    expect($((await admin.get(`${base}/${b.id}`)).text)('#f-grace').val()).toBe('4:30');
    expect((await lastAudit('sla_plan.create')).entity_id).toBe(b.id);
  });

  it('keeps the input on a bad grace period', async () => {
    const res = await post(base, { name: 'Bad plan', grace: 'soon' }, `${base}/new`);
    expect(res.status).toBe(422);
    expect($(res.text)('#e-grace').length).toBe(1);
    expect($(res.text)('#f-name').val()).toBe('Bad plan');
    expect($(res.text)('#f-grace').val()).toBe('soon');
  });

  it('refuses a duplicate name', async () => {
    expect((await post(base, { name: 'Default SLA', grace: '2' }, `${base}/new`)).status).toBe(409);
  });

  it('updates, and refuses to delete a plan in use or the default', async () => {
    const id = await buildSlaPlan(t.db);
    expect((await post(`${base}/${id}`, { name: 'Renamed plan', grace: '8' })).status).toBe(303);
    expect(await t.db('sla_plans').where({ id }).first()).toMatchObject({ name: 'Renamed plan', grace_minutes: 480 });
    await buildTopic(t.db, { sla_plan_id: id });
    expect((await action(base, id, 'delete')).status).toBe(409);
    const def = (await getSettings(t.db)).default_sla_plan_id!;
    expect((await action(base, def, 'disable')).status).toBe(409);
    expect((await action(base, def, 'delete')).status).toBe(409);
    const unused = await buildSlaPlan(t.db);
    expect((await action(base, unused, 'delete')).status).toBe(303);
  });
});

describe('schedules', () => {
  const base = '/scp/admin/schedules';

  it('creates business hours with a time zone, spans and holidays', async () => {
    const res = await post(base, {
      name: 'Office hours', kind: 'business', timezone: 'Europe/Berlin', span_1: '09:00-17:00', span_2: '9:00-12:00, 13:00-17:00', span_5: '22:00-06:00',
      holidays: '2026-12-25 Christmas\n2026-12-24 12:00-24:00 Christmas Eve',
    }, `${base}/new`);
    expect(res.status).toBe(303);
    const row = await t.db('schedules').where({ name: 'Office hours' }).first();
    expect(row).toMatchObject({ kind: 'business', timezone: 'Europe/Berlin' });
    expect(await t.db('schedule_entries').where({ schedule_id: row.id }).count({ n: '*' })).toEqual([{ n: 4 }]);
    const hol = await t.db('schedule_holidays').where({ schedule_id: row.id }).orderBy('date');
    expect(hol.map((h: any) => [h.date, h.start_time, h.end_time, h.name])).toEqual([['2026-12-24', '12:00', '24:00', 'Christmas Eve'], ['2026-12-25', null, null, 'Christmas']]);
    const edit = $((await admin.get(`${base}/${row.id}`)).text);
    expect(edit('#f-span_2').val()).toBe('09:00-12:00, 13:00-17:00');
    expect((await lastAudit('schedule.create')).entity_id).toBe(row.id);
  });

  it('validates with validateSchedule and keeps the input', async () => {
    const res = await post(base, { name: 'Broken', kind: 'business', timezone: 'UTC', span_1: '09:00-17:00, 16:00-18:00', span_3: '25:00-26:00', holidays: '2026-02-30 Nope' }, `${base}/new`);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page('#e-span_1').text()).toMatch(/overlap/);
    expect(page('#e-span_3').length).toBe(1);
    expect(page('#e-holidays').length).toBe(1);
    expect(page('#f-span_1').val()).toBe('09:00-17:00, 16:00-18:00');
    expect(await t.db('schedules').where({ name: 'Broken' }).first()).toBeUndefined();
  });

  it('refuses business hours without a span and an unknown time zone', async () => {
    const res = await post(base, { name: 'Empty', kind: 'business', timezone: 'Mars/Olympus', span_1: '09:00-17:00' }, `${base}/new`);
    expect(res.status).toBe(422);
    expect($(res.text)('#e-timezone').length).toBe(1);
    expect((await post(base, { name: 'Empty', kind: 'business', timezone: 'UTC' }, `${base}/new`)).status).toBe(422);
  });

  it('creates a 24/7 schedule and refuses to delete one an SLA plan uses', async () => {
    expect((await post(base, { name: 'Always', kind: '24x7' }, `${base}/new`)).status).toBe(303);
    const id = (await t.db('schedules').where({ name: 'Always' }).first()).id;
    await buildSlaPlan(t.db, { schedule_id: id });
    expect((await action(base, id, 'delete')).status).toBe(409);
    expect((await action(base, id, 'disable')).status).toBe(303);
  });
});

describe('help topics', () => {
  const base = '/scp/admin/help-topics';

  it('creates an internal topic with routing, and edits it', async () => {
    const dept = await buildDepartment(t.db);
    const prio = await buildPriority(t.db);
    const res = await post(base, { name: 'Adobe upgrade', departmentId: String(dept), priorityId: String(prio) }, `${base}/new`);
    expect(res.status).toBe(303);
    const row = await t.db('help_topics').where({ name: 'Adobe upgrade' }).first();
    expect(row).toMatchObject({ department_id: dept, priority_id: prio, sla_plan_id: null });
    expect(Boolean(row.is_public)).toBe(false);
    expect((await post(`${base}/${row.id}`, { name: 'Adobe upgrade', isPublic: 'on' })).status).toBe(303);
    expect(Boolean((await t.db('help_topics').where({ id: row.id }).first()).is_public)).toBe(true);
    expect((await lastAudit('help_topic.update')).entity_id).toBe(row.id);
  });

  it('refuses a department that does not exist, keeping the input', async () => {
    const res = await post(base, { name: 'Ghost topic', departmentId: '999999' }, `${base}/new`);
    expect(res.status).toBe(422);
    expect($(res.text)('#e-departmentId').length).toBe(1);
    expect($(res.text)('#f-name').val()).toBe('Ghost topic');
  });

  it('refuses to delete a topic with tickets, deletes an unused one', async () => {
    const used = await buildTopic(t.db);
    await buildTicket(t.db, { topic_id: used });
    expect((await action(base, used, 'delete')).status).toBe(409);
    const unused = await buildTopic(t.db);
    expect((await action(base, unused, 'delete')).status).toBe(303);
  });
});

describe('priorities', () => {
  const base = '/scp/admin/priorities';

  it('creates, validates and updates priorities', async () => {
    expect((await post(base, { name: 'Critical', urgency: '1', color: '#ff0000' }, `${base}/new`)).status).toBe(303);
    expect(await t.db('priorities').where({ name: 'Critical' }).first()).toMatchObject({ urgency: 1, color: '#FF0000' });
    const bad = await post(base, { name: 'Odd', urgency: 'x', color: 'red' }, `${base}/new`);
    expect(bad.status).toBe(422);
    expect($(bad.text)('#e-urgency').length).toBe(1);
    expect($(bad.text)('#e-color').length).toBe(1);
    expect($(bad.text)('#f-name').val()).toBe('Odd');
    expect((await post(base, { name: 'critical', urgency: '2', color: '#00ff00' }, `${base}/new`)).status).toBe(409);
  });

  it('lists the most urgent first', async () => {
    const names = $((await admin.get(base)).text)('tbody tr td:first-child').map((_i, el) => $('')(el).text().trim()).get();
    expect(names.indexOf('Emergency')).toBeLessThan(names.indexOf('Low'));
  });

  it('refuses to delete or disable the default priority, and one in use', async () => {
    const def = (await getSettings(t.db)).default_priority_id!;
    expect((await action(base, def, 'delete')).status).toBe(409);
    expect((await action(base, def, 'disable')).status).toBe(409);
    const used = await buildPriority(t.db);
    await buildTopic(t.db, { priority_id: used });
    expect((await action(base, used, 'delete')).status).toBe(409);
  });
});

describe('teams', () => {
  const base = '/scp/admin/teams';

  it('creates a team with a lead (always a member) and members', async () => {
    const lead = await buildAgent(t.db);
    const member = await buildAgent(t.db);
    expect((await post(base, { name: 'Level 2', leadId: String(lead.id), memberIds: String(member.id) }, `${base}/new`)).status).toBe(303);
    const team = await t.db('teams').where({ name: 'Level 2' }).first();
    expect(team.lead_agent_id).toBe(lead.id);
    expect((await t.db('teams_agents').where({ team_id: team.id }).orderBy('agent_id').pluck('agent_id'))).toEqual([lead.id, member.id].sort((a, b) => a - b));
    expect((await post(`${base}/${team.id}`, { name: 'Level 2', memberIds: [] })).status).toBe(303);
    expect(await t.db('teams_agents').where({ team_id: team.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect((await lastAudit('team.update')).entity_id).toBe(team.id);
  });

  it('keeps the input on errors, refuses duplicates, deletes an unused team', async () => {
    const res = await post(base, { name: '', memberIds: 'abc' }, `${base}/new`);
    expect(res.status).toBe(422);
    expect($(res.text)('#e-name').length).toBe(1);
    expect((await post(base, { name: 'level 2' }, `${base}/new`)).status).toBe(409);
    const id = (await t.db('teams').where({ name: 'Level 2' }).first()).id;
    expect((await action(base, id, 'delete')).status).toBe(303);
  });
});

describe('canned responses', () => {
  const base = '/scp/admin/canned-responses';

  it('creates one for every department or for one, lists it, keeps the input on errors, and audits it', async () => {
    const dept = await buildDepartment(t.db, { name: 'Canned dept' });
    const bad = await post(base, { title: '', body: '', departmentId: '999999' }, `${base}/new`);
    expect(bad.status).toBe(422);
    expect(errorsOn(bad.text)).toEqual(['body', 'departmentId', 'title']);
    const res = await post(base, { title: 'Password reset steps', body: 'Hello %{user.name},\nUse the link.', departmentId: String(dept) }, `${base}/new`);
    expect(res.status).toBe(303);
    const row = await t.db('canned_responses').where({ title: 'Password reset steps' }).first();
    expect(row).toMatchObject({ body: 'Hello %{user.name},\nUse the link.', department_id: dept });
    expect((await lastAudit('canned_response.create')).entity_id).toBe(row.id);
    const list = $((await admin.get(base)).text);
    expect(list('tbody').text()).toContain('Password reset steps');
    expect(list('tbody').text()).toContain('Canned dept');
    // A taken title (case-insensitive) is refused; every department: no department chosen.
    expect((await post(base, { title: 'password reset steps', body: 'x' }, `${base}/new`)).status).toBe(409);
    expect((await post(`${base}/${row.id}`, { title: 'Password reset steps', body: 'Changed', departmentId: '' })).status).toBe(303);
    expect(await t.db('canned_responses').where({ id: row.id }).first()).toMatchObject({ body: 'Changed', department_id: null });
    // A department with a canned response is in use: it cannot be deleted.
    await t.db('canned_responses').where({ id: row.id }).update({ department_id: dept });
    expect((await action('/scp/admin/departments', dept, 'delete')).status).not.toBe(303);
    expect(await t.db('departments').where({ id: dept }).first()).toBeDefined();
    expect((await action(base, row.id, 'delete')).status).toBe(303);
    expect(await t.db('canned_responses').where({ id: row.id }).first()).toBeUndefined();
  });
});
