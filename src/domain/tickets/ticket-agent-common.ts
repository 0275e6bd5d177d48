/**
 * Building blocks shared by the agent ticket actions: who may act as staff, loading a ticket for
 * an action (locked, version-checked), saving it with a version bump, thread entries, the status
 * machine's side effects and the due-date rule (due_at = manual ?? sla).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, toDbDate } from '../../db/dialect.ts';
import type { Actor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { Conflict, Forbidden, InvalidTransition, ValidationFailed } from '../errors.ts';
import { computeSlaDueAt, computeSlaDueDates, type SlaDueDates } from '../sla/sla-service.ts';
import { ticketDue } from '../sla/sla-due.ts';
import { pausedMinutes, slaPaused, startWaiting, stopWaiting } from '../sla/sla-pause.ts';
import { id } from '../validation.ts';
import type { TicketEventName } from './ticket-events.ts';
import type { Permission } from '../roles/role-permissions.ts';
import { assertMay, loadTicketFor } from './ticket-policy.ts';
import { assertTransition, stateOf, statusEvent, type TicketStatus } from './ticket-status.ts';

type Trx = Knex.Transaction;

/** The version the agent's page was loaded with; absent = no staleness check (API callers may omit it). */
export const optionalVersion = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.coerce.number({ error: 'Invalid version' }).int().min(1).optional());

/** The last history event the agent's page showed (its forms send it with the version); absent = unknown. */
export const optionalSeen = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.coerce.number({ error: 'Invalid event' }).int().min(0).optional());

/** Fields every action input has. */
export const TicketRef = { ticketId: id, version: optionalVersion, seen: optionalSeen };

/** Agents, the system, and API keys allowed to manage tickets act as staff; nobody else. @throws Forbidden */
export function assertStaff(actor: Actor): void {
  if (actor.kind === 'agent' || actor.kind === 'system') return;
  if (actor.kind === 'api' && actor.canManageTickets) return;
  throw new Forbidden('You may not act on tickets.', 'TICKET_ACTION_FORBIDDEN');
}

/** The name shown on entries and in mail for the acting staff member. */
export function posterName(actor: Actor): string {
  if (actor.kind === 'agent') return actor.name;
  return actor.kind === 'api' ? 'API' : 'System';
}

/** The channel an agent-side entry arrives by. */
export function entrySource(actor: Actor): 'web' | 'api' | 'other' {
  return actor.kind === 'agent' ? 'web' : actor.kind === 'api' ? 'api' : 'other';
}

/**
 * Loads the ticket the actor acts on, locked for update, and refuses a stale version: the ticket
 * changed since the actor's page was loaded. Changes the same agent made meanwhile (in another tab:
 * a claim, then a reply from the first tab) are not news to them and are let through, when the page
 * said which history event it showed last (`seen`; see ownChangesOnly). `columns`: more columns of
 * the same read (the reply's signature: ticket-signatures.ts).
 * `perms`: what the action needs of the actor's role in the ticket's department (assertMay; none for
 * an internal note). A ticket merged into another takes no action (InvalidTransition TICKET_MERGED).
 * @throws Forbidden (PERMISSION_DENIED), NotFound (TICKET_NOT_FOUND), Conflict (TICKET_CHANGED), InvalidTransition (TICKET_MERGED)
 */
export async function loadForAction(ctx: ServiceContext, trx: Trx, ref: { ticketId: number; version?: number; seen?: number }, perms: Permission | readonly Permission[], columns: Knex.Raw[] = []): Promise<any> {
  assertStaff(ctx.actor);
  const t = await loadTicketFor(trx, ctx.actor, { id: ref.ticketId }, { forUpdate: true, columns });
  if (t.merged_into_id) throw new InvalidTransition('This ticket was merged into another ticket: go on there (the link is at the top of its page).', 'TICKET_MERGED');
  await assertMay(trx, ctx.actor, perms, t.department_id);
  const current = Number(t.version);
  if (ref.version !== undefined && ref.version !== current && !(await ownChangesOnly(ctx.actor, trx, t.id, ref.version, current, ref.seen))) throw ticketChanged(current);
  return t;
}

/**
 * Whether every change since the page (version `from`, last event `seen`) is the acting agent's own:
 * the history after `seen` holds only events by this agent, at least one per version since `from`
 * (every write that bumps a ticket's version records an event; a change by anyone else, or one the
 * history cannot account for, is a conflict).
 */
