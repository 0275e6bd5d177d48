/** Who may see and act on a ticket. The one permission rule for tickets, used by every area. */
import type { Knex } from 'knex';
import type { Actor, AgentActor } from '../actor.ts';
import { Forbidden, NotFound } from '../errors.ts';
import { PERMISSION_VERBS, type Permission } from '../roles/role-permissions.ts';
import { rolesById, type RolePermissions } from '../roles/role-queries.ts';
import type { Settings } from '../settings/settings-service.ts';
import { collaboratorsColumn, collaboratorsFrom } from './ticket-collaborator-list.ts';

export interface TicketAccessFacts {
  id: number;
  user_id: number;
  department_id: number;
  assignee_agent_id: number | null;
  team_id: number | null;
}

/** An agent sees tickets of their departments (primary and extra), assigned to them or their team; an admin all. */
export function agentCanSee(actor: AgentActor, t: TicketAccessFacts): boolean {
  if (actor.role === 'admin') return true;
  if (actor.departmentIds.includes(t.department_id)) return true;
  if (t.assignee_agent_id === actor.id) return true;
  return t.team_id !== null && actor.teamIds.includes(t.team_id);
}

/**
 * A user sees their own tickets and those they are a CC of (`isCc`, read by loadTicketFor); a portal
 * session only the tickets it was opened for. A user signed in with their email (a session of all
 * their tickets: no `ticketIds`) also sees their organization's tickets when it shares them with
 * them (`orgShared`, read by loadTicketFor: see sharedByOrganization).
 */
export function userCanSee(actor: Extract<Actor, { kind: 'user' }>, t: TicketAccessFacts, isCc = false, orgShared = false): boolean {
  if (actor.ticketIds === undefined) return t.user_id === actor.id || isCc || orgShared;
  if (t.user_id !== actor.id && !isCc) return false;
  return actor.ticketIds.includes(t.id);
}

/**
 * The users whose tickets `userId`'s organization shares with them (organizations.portal_share: every
 * member, or the primary contacts; the organization active), as a subquery of user ids: the members
 * of their organization, or none.
 */
export function sharedByOrganization(db: Knex | Knex.Transaction, userId: number): Knex.QueryBuilder {
  return db('users as me')
    .join('organizations as so', (j) => void j.on('so.id', 'me.organization_id').andOnVal('so.is_active', true))
    .join('users as member', 'member.organization_id', 'me.organization_id')
    .where('me.id', userId)
    .andWhere((w) => w.where('so.portal_share', 'all').orWhere((p) => p.where('so.portal_share', 'primary').andWhere('me.is_primary_contact', true)))
    .select('member.id');
}

/**
 * agentCanSee as SQL, on a query of tickets aliased `alias`: their departments, assigned to them or
 * their teams. Admins, API keys and the system see every ticket (no condition).
 */
export function whereAgentMaySee(qb: Knex.QueryBuilder, actor: Actor, alias = 't'): Knex.QueryBuilder {
  if (actor.kind !== 'agent' || actor.role === 'admin') return qb;
  return qb.where((w) => {
    w.whereIn(`${alias}.department_id`, actor.departmentIds).orWhere(`${alias}.assignee_agent_id`, actor.id);
    if (actor.teamIds.length) w.orWhereIn(`${alias}.team_id`, actor.teamIds);
  });
}

export function canSeeTicket(actor: Actor, t: TicketAccessFacts): boolean {
  switch (actor.kind) {
    case 'system':
      return true;
    case 'agent':
      return agentCanSee(actor, t);
    case 'user':
      return userCanSee(actor, t);
    case 'api':
      return actor.canManageTickets;
    default:
      return false;
  }
}

/**
 * Loads a ticket row the actor may see. Someone who may not see it gets NotFound, the same as a
 * missing ticket, so numbers and ids cannot be probed. A user may load the tickets they are a CC of.
 * `departmentName`: the department's name joined in (`department_name`). `columns`: more columns of
 * the same read (over `tickets`). A user actor's read also carries the ticket's CCs (`collaborators`).
 */
