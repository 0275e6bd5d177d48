import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent, buildDepartment, buildPriority, buildSlaPlan, buildTicket, buildTopic } from '../factories/index.ts';
import type { AgentActor } from '../../src/domain/actor.ts';
import { SYSTEM } from '../../src/domain/actor.ts';
import * as departments from '../../src/domain/departments/department-service.ts';
import * as plans from '../../src/domain/sla/sla-plan-service.ts';
import * as schedules from '../../src/domain/sla/schedule-service.ts';
import * as topics from '../../src/domain/topics/topic-service.ts';
import * as priorities from '../../src/domain/priorities/priority-service.ts';
import * as teams from '../../src/domain/teams/team-service.ts';
import * as agents from '../../src/domain/agents/agent-service.ts';
import { getSettingsForm, updateSettings } from '../../src/domain/settings/settings-admin-service.ts';
import { listAuditLog } from '../../src/domain/admin/audit-log-service.ts';
import { listAdminChoices } from '../../src/domain/admin/admin-choices.ts';
import { getSettings } from '../../src/domain/settings/settings-service.ts';

let t: TestApp;
let admin: AgentActor;
let agent: AgentActor;

beforeAll(async () => {
  t = await startTestApp();
  admin = (await buildAdmin(t.db)).actor;
  agent = (await buildAgent(t.db)).actor;
});
afterAll(async () => t.close());

describe('every admin service refuses a non-admin', () => {
  const calls: [string, (ctx: any) => Promise<unknown>][] = [
    ['listDepartments', (c) => departments.listDepartments(c)],
    ['createDepartment', (c) => departments.createDepartment(c, { name: 'X' })],
    ['updateDepartment', (c) => departments.updateDepartment(c, 1, { name: 'X' })],
    ['setDepartmentActive', (c) => departments.setDepartmentActive(c, 1, false)],
    ['deleteDepartment', (c) => departments.deleteDepartment(c, 1)],
    ['createSlaPlan', (c) => plans.createSlaPlan(c, { name: 'X', grace: '1' })],
    ['updateSlaPlan', (c) => plans.updateSlaPlan(c, 1, { name: 'X', grace: '1' })],
    ['deleteSlaPlan', (c) => plans.deleteSlaPlan(c, 1)],
    ['createSchedule', (c) => schedules.createSchedule(c, { name: 'X', kind: '24x7' })],
    ['deleteSchedule', (c) => schedules.deleteSchedule(c, 1)],
    ['createTopic', (c) => topics.createTopic(c, { name: 'X' })],
    ['setTopicActive', (c) => topics.setTopicActive(c, 1, false)],
    ['createPriority', (c) => priorities.createPriority(c, { name: 'X', urgency: 1, color: '#000000' })],
    ['deletePriority', (c) => priorities.deletePriority(c, 1)],
    ['createTeam', (c) => teams.createTeam(c, { name: 'X' })],
    ['listAgents', (c) => agents.listAgents(c, {})],
    ['createAgent', (c) => agents.createAgent(c, { name: 'X', username: 'x', email: 'x@example.com', role: 'admin', departmentId: 1, password: 'long enough password' })],
    ['updateAgent', (c) => agents.updateAgent(c, agent.id, { name: 'X', username: 'x', email: 'x@example.com', role: 'admin', departmentId: 1 })],
    ['unlockAgent', (c) => agents.unlockAgent(c, agent.id)],
    ['sendAgentPasswordReset', (c) => agents.sendAgentPasswordReset(c, agent.id)],
    ['getSettingsForm', (c) => getSettingsForm(c)],
    ['updateSettings', (c) => updateSettings(c, {})],
    ['listAuditLog', (c) => listAuditLog(c, {})],
    ['listAdminChoices', (c) => listAdminChoices(c)],
  ];
  for (const [name, call] of calls) {
    it(name, async () => {
      await expect(call(t.ctx(agent))).rejects.toMatchObject({ code: 'ADMIN_ONLY', status: 403 });
      await expect(call(t.ctx(SYSTEM))).rejects.toMatchObject({ code: 'ADMIN_ONLY' });
    });
  }
  it('changed nothing', async () => {
    expect(await t.db('agents').where({ username: 'x' }).first()).toBeUndefined();
    expect(await t.db('departments').where({ name: 'X' }).first()).toBeUndefined();
  });
});