async function ownChangesOnly(actor: Actor, trx: Trx, ticketId: number, from: number, current: number, seen?: number): Promise<boolean> {
  if (actor.kind !== 'agent' || seen === undefined || from > current) return false;
  const r = await trx('ticket_events').where('ticket_id', ticketId).andWhere('id', '>', seen)
    .first(trx.raw('count(*) as n'), trx.raw('sum(case when ?? = ? and ?? = ? then 0 else 1 end) as others', ['actor_kind', 'agent', 'agent_id', actor.id]));
  return Number(r?.n ?? 0) >= current - from && Number(r?.others ?? 0) === 0;
}

export function ticketChanged(currentVersion: number): Conflict {
  return new Conflict('This ticket changed since you opened it. Review the changes and try again.', 'TICKET_CHANGED', { currentVersion });
}

/** Writes `patch`, bumping version and updated_at. A concurrent writer that got there first is a Conflict. */
export async function saveTicket(trx: Trx, t: any, patch: Record<string, unknown>, now: Date): Promise<void> {
  const n = await trx('tickets').where({ id: t.id, version: t.version }).update({ ...patch, version: Number(t.version) + 1, updated_at: toDbDate(now) });
  if (!n) throw ticketChanged(Number(t.version) + 1);
}

/** Inserts an agent-side thread entry ('response' or 'note'). */
export async function insertStaffEntry(ctx: ServiceContext, trx: Trx, ticketId: number, kind: 'response' | 'note', body: string): Promise<number> {
  const [entryId] = await trx('thread_entries').insert({
    ticket_id: ticketId, kind, agent_id: ctx.actor.kind === 'agent' ? ctx.actor.id : null, poster_name: posterName(ctx.actor),
    body, source: entrySource(ctx.actor), created_at: toDbDate(ctx.clock()),
  });
  return entryId;
}

/**
 * The due-date fields after a change of the SLA, the manual due date or a response: due_at as
 * applicableDue (sla-due.ts) makes it — manual, else none while the SLA clock is stopped (sla-pause.ts),
 * else the earlier of the response due date (first, until answered; then next, while a message
 * awaits a reply) and the SLA due date.
 * `responses`: recomputed response due dates (plan change, transfer; a reply clears the next one),
 * written too; absent = the ticket's own. A due date moved past now (or removed) clears the overdue flag.
 */
export function dueFields(t: any, slaDueAt: Date | null, manualDueAt: Date | null, now: Date, responses?: { firstResponseDueAt?: Date | null; nextResponseDueAt?: Date | null }): { patch: Record<string, unknown>; overdueCleared: boolean } {
  const first = responses && 'firstResponseDueAt' in responses ? responses.firstResponseDueAt! : dbDate(t.first_response_due_at);
  const next = responses && 'nextResponseDueAt' in responses ? responses.nextResponseDueAt! : dbDate(t.next_response_due_at);
  const due = ticketDue(t, { manual: manualDueAt, slaDue: slaDueAt, firstResponseDue: first, nextResponseDue: next, paused: slaPaused(t) });
  const patch: Record<string, unknown> = { sla_due_at: toDbDate(slaDueAt), manual_due_at: toDbDate(manualDueAt), due_at: toDbDate(due) };
  if (responses && 'firstResponseDueAt' in responses) patch.first_response_due_at = toDbDate(first);
  if (responses && 'nextResponseDueAt' in responses) patch.next_response_due_at = toDbDate(next);
  const overdueCleared = dbBool(t.is_overdue) && (!due || due > now);
  if (overdueCleared) patch.is_overdue = false;
  return { patch, overdueCleared };
}

/** The `overdue_cleared` event to record with the change's own (in one recordTicketEvents), when dueFields cleared the flag. */
export function overdueCleared(due: { overdueCleared: boolean }): [TicketEventName, Record<string, unknown>][] {
  return due.overdueCleared ? [['overdue_cleared', {}]] : [];
}

/**
 * The SLA due dates of the ticket on plan `planId` in department `departmentId`: resolution counting the
 * time it waited on the requester, first response from when it was opened, next response from the
 * requester's oldest message still unanswered (awaitingReplySince).
 */
export async function slaDueDatesFor(trx: Trx, t: any, planId: number | null, departmentId: number | null): Promise<SlaDueDates> {
  return computeSlaDueDates(trx, planId, departmentId, dbDate(t.sla_started_at)!, {
    pausedMinutes: pausedMinutes(t), openedAt: dbDate(t.created_at) ?? undefined, awaitingSince: await awaitingReplySince(trx, t),
  });
}

/**
 * Since when the ticket waits for an agent's reply, for a next-response target: the time of the
 * requester's oldest message after the last agent response, when the ticket has had its first response,
 * is open, unanswered and not waiting on the requester. Null otherwise (no statement then).
 */
