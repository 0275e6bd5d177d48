/** Who works on a ticket: assign (agent or team), claim, release, and transfer to another department. */
import { z } from 'zod';
import { dbDate } from '../../db/dialect.ts';
import { isAgent } from '../actor.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { Forbidden, InvalidTransition, ValidationFailed } from '../errors.ts';
import { notifyTicket } from '../mail/ticket-notifications.ts';
import { id, optionalId, optionalText, parseInput } from '../validation.ts';
import { dueFields, overdueCleared, insertStaffEntry, loadForAction, nameOf, saveTicket, slaDueDatesFor, TicketRef } from './ticket-agent-common.ts';
import type { TicketActionResult } from './ticket-agent-service.ts';
import { recordTicketEvent, recordTicketEvents } from './ticket-events.ts';
import { assertDepartmentAccess, canSeeTicket } from './ticket-policy.ts';

export const AssignTicketInput = z
  .object({
    ...TicketRef,
    /** The form's single choice: 'agent:<id>' or 'team:<id>'. */
    assignee: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^(agent|team):\d+$/, 'Choose an agent or a team').optional()),
    agentId: optionalId,
    teamId: optionalId,
    comment: optionalText(10_000, 'Comment'),
  })
  .transform((v) => {
    if (!v.assignee) return v;
    const [kind, n] = v.assignee.split(':');
    return kind === 'agent' ? { ...v, agentId: Number(n), teamId: undefined } : { ...v, teamId: Number(n), agentId: undefined };
  })
  .refine((v) => !!v.agentId !== !!v.teamId, { path: ['assignee'], message: 'Choose an agent or a team' });
export type AssignTicketInput = z.input<typeof AssignTicketInput>;

/** An active agent who works in the department (primary or extra access), or an admin. */
async function assignableAgent(trx: any, agentId: number, departmentId: number): Promise<{ id: number; name: string } | null> {
  const a = await trx('agents').where({ id: agentId, is_active: true }).first('id', 'name', 'role', 'department_id');
  if (!a) return null;
  if (a.role === 'admin' || a.department_id === departmentId) return a;
  return (await trx('departments_agents').where({ agent_id: a.id, department_id: departmentId }).first()) ? a : null;
}

/**
 * Assigns a ticket to an agent of its department or to a team, and alerts them. An optional comment becomes an internal note.
 * @throws ValidationFailed (assignee), NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (ALREADY_ASSIGNED)
 */
