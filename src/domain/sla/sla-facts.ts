/**
 * Per-ticket SLA facts for reports (pure; no I/O). See CONTEXT.md for the terms.
 *
 * - First response: seconds from the ticket's creation to the first agent response (elapsed clock time).
 * - Resolution: seconds from creation to the moment the ticket last left the open state
 *   (resolved or closed), elapsed clock time; null while open.
 * - Met / breached: measured like osTicket, resolution against the due date that applies (the
 *   agent's manual due date, else the SLA due date, counted from the last open/reopen). A ticket
 *   resolved or closed AT or before `due_at` met its SLA; an open ticket is breached once `now` is
 *   past `due_at` (the same rule as the overdue sweep) and pending (null) before. No due date → null.
 *   Closing sets due_at to the resolution due date (a first-response target is measured on the ticket page and in the reports' SQL: reports/CONTEXT.md).
 */
import { dbDate } from '../../db/dialect.ts';

/** The ticket columns the facts need, as read from the database (strings or Dates) or as Dates. */
export interface SlaFactsRow {
  created_at: unknown;
  first_response_at?: unknown;
  closed_at?: unknown;
  due_at?: unknown;
  /** 'open' | 'closed'; when missing, a ticket with closed_at counts as closed. */
  state?: string | null;
}

export interface SlaFacts {
  firstResponseSeconds: number | null;
  resolutionSeconds: number | null;
  dueAt: Date | null;
  /** true: resolved at or before due; false: resolved late, or open and past due; null: no due date, or open and not yet due. */
  met: boolean | null;
  /** Seconds past due: 0 when met, > 0 when breached (still growing while open), null when met is null. */
  breachedBySeconds: number | null;
}

const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/** Computes the SLA facts of one ticket as of `now`. */
export function slaFacts(row: SlaFactsRow, now: Date): SlaFacts {
  const created = dbDate(row.created_at);
  const firstResponse = dbDate(row.first_response_at);
  const closedAt = dbDate(row.closed_at);
  const dueAt = dbDate(row.due_at);
  // A reopened ticket has closed_at cleared; a stale closed_at on an open row is ignored.
  const endedAt = closedAt && (row.state === undefined || row.state === null || row.state === 'closed') ? closedAt : null;
  const facts: SlaFacts = {
    firstResponseSeconds: created && firstResponse ? seconds(created, firstResponse) : null,
    resolutionSeconds: created && endedAt ? seconds(created, endedAt) : null,
    dueAt,
    met: null,
    breachedBySeconds: null,
  };
  if (!dueAt) return facts;
  const end = endedAt ?? now;
  const late = end.getTime() > dueAt.getTime();
  if (!endedAt && !late) return facts; // open and not yet due: pending
  facts.met = !late;
  facts.breachedBySeconds = late ? seconds(dueAt, end) : 0;
  return facts;
}
