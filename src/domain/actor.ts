/** Who is acting. Services check permission on this, never on HTTP details. */
import { Forbidden } from './errors.ts';
export type AgentActor = {
  kind: 'agent';
  id: number;
  name: string;
  role: 'admin' | 'agent';
  departmentId: number;
  /** Primary department plus extra access. */
  departmentIds: number[];
  teamIds: number[];
  /** The agent's role (agents.role_id; null: none, so no ticket permission): their permissions in every department but an overridden one. */
  roleId: number | null;
  /** Extra departments whose access has a role of its own (departments_agents.role_id), by department id. */
  departmentRoles: Record<number, number>;
};
export type UserActor = { kind: 'user'; id: number; email: string; name: string; /** tickets this portal session may read */ ticketIds?: number[] };
export type SystemActor = { kind: 'system' };
export type ApiActor = { kind: 'api'; keyId: number; canCreateTickets: boolean; canManageTickets: boolean };
export type AnonymousActor = { kind: 'anonymous' };
export type Actor = AgentActor | UserActor | SystemActor | ApiActor | AnonymousActor;

export const SYSTEM: SystemActor = { kind: 'system' };
export const ANONYMOUS: AnonymousActor = { kind: 'anonymous' };

export function isAdmin(actor: Actor): actor is AgentActor {
  return actor.kind === 'agent' && actor.role === 'admin';
}
export function isAgent(actor: Actor): actor is AgentActor {
  return actor.kind === 'agent';
}

/**
 * The acting agent, for what only agents do (their own account, the user directory, saved views, the
 * internal knowledge base); anyone else is refused. @throws Forbidden AGENT_ONLY
 */
export function requireAgent(actor: Actor, message = 'Only agents can do this.'): AgentActor {
  if (actor.kind !== 'agent') throw new Forbidden(message, 'AGENT_ONLY');
  return actor;
}
