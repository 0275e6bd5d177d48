import { dbDate } from '../../db/dialect.ts';

/**
 * The due date that applies to a ticket (`tickets.due_at`: the one the overdue sweep, the queue's "SLA
 * due" column and its order read). No I/O.
 *
 * A due date an agent set by hand wins. Otherwise, while the SLA clock is stopped (waiting on the
 * requester: sla-pause.ts) there is none; else it is the earlier of the first-response due date —
 * only until an agent's first response — and the SLA (resolution) due date.
 */
export function applicableDue(p: { manual: Date | null; slaDue: Date | null; firstResponseDue: Date | null; answered: boolean; paused: boolean }): Date | null {
  if (p.manual) return p.manual;
  if (p.paused) return null;
  const firstResponse = p.answered ? null : p.firstResponseDue;
  if (firstResponse && p.slaDue) return firstResponse < p.slaDue ? firstResponse : p.slaDue;
  return firstResponse ?? p.slaDue;
}

/** What the due date that applies stands for, for the history and alerts. */
export function dueTarget(t: { due_at?: unknown; manual_due_at?: unknown; first_response_due_at?: unknown; first_response_at?: unknown }): 'manual' | 'first_response' | 'resolution' | null {
  const due = dbDate(t.due_at);
  if (!due) return null;
  if (t.manual_due_at) return 'manual';
  const fr = dbDate(t.first_response_due_at);
  return !t.first_response_at && fr && fr.getTime() === due.getTime() ? 'first_response' : 'resolution';
}
