/** Read helpers for agents; the only place agent rows become domain objects. */
import type { Knex } from 'knex';
import { dbBool, dbDate } from '../../db/dialect.ts';
import type { AgentActor } from '../actor.ts';

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

/** Loads an active agent as an Actor with their department and team access, or null. */
export async function loadAgentActor(db: Knex | Knex.Transaction, agentId: number): Promise<AgentActor | null> {
  // One statement on every agent request: the row plus its extra departments and teams as id lists.
  const row: (AgentRow & { dept_ids: unknown; team_ids: unknown }) | undefined = await db('agents as a')
    .where('a.id', agentId)
    .select(
      'a.*',
      db.raw('(select group_concat(da.department_id) from departments_agents da where da.agent_id = a.id) as dept_ids'),
      db.raw('(select group_concat(ta.team_id) from teams_agents ta where ta.agent_id = a.id) as team_ids'),
    )
    .first();
  if (!row || !dbBool(row.is_active)) return null;
  const ids = (v: unknown) => (v === null || v === undefined ? [] : String(v).split(',').filter(Boolean).map(Number));
  const [depts, teams] = [ids(row.dept_ids), ids(row.team_ids)];
  return {
    kind: 'agent',
    id: row.id,
    name: row.name,
    role: row.role === 'admin' ? 'admin' : 'agent',
    departmentId: row.department_id,
    departmentIds: [...new Set([row.department_id, ...depts.map(Number)])],
    teamIds: teams.map(Number),
  };
}

/** Counts agents (the setup page exists only while there are none). */
export async function countAgents(db: Knex | Knex.Transaction): Promise<number> {
  const r = await db('agents').count<{ n: number }[]>({ n: '*' });
  return Number(r[0].n);
}