describe('integrity rules (codes)', () => {
  it('NAME_TAKEN for duplicate names', async () => {
    await expect(departments.createDepartment(t.ctx(admin), { name: 'SUPPORT' })).rejects.toMatchObject({ code: 'NAME_TAKEN', status: 409 });
    await expect(priorities.createPriority(t.ctx(admin), { name: 'normal', urgency: 3, color: '#000000' })).rejects.toMatchObject({ code: 'NAME_TAKEN' });
  });

  it('IN_USE for rows still referenced; IS_DEFAULT for defaults', async () => {
    const dept = await buildDepartment(t.db);
    await buildAgent(t.db, { department_id: dept });
    await expect(departments.deleteDepartment(t.ctx(admin), dept)).rejects.toMatchObject({ code: 'IN_USE' });
    const prio = await buildPriority(t.db);
    await buildTicket(t.db, { priority_id: prio });
    await expect(priorities.deletePriority(t.ctx(admin), prio)).rejects.toMatchObject({ code: 'IN_USE' });
    const plan = await buildSlaPlan(t.db);
    await buildDepartment(t.db, { sla_plan_id: plan });
    await expect(plans.deleteSlaPlan(t.ctx(admin), plan)).rejects.toMatchObject({ code: 'IN_USE' });
    const topic = await buildTopic(t.db);
    await buildTicket(t.db, { topic_id: topic });
    await expect(topics.deleteTopic(t.ctx(admin), topic)).rejects.toMatchObject({ code: 'IN_USE' });
    const s = await getSettings(t.db);
    await expect(departments.setDepartmentActive(t.ctx(admin), s.default_department_id!, false)).rejects.toMatchObject({ code: 'IS_DEFAULT' });
    await expect(plans.setSlaPlanActive(t.ctx(admin), s.default_sla_plan_id!, false)).rejects.toMatchObject({ code: 'IS_DEFAULT' });
    await expect(priorities.deletePriority(t.ctx(admin), s.default_priority_id!)).rejects.toMatchObject({ code: 'IS_DEFAULT' });
    await expect(schedules.deleteSchedule(t.ctx(admin), s.default_schedule_id!)).rejects.toMatchObject({ code: 'IS_DEFAULT' });
  });

  it('NOT_FOUND for unknown rows', async () => {
    await expect(departments.getDepartment(t.ctx(admin), 999999)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await expect(agents.lockAgent(t.ctx(admin), 999999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('LAST_ADMIN: the last active admin cannot be demoted, locked, disabled or deleted, even by another admin', async () => {
    const last = await buildAdmin(t.db);
    await t.db('agents').where('role', 'admin').whereNot('id', last.id).update({ is_active: false });
    const ctx = t.ctx(admin); // `admin` is now disabled in the database but still holds an admin actor
    const input = { name: 'Last', username: last.username, email: last.email, role: 'agent' as const, departmentId: last.actor.departmentId };
    await expect(agents.updateAgent(ctx, last.id, input)).rejects.toMatchObject({ code: 'LAST_ADMIN' });
    await expect(agents.lockAgent(ctx, last.id)).rejects.toMatchObject({ code: 'LAST_ADMIN' });
    await expect(agents.setAgentActive(ctx, last.id, false)).rejects.toMatchObject({ code: 'LAST_ADMIN' });
    await expect(agents.deleteAgent(ctx, last.id)).rejects.toMatchObject({ code: 'LAST_ADMIN' });
    const row = await t.db('agents').where({ id: last.id }).first();
    expect(row).toMatchObject({ role: 'admin', locked_until: null });
    await t.db('agents').where({ id: admin.id }).update({ is_active: true });
    await agents.lockAgent(ctx, last.id);
    expect((await t.db('agents').where({ id: last.id }).first()).locked_until).not.toBeNull();
    await agents.unlockAgent(ctx, last.id);
  });

  it('SELF: an admin cannot disable, lock or delete their own account', async () => {
    await expect(agents.setAgentActive(t.ctx(admin), admin.id, false)).rejects.toMatchObject({ code: 'SELF' });
    await expect(agents.lockAgent(t.ctx(admin), admin.id)).rejects.toMatchObject({ code: 'SELF' });
    await expect(agents.deleteAgent(t.ctx(admin), admin.id)).rejects.toMatchObject({ code: 'SELF' });
  });
});

describe('helpers', () => {
  it('parses and formats grace periods', () => {
    expect(plans.parseGrace('4')).toBe(240);
    expect(plans.parseGrace('1.5')).toBe(90);
    expect(plans.parseGrace('1:30')).toBe(90);
    expect(plans.parseGrace('0')).toBeNull();
    expect(plans.parseGrace('1:75')).toBeNull();
    expect(plans.parseGrace('-1')).toBeNull();
    expect(plans.formatGrace(90)).toBe('1:30');
    expect(plans.formatGrace(240)).toBe('4');
  });
});

describe('names two admins save at the same moment', () => {
  it('keep one of two names differing only in case (checked again inside the write, where SQLite\'s unique index is case-sensitive)', async () => {
    const results = await Promise.allSettled([
      priorities.createPriority(t.ctx(admin), { name: 'Race Level', urgency: '5', color: '#AABBCC' }),
      priorities.createPriority(t.ctx(admin), { name: 'race level', urgency: '6', color: '#AABBCC' }),
      teams.createTeam(t.ctx(admin), { name: 'Race Team' }),
      teams.createTeam(t.ctx(admin), { name: 'RACE TEAM' }),
    ]);
    // One of each pair is saved (which one is the race's), the other refused as a taken name.
    for (const pair of [results.slice(0, 2), results.slice(2)]) expect(pair.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('NAME_TAKEN');
    expect(await t.db('priorities').whereRaw('lower(name) = ?', ['race level']).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await t.db('teams').whereRaw('lower(name) = ?', ['race team']).count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});
