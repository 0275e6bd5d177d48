import { dbDate } from '../../db/dialect.ts';

/**
 * The due date that applies to a ticket (`tickets.due_at`: the one the overdue sweep, the queue's "SLA
 * due" column and its order read). No I/O.
 *
 * A due date an agent set by hand wins. Otherwise, while the SLA clock is stopped (waiting on the
 * requester: sla-pause.ts) there is none; else it is the earlier of the response due date and the SLA
 * (resolution) due date. The response due date is the first-response one until an agent's first
 * response, then the next-response one while a requester's message waits for a reply.
 */
export function applicableDue(p: { manual: Date | null; slaDue: Date | null; firstResponseDue: Date | null; nextResponseDue: Date | null; answered: boolean; paused: boolean }): Date | null {
  if (p.manual) return p.manual;
  if (p.paused) return null;
  const response = p.answered ? p.nextResponseDue : p.firstResponseDue;
  if (response && p.slaDue) return response < p.slaDue ? response : p.slaDue;
  return response ?? p.slaDue;
}

/** applicableDue for a ticket row, with `over` replacing some of its own dates (null = none). */
export function ticketDue(t: any, over: { manual?: Date | null; slaDue?: Date | null; firstResponseDue?: Date | null; nextResponseDue?: Date | null; answered?: boolean; paused?: boolean } = {}): Date | null {
  return applicableDue({
    manual: 'manual' in over ? over.manual! : dbDate(t.manual_due_at),
    slaDue: 'slaDue' in over ? over.slaDue! : dbDate(t.sla_due_at),
    firstResponseDue: 'firstResponseDue' in over ? over.firstResponseDue! : dbDate(t.first_response_due_at),
    nextResponseDue: 'nextResponseDue' in over ? over.nextResponseDue! : dbDate(t.next_response_due_at),
    answered: over.answered ?? !!t.first_response_at,
    paused: over.paused ?? !!t.sla_paused_at,
  });
}

export type DueTarget = 'manual' | 'first_response' | 'next_response' | 'resolution';

/** What the due date that applies stands for, for the history and alerts. */
export function dueTarget(t: { due_at?: unknown; manual_due_at?: unknown; first_response_due_at?: unknown; first_response_at?: unknown; next_response_due_at?: unknown }): DueTarget | null {
  const due = dbDate(t.due_at);
  if (!due) return null;
  if (t.manual_due_at) return 'manual';
  const fr = dbDate(t.first_response_due_at);
  if (!t.first_response_at && fr && fr.getTime() === due.getTime()) return 'first_response';
  const next = dbDate(t.next_response_due_at);
  return t.first_response_at && next && next.getTime() === due.getTime() ? 'next_response' : 'resolution';
}
