/**
 * The SLA clock while a ticket waits on the requester (status 'pending'). Waiting stops the clock:
 * the due date that applies (`due_at`) becomes the manual one, if any (an agent's promise is not
 * paused), else none, so the overdue sweep passes the ticket by. When the ticket stops waiting (the
 * requester answers, an agent sets it open, resolves or closes it) the working time it waited — in the
 * schedule that applies — is added to `sla_paused_seconds` and the SLA due date moves that much later.
 * A ticket whose SLA due date has already passed (or that has none) waits without stopping the clock:
 * a pause does not undo a breach. Reopening a closed ticket starts the clock afresh (no paused time).
 */
import type { Knex } from 'knex';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { computeSlaDueAt, scheduleFor } from './sla-service.ts';
import { ticketDue } from './sla-due.ts';
import { workingMinutesBetween } from './sla-schedule.ts';

type Db = Knex | Knex.Transaction;

/** Whether the ticket's SLA clock is stopped (read from its row). */
export function slaPaused(t: { sla_paused_at?: unknown }): boolean {
  return !!t.sla_paused_at;
}

/** Working minutes the ticket waited before its current pause, if any (for computeSlaDueAt). */
export function pausedMinutes(t: { sla_paused_seconds?: unknown }): number {
  return Number(t.sla_paused_seconds ?? 0) / 60;
}

/** The columns to write when the ticket starts waiting at `now`. */
export function startWaiting(t: any, now: Date): Record<string, unknown> {
  // Waiting on the requester, no reply is owed: their next message starts a new next-response target.
  const patch: Record<string, unknown> = { waiting_since: toDbDate(now), next_response_due_at: null };
  const slaDue = dbDate(t.sla_due_at);
  if (!slaPaused(t) && slaDue && slaDue > now) Object.assign(patch, { sla_paused_at: toDbDate(now), due_at: toDbDate(dbDate(t.manual_due_at)) });
  else if (t.next_response_due_at) patch.due_at = toDbDate(ticketDue(t, { nextResponseDue: null }));
  return patch;
}

/**
 * The columns to write when the ticket stops waiting at `now`, and the SLA due date it then has.
 * Reads the schedule and the plan when the clock was stopped (no statement otherwise).
 */
export async function stopWaiting(db: Db, t: any, now: Date): Promise<{ patch: Record<string, unknown>; slaDueAt: Date | null; waitedMinutes: number }> {
  const patch: Record<string, unknown> = { waiting_since: null };
  const pausedAt = dbDate(t.sla_paused_at);
  if (!pausedAt) return { patch, slaDueAt: dbDate(t.sla_due_at), waitedMinutes: 0 };
  let waited = 0;
  try {
    waited = workingMinutesBetween(await scheduleFor(db, t.sla_plan_id ?? null, t.department_id ?? null), pausedAt, now);
  } catch {
    waited = 0; // a schedule without working time: no due date to move
  }
  const seconds = Number(t.sla_paused_seconds ?? 0) + Math.round(waited * 60);
  const sla = await computeSlaDueAt(db, t.sla_plan_id ?? null, t.department_id ?? null, dbDate(t.sla_started_at)!, seconds / 60);
  const due = ticketDue(t, { slaDue: sla, paused: false });
  Object.assign(patch, { sla_paused_at: null, sla_paused_seconds: seconds, sla_due_at: toDbDate(sla), due_at: toDbDate(due) });
  return { patch, slaDueAt: sla, waitedMinutes: waited };
}