export async function loadTicketFor(
  db: Knex | Knex.Transaction, actor: Actor, where: { id: number } | { number: string },
  opts: { forUpdate?: boolean; departmentName?: boolean; columns?: Knex.Raw[] } = {},
): Promise<any> {
  const key = 'id' in where ? { 'tickets.id': where.id } : { 'tickets.number': where.number };
  const q = db('tickets').where(key).first('tickets.*', ...(opts.columns ?? []));
  if (opts.departmentName) q.leftJoin('departments', 'departments.id', 'tickets.department_id').select('departments.name as department_name');
  // A user may be a CC of the ticket: its CCs come with it (`collaborators`, see ticket-collaborator-list.ts);
  // a signed-in user may see it through their organization (`org_shared`).
  if (actor.kind === 'user') q.select(collaboratorsColumn(db, db.ref('tickets.id')));
  if (actor.kind === 'user' && actor.ticketIds === undefined) {
    q.select(db.raw('(case when tickets.user_id in ? then 1 else 0 end) as org_shared', [sharedByOrganization(db, actor.id)]));
  }
  if (opts.forUpdate) q.forUpdate();
  const row = await q;
  const visible = !!row && (actor.kind === 'user'
    ? userCanSee(actor, row, collaboratorsFrom(row.collaborators).some((c) => c.id === actor.id), Number(row.org_shared) === 1)
    : canSeeTicket(actor, row));
  if (!visible) throw new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
  return row;
}

/** Admin or agent with access to a department (to move a ticket there, or open one in it). */
export function assertDepartmentAccess(actor: AgentActor, departmentId: number): void {
  if (actor.role !== 'admin' && !actor.departmentIds.includes(departmentId)) throw new Forbidden('You do not have access to that department.', 'DEPARTMENT_FORBIDDEN');
}

/**
 * The role an agent has in a department: the extra department's own role (departments_agents.role_id)
 * where there is one, else the agent's role — also for a ticket outside their departments that they
 * see as its assignee or through a team (osTicket's "use primary role for assignments").
 */
export function roleIdIn(actor: AgentActor, departmentId: number): number | null {
  return actor.departmentRoles[departmentId] ?? actor.roleId;
}

/** Whether the actor's role in the department grants nothing to check: admins, the system and API keys (not agents: their own flags apply). */
function unrestricted(actor: Actor): boolean {
  return actor.kind !== 'agent' || actor.role === 'admin';
}

/**
 * What the actor may do on the tickets of `departmentId` (the ticket page's buttons): the permissions of
 * their role there (roleIdIn); every one for an admin, the system and API keys. No statement: the
 * roles come from this process's cache (role-queries.ts).
 */
export async function permissionsIn(db: Knex | Knex.Transaction, actor: Actor, departmentId: number, settings?: Pick<Settings, 'roles_version'>): Promise<{ role: RolePermissions | null; has: (perm: Permission) => boolean }> {
  if (unrestricted(actor)) return { role: null, has: () => true };
  const role = (await rolesById(db, settings)).get(roleIdIn(actor as AgentActor, departmentId) ?? 0) ?? null;
  return { role, has: (perm) => !!role?.permissions.has(perm) };
}

/**
 * The one permission check of ticket actions: the actor's role in the ticket's department (for a
 * transfer: the department it leaves) must grant every one of `perms`.
 * @throws Forbidden PERMISSION_DENIED (saying which permission is missing)
 */
export async function assertMay(db: Knex | Knex.Transaction, actor: Actor, perms: Permission | readonly Permission[], departmentId: number): Promise<void> {
  if (unrestricted(actor)) return;
  const { role, has } = await permissionsIn(db, actor, departmentId);
  const missing = (typeof perms === 'string' ? [perms] : perms).find((p) => !has(p));
  if (!missing) return;
  const who = role ? `Your role “${role.name}”` : 'You have no role, which';
  throw new Forbidden(`${who} does not allow you to ${PERMISSION_VERBS[missing]} in this department; an administrator can change it.`, 'PERMISSION_DENIED');
}

/** Whether the actor may do `perm` in some department (the agent's role or one of their departments' own): the queue's bulk Delete. */
export async function mayAnywhere(db: Knex | Knex.Transaction, actor: Actor, perm: Permission, settings?: Pick<Settings, 'roles_version'>): Promise<boolean> {
  if (unrestricted(actor)) return true;
  const agent = actor as AgentActor;
  const roles = await rolesById(db, settings);
  return [agent.roleId, ...Object.values(agent.departmentRoles)].some((id) => !!id && !!roles.get(id)?.permissions.has(perm));
}
