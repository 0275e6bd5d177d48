/** Who may see and act on a ticket. The one permission rule for tickets, used by every area. */
import type { Knex } from 'knex';
import type { Actor, AgentActor } from '../actor.ts';
import { Forbidden, NotFound } from '../errors.ts';

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

/** A user sees only their own tickets; a portal session only the tickets it was opened for. */
export function userCanSee(actor: Extract<Actor, { kind: 'user' }>, t: TicketAccessFacts): boolean {
  if (t.user_id !== actor.id) return false;
  return actor.ticketIds === undefined || actor.ticketIds.includes(t.id);
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
 * missing ticket, so numbers and ids cannot be probed. `departmentName`: the department's name
 * joined in (`department_name`). `columns`: more columns of the same read (over `tickets`).
 */
export async function loadTicketFor(
  db: Knex | Knex.Transaction, actor: Actor, where: { id: number } | { number: string },
  opts: { forUpdate?: boolean; departmentName?: boolean; columns?: Knex.Raw[] } = {},
): Promise<any> {
  const key = 'id' in where ? { 'tickets.id': where.id } : { 'tickets.number': where.number };
  const more = opts.columns ?? [];
  const q = opts.departmentName
    ? db('tickets').leftJoin('departments', 'departments.id', 'tickets.department_id').where(key).first('tickets.*', 'departments.name as department_name', ...more)
    : more.length ? db('tickets').where(key).first('tickets.*', ...more) : db('tickets').where(key).first();
  if (opts.forUpdate) q.forUpdate();
  const row = await q;
  if (!row || !canSeeTicket(actor, row)) throw new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
  return row;
}

/** Admin or agent with access to a department (to move a ticket there, or open one in it). */
export function assertDepartmentAccess(actor: AgentActor, departmentId: number): void {
  if (actor.role !== 'admin' && !actor.departmentIds.includes(departmentId)) throw new Forbidden('You do not have access to that department.', 'DEPARTMENT_FORBIDDEN');
}