export async function assignTicket(ctx: ServiceContext, raw: AssignTicketInput): Promise<TicketActionResult> {
  const input = parseInput(AssignTicketInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const t = await loadForAction(ctx, trx, input, 'ticket.assign');
    let patch: Record<string, unknown>;
    let event: ['assigned' | 'team_assigned', Record<string, unknown>];
    if (input.agentId) {
      const a = await assignableAgent(trx, input.agentId, t.department_id);
      if (!a) throw new ValidationFailed({ assignee: 'Choose an agent of the ticket’s department' });
      if (t.assignee_agent_id === a.id) throw new InvalidTransition('The ticket is already assigned to that agent.', 'ALREADY_ASSIGNED');
      patch = { assignee_agent_id: a.id };
      event = ['assigned', { agentId: a.id, agentName: a.name, fromName: await nameOf(trx, 'agents', t.assignee_agent_id) }];
    } else {
      const team = await trx('teams').where({ id: input.teamId, is_active: true }).first('id', 'name');
      if (!team) throw new ValidationFailed({ assignee: 'Choose a team from the list' });
      if (t.team_id === team.id) throw new InvalidTransition('The ticket is already assigned to that team.', 'ALREADY_ASSIGNED');
      patch = { team_id: team.id };
      event = ['team_assigned', { teamId: team.id, teamName: team.name, fromName: await nameOf(trx, 'teams', t.team_id) }];
    }
    await saveTicket(trx, t, patch, ctx.clock());
    const entryId = input.comment ? await insertStaffEntry(tctx, trx, t.id, 'note', input.comment) : undefined;
    await recordTicketEvent(tctx, trx, t.id, event[0], { ...event[1], ...(entryId ? { entryId } : {}) });
    await notifyTicket(tctx, trx, { kind: 'ticket_assigned', ticketId: t.id, agentId: input.agentId ?? null, teamId: input.teamId ?? null, comment: input.comment ?? null });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const ClaimTicketInput = z.object({ ...TicketRef });
export type ClaimTicketInput = z.input<typeof ClaimTicketInput>;

/**
 * The acting agent takes an open, unassigned ticket of one of their departments.
 * @throws Forbidden (CLAIM_AGENTS_ONLY, DEPARTMENT_FORBIDDEN), NotFound, Conflict (TICKET_CHANGED), InvalidTransition
 */
export async function claimTicket(ctx: ServiceContext, raw: ClaimTicketInput): Promise<TicketActionResult> {
  const input = parseInput(ClaimTicketInput, raw);
  const actor = ctx.actor;
  if (!isAgent(actor)) throw new Forbidden('Only agents can claim tickets.', 'CLAIM_AGENTS_ONLY');
  return inTransaction(ctx, async (trx) => {
    const t = await loadForAction(ctx, trx, input, 'ticket.assign');
    if (t.state !== 'open') throw new InvalidTransition('Only open tickets can be claimed.', 'TICKET_CLOSED');
    if (t.assignee_agent_id) throw new InvalidTransition('The ticket is already assigned.', 'ALREADY_ASSIGNED');
    assertDepartmentAccess(actor, t.department_id);
    await saveTicket(trx, t, { assignee_agent_id: actor.id }, ctx.clock());
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, 'claimed', { agentId: actor.id, agentName: actor.name });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const ReleaseTicketInput = z.object({ ...TicketRef, which: z.enum(['all', 'agent', 'team']).default('all') });
export type ReleaseTicketInput = z.input<typeof ReleaseTicketInput>;

/**
 * Unassigns the agent, the team, or both; the ticket goes back to the unassigned queue.
 * @throws NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (NOT_ASSIGNED)
 */
export async function releaseTicket(ctx: ServiceContext, raw: ReleaseTicketInput): Promise<TicketActionResult> {
  const input = parseInput(ReleaseTicketInput, raw);
  return inTransaction(ctx, async (trx) => {
    const t = await loadForAction(ctx, trx, input, 'ticket.assign');
    const agent = input.which !== 'team' && t.assignee_agent_id ? t.assignee_agent_id : null;
    const team = input.which !== 'agent' && t.team_id ? t.team_id : null;
    if (!agent && !team) throw new InvalidTransition('The ticket is not assigned.', 'NOT_ASSIGNED');
    await saveTicket(trx, t, { ...(agent ? { assignee_agent_id: null } : {}), ...(team ? { team_id: null } : {}) }, ctx.clock());
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, 'released', { agentName: await nameOf(trx, 'agents', agent), teamName: await nameOf(trx, 'teams', team) });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const TransferTicketInput = z.object({ ...TicketRef, departmentId: id, comment: optionalText(10_000, 'Comment') });
export type TransferTicketInput = z.input<typeof TransferTicketInput>;

/**
 * Moves a ticket to another department, alerting its agents. A ticket without an SLA plan takes
 * the new department's; the SLA due date is recomputed (the department's schedule may differ).
 * `canStillSee` is false when the acting agent loses access by the move.
 * @throws ValidationFailed (departmentId), NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (SAME_DEPARTMENT)
 */
export async function transferTicket(ctx: ServiceContext, raw: TransferTicketInput): Promise<TicketActionResult & { canStillSee: boolean }> {
  const input = parseInput(TransferTicketInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    // The permission of the department the ticket leaves (the agent may have none in the other).
    const t = await loadForAction(ctx, trx, input, 'ticket.transfer');
    const dept = await trx('departments').where({ id: input.departmentId, is_active: true }).first('id', 'name', 'sla_plan_id');
    if (!dept) throw new ValidationFailed({ departmentId: 'Choose a department from the list' });
    if (dept.id === t.department_id) throw new InvalidTransition('The ticket is already in that department.', 'SAME_DEPARTMENT');
    const slaPlanId = t.sla_plan_id ?? dept.sla_plan_id ?? null;
    const { dueAt: sla, ...responses } = await slaDueDatesFor(trx, t, slaPlanId, dept.id);
    const due = dueFields(t, sla, dbDate(t.manual_due_at), now, responses);
    await saveTicket(trx, t, { department_id: dept.id, sla_plan_id: slaPlanId, ...due.patch }, now);
    const entryId = input.comment ? await insertStaffEntry(tctx, trx, t.id, 'note', input.comment) : undefined;
    const from = await nameOf(trx, 'departments', t.department_id);
    await recordTicketEvents(tctx, trx, t.id, [['transferred', { fromId: t.department_id, from, toId: dept.id, to: dept.name, ...(entryId ? { entryId } : {}) }], ...overdueCleared(due)]);
    await notifyTicket(tctx, trx, { kind: 'ticket_transferred', ticketId: t.id, departmentId: dept.id, comment: input.comment ?? null });
    const canStillSee = canSeeTicket(ctx.actor, { ...t, department_id: dept.id });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true, canStillSee };
  });
}
