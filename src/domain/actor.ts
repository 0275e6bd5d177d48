/** Who is acting. Services check permission on this, never on HTTP details. */
export type AgentActor = {
  kind: 'agent';
  id: number;
  name: string;
  role: 'admin' | 'agent';
  departmentId: number;
  /** Primary department plus extra access. */
  departmentIds: number[];
  teamIds: number[];
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