export async function awaitingReplySince(trx: Trx, t: any): Promise<Date | null> {
  if (!t.first_response_at || dbBool(t.is_answered) || t.state !== 'open' || t.status === 'pending') return null;
  const after = t.last_response_at ?? t.first_response_at;
  const row = await trx('thread_entries').where({ ticket_id: t.id, kind: 'message' }).where('created_at', '>', after).orderBy('id').first('created_at');
  return dbDate(row?.created_at);
}

export interface StatusChange {
  patch: Record<string, unknown>;
  event: 'reopened' | 'resolved' | 'closed' | 'status_changed';
  data: Record<string, unknown>;
  /** The ticket leaves the open state (the user is told). */
  closing: boolean;
}

/**
 * Side effects of a status change. Closing sets closed_at and clears the overdue flag; reopening
 * restarts the SLA clock (sla_started_at = now, due date recomputed, no paused time), counts the reopen
 * and marks the ticket unanswered. Waiting on the requester stops the SLA clock; leaving it (to any
 * status) starts it again with the due date moved by the working time waited (sla-pause.ts), so a
 * ticket resolved while waiting is measured against that due date.
 * @throws InvalidTransition, ValidationFailed (status: open tasks hold the ticket open)
 */
export async function statusChange(trx: Trx, t: any, to: TicketStatus, now: Date): Promise<StatusChange> {
  assertTransition(t.status, to);
  if (t.state === 'open' && stateOf(to) === 'closed') {
    // Open tasks (ticket-tasks.ts) hold the ticket open: a field error, so the page keeps what was typed.
    const open = await trx('ticket_tasks').where({ ticket_id: t.id, is_done: false }).count({ n: '*' }).first();
    const n = Number(open?.n ?? 0);
    if (n) throw new ValidationFailed({ status: `This ticket has ${n} open task${n === 1 ? '' : 's'}: tick ${n === 1 ? 'it' : 'them'} off or remove ${n === 1 ? 'it' : 'them'} before you ${to === 'resolved' ? 'resolve' : 'close'} it` });
  }
  const ts = toDbDate(now);
  const patch: Record<string, unknown> = { status: to, state: stateOf(to) };
  const data: Record<string, unknown> = { from: t.status, to };
  if (t.status === 'pending') {
    const resumed = await stopWaiting(trx, t, now);
    Object.assign(patch, resumed.patch);
    if (resumed.waitedMinutes) Object.assign(data, { slaPausedMinutes: Math.round(resumed.waitedMinutes), slaDueAt: resumed.slaDueAt?.toISOString() ?? null });
  }
  if (to === 'pending') {
    const waiting = startWaiting(t, now);
    Object.assign(patch, waiting);
    data.slaPaused = 'sla_paused_at' in waiting;
  } else if (to === 'open' && t.state !== 'open') {
    // A reopened ticket owes no reply until the requester writes (addUserMessage sets the next-response due date).
    const sla = await computeSlaDueAt(trx, t.sla_plan_id, t.department_id, now);
    const due = ticketDue(t, { slaDue: sla, nextResponseDue: null, paused: false });
    Object.assign(patch, {
      closed_at: null, sla_started_at: ts, sla_due_at: toDbDate(sla), due_at: toDbDate(due), next_response_due_at: null,
      sla_paused_at: null, sla_paused_seconds: 0, waiting_since: null,
      is_overdue: false, is_answered: false, reopen_count: Number(t.reopen_count) + 1,
    });
  } else if (t.state === 'open' && stateOf(to) === 'closed') {
    // A closed ticket is measured (reports) against the resolution due date, not a first-response one.
    const slaDue = 'sla_due_at' in patch ? dbDate(patch.sla_due_at) : dbDate(t.sla_due_at);
    const due = dbDate(t.manual_due_at) ?? slaDue;
    Object.assign(patch, { closed_at: ts, is_overdue: false, due_at: toDbDate(due), next_response_due_at: null });
  }
  return { patch, event: statusEvent(t.status, to), data, closing: t.state === 'open' && stateOf(to) === 'closed' };
}

/** Names for ids, for readable event data ("Support → Online Banking"). */
export async function nameOf(trx: Trx, table: 'departments' | 'priorities' | 'sla_plans' | 'help_topics' | 'agents' | 'teams', rowId: number | null | undefined): Promise<string | null> {
  if (!rowId) return null;
  const row = await trx(table).where({ id: rowId }).first('name');
  return row?.name ?? null;
}
