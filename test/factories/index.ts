/** Test factories: insert rows with unique data through knex (Outline's buildUser/buildTicket). */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { toDbDate } from '../../src/db/dialect.ts';
import { hashPassword } from '../../src/domain/auth/passwords.ts';
import { loadAgentActor } from '../../src/domain/agents/agent-queries.ts';
import type { AgentActor } from '../../src/domain/actor.ts';
import { searchText } from '../../src/domain/tickets/ticket-search-index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

let seq = 0;
export function unique(prefix = 'x'): string {
  seq += 1;
  return `${prefix}${seq}${crypto.randomBytes(3).toString('hex')}`;
}
const now = () => toDbDate(new Date());

export const TEST_PASSWORD = 'correct horse battery';

export async function buildDepartment(db: Knex, overrides: Record<string, unknown> = {}): Promise<number> {
  const [id] = await db('departments').insert({ name: unique('Dept '), is_public: true, is_active: true, created_at: now(), updated_at: now(), ...overrides });
  return id;
}

export async function buildSlaPlan(db: Knex, overrides: Record<string, unknown> = {}): Promise<number> {
  const [id] = await db('sla_plans').insert({ name: unique('SLA '), grace_minutes: 240, is_active: true, alerts_disabled: false, created_at: now(), updated_at: now(), ...overrides });
  return id;
}

export async function buildPriority(db: Knex, overrides: Record<string, unknown> = {}): Promise<number> {
  const [id] = await db('priorities').insert({ name: unique('Prio '), urgency: 3, color: '#cccccc', is_active: true, created_at: now(), updated_at: now(), ...overrides });
  return id;
}

export async function buildTopic(db: Knex, overrides: Record<string, unknown> = {}): Promise<number> {
  const [id] = await db('help_topics').insert({ name: unique('Topic '), is_public: true, is_active: true, created_at: now(), updated_at: now(), ...overrides });
  return id;
}

export interface BuiltAgent {
  id: number;
  username: string;
  email: string;
  password: string;
  actor: AgentActor;
}

/** The id of one of the roles the migration installs ("All access", "Expanded access", "Limited access", "View only"). */
export async function roleIdOf(db: Knex, name: string): Promise<number> {
  return Number((await db('roles').where({ name }).first('id')).id);
}

/**
 * A role with these permissions; a new roles_version (as the role service writes) so that the
 * processes' role caches read it.
 */
export async function buildRole(db: Knex, permissions: string[], overrides: Record<string, unknown> = {}): Promise<number> {
  const [id] = await db('roles').insert({ name: unique('Role '), permissions: JSON.stringify(permissions), is_active: true, created_at: now(), updated_at: now(), ...overrides });
  await writeSettings(db, { roles_version: crypto.randomUUID() }, new Date());
  return id;
}

/**
 * An agent (role 'agent' unless overridden) in `department_id` (default: a new department), with the
 * role "Expanded access" (every permission but delete: what agents could do before roles, with the
 * old setting agents_may_delete_tickets off, its default) unless `role_id` says otherwise;
 * `departmentRoles`: a role of its own for some of the extra departments.
 */
export async function buildAgent(db: Knex, overrides: Record<string, unknown> & { extraDepartmentIds?: number[]; teamIds?: number[]; departmentRoles?: Record<number, number> } = {}): Promise<BuiltAgent> {
  const { extraDepartmentIds = [], teamIds = [], departmentRoles = {}, ...rest } = overrides;
  if (rest.role_id === undefined) rest.role_id = await roleIdOf(db, 'Expanded access');
  const username = (rest.username as string) ?? unique('agent');
  const email = (rest.email as string) ?? `${username}@agents.test`;
  const department_id = (rest.department_id as number) ?? (await buildDepartment(db));
  const [id] = await db('agents').insert({
    username, email, name: `Agent ${username}`, password_hash: await hashPassword(TEST_PASSWORD), role: 'agent',
    is_active: true, failed_logins: 0, created_at: now(), updated_at: now(), ...rest, department_id,
  });
  for (const d of extraDepartmentIds) await db('departments_agents').insert({ department_id: d, agent_id: id, role_id: departmentRoles[d] ?? null });
  for (const t of teamIds) await db('teams_agents').insert({ team_id: t, agent_id: id });
  return { id, username, email, password: TEST_PASSWORD, actor: (await loadAgentActor(db, id))! };
}

export async function buildAdmin(db: Knex, overrides: Record<string, unknown> = {}): Promise<BuiltAgent> {
  return buildAgent(db, { role: 'admin', ...overrides });
}

export async function buildUser(db: Knex, overrides: Record<string, unknown> = {}): Promise<{ id: number; email: string; name: string }> {
  const email = ((overrides.email as string) ?? `${unique('user')}@customers.test`).toLowerCase();
  const name = (overrides.name as string) ?? 'Test User';
  const [id] = await db('users').insert({ name, is_banned: false, created_at: now(), updated_at: now(), ...overrides, email });
  return { id, email, name };
}

export async function defaultPriorityId(db: Knex): Promise<number> {
  return (await db('priorities').where({ name: 'Normal' }).first('id')).id;
}

/** A ticket row inserted directly (use the ticket service when the test is about creation itself). */
export async function buildTicket(db: Knex, overrides: Record<string, unknown> = {}): Promise<{ id: number; number: string; userId: number; departmentId: number }> {
  const user_id = (overrides.user_id as number) ?? (await buildUser(db)).id;
  // As the ticket service copies it (tickets.requester_name: the queue's requester order reads it).
  const requester_name = (await db('users').where({ id: user_id }).first('name')).name;
  const department_id = (overrides.department_id as number) ?? (await buildDepartment(db));
  const number = (overrides.number as string) ?? String(100000 + Math.floor(Math.random() * 899999)) + unique('').slice(0, 3);
  const status = (overrides.status as string) ?? 'open';
  const subject = (overrides.subject as string) ?? 'Test ticket ' + unique('');
  const [id] = await db('tickets').insert({
    // As the ticket service writes it (tickets.search_text: the quick search reads it; the word index follows).
    subject, search_text: searchText(subject, requester_name), status, state: status === 'open' || status === 'pending' ? 'open' : 'closed',
    priority_id: await defaultPriorityId(db), source: 'web', sla_started_at: now(), is_overdue: false, is_answered: false,
    version: 1, created_at: now(), updated_at: now(), requester_name, ...overrides, user_id, department_id, number: number.slice(0, 20),
  });
  await db('thread_entries').insert({ ticket_id: id, kind: 'message', user_id, poster_name: 'Test User', body: 'First message', source: 'web', created_at: now() });
  return { id, number: number.slice(0, 20), userId: user_id, departmentId: department_id };
}
