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
  const row: AgentRow | undefined = await db('agents').where({ id: agentId }).first();
  if (!row || !dbBool(row.is_active)) return null;
  const [depts, teams] = await Promise.all([
    db('departments_agents').where({ agent_id: agentId }).pluck('department_id'),
    db('teams_agents').where({ agent_id: agentId }).pluck('team_id'),
  ]);
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
