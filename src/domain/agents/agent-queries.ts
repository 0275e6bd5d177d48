/** Read helpers for agents; the only place agent rows become domain objects. */
import type { Knex } from 'knex';
import { dbBool, dbDate } from '../../db/dialect.ts';
import type { AgentActor } from '../actor.ts';
import { requestMemo } from '../request-memo.ts';

export interface AgentRow {
  id: number;
  username: string;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  department_id: number;
  is_active: number | boolean;
  failed_logins: number;
  locked_until: string | null;
  last_login_at: string | null;
  totp_enabled: number | boolean;
}

export interface Agent {
  id: number;
  username: string;
  email: string;
  name: string;
  role: 'admin' | 'agent';
  departmentId: number;
  isActive: boolean;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  totpEnabled: boolean;
}

export function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    name: row.name,
    role: row.role === 'admin' ? 'admin' : 'agent',
    departmentId: row.department_id,
    isActive: dbBool(row.is_active),
    lockedUntil: dbDate(row.locked_until),
    lastLoginAt: dbDate(row.last_login_at),
    totpEnabled: dbBool(row.totp_enabled),
  };
}

/** The columns an AgentActor is made of, from agents aliased `alias`, named `<prefix>…`. */
function actorColumns(db: Knex | Knex.Transaction, alias: string, prefix: string): (string | Knex.Raw)[] {
  return [
    ...['id', 'name', 'role', 'role_id', 'department_id', 'is_active'].map((c) => `${alias}.${c} as ${prefix}${c}`),
    // Each extra department as "<department id>:<its role id, or nothing for the agent's own role>".
    db.raw(`(select group_concat(concat(da.department_id, ':', coalesce(da.role_id, ''))) from departments_agents da where da.agent_id = ??) as ??`, [`${alias}.id`, `${prefix}dept_ids`]),
    db.raw(`(select group_concat(ta.team_id) from teams_agents ta where ta.agent_id = ??) as ??`, [`${alias}.id`, `${prefix}team_ids`]),
  ];
}

/** An active agent as an Actor from columns read with actorColumns, or null. */
function actorFrom(row: Record<string, unknown> | undefined, prefix: string): AgentActor | null {
  if (!row || !row[`${prefix}id`] || !dbBool(row[`${prefix}is_active`])) return null;
  const ids = (v: unknown) => (v === null || v === undefined ? [] : String(v).split(',').filter(Boolean).map(Number));
  const departmentId = Number(row[`${prefix}department_id`]);
  const extra = String(row[`${prefix}dept_ids`] ?? '').split(',').filter(Boolean).map((pair) => pair.split(':').map((n) => (n ? Number(n) : null)));
  const roleId = row[`${prefix}role_id`];
  return {
    kind: 'agent',
    id: Number(row[`${prefix}id`]),
    name: String(row[`${prefix}name`]),
    role: row[`${prefix}role`] === 'admin' ? 'admin' : 'agent',
    departmentId,
    departmentIds: [...new Set([departmentId, ...extra.map(([d]) => d!)])],
    teamIds: ids(row[`${prefix}team_ids`]),
    roleId: roleId === null || roleId === undefined ? null : Number(roleId),
    departmentRoles: Object.fromEntries(extra.filter(([d, r]) => r && d !== departmentId) as [number, number][]),
  };
}

/**
 * Adds the agent whose id is in `agentIdColumn` (left join, so no agent is fine) to a request's first
 * read — its session — so that loading the signed-in agent costs no statement of its own. Hand the
 * row to primeAgentActor.
 */
export function withAgentActor(db: Knex | Knex.Transaction, qb: Knex.QueryBuilder, agentIdColumn: string): Knex.QueryBuilder {
  return qb.leftJoin('agents as sa', 'sa.id', agentIdColumn).select(actorColumns(db, 'sa', 'sa_'));
}

/** Keeps the agent read with withAgentActor for this request's first loadAgentActor of that id (see request-memo.ts). */
export function primeAgentActor(row: Record<string, unknown> | undefined): void {
  const memo = requestMemo();
  if (!memo || !row?.sa_id) return;
  (memo.agents ??= new Map()).set(Number(row.sa_id), actorFrom(row, 'sa_'));
}

/**
 * Loads an active agent as an Actor with their department and team access, or null. One statement,
 * or none when the request's session read brought the agent along (taken once: a second load in the
 * same request, after a change, reads again).
 */
export async function loadAgentActor(db: Knex | Knex.Transaction, agentId: number): Promise<AgentActor | null> {
  const primed = requestMemo()?.agents;
  if (primed?.has(agentId)) {
    const actor = primed.get(agentId) as AgentActor | null;
    primed.delete(agentId);
    return actor;
  }
  const row = await db('agents as a').where('a.id', agentId).first(actorColumns(db, 'a', 'a_'));
  return actorFrom(row, 'a_');
}

/** Counts agents (the setup page exists only while there are none). */
export async function countAgents(db: Knex | Knex.Transaction): Promise<number> {
  const r = await db('agents').count<{ n: number }[]>({ n: '*' });
  return Number(r[0].n);
}
