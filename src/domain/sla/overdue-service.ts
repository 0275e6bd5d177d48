/**
 * The overdue sweep (osTicket's `Ticket::checkOverdue`): an open ticket whose due date has passed is
 * flagged overdue, gets an `overdue` event and one overdue alert.
 *
 * Exactly once, with any number of processes: the flag itself is the claim. Each ticket is claimed by
 * `UPDATE tickets SET is_overdue = 1 … WHERE id = ? AND is_overdue = 0 AND state = 'open' AND due_at < now`;
 * only the runner whose UPDATE changed the row writes the event and queues the alert, in the same
 * transaction. A runner that loses the race (its UPDATE waits for the winner's row lock, then matches
 * nothing) writes nothing. Clearing the flag (due date moved later, close, reopen) starts a new
 * episode, which is alerted once again when it falls due. No extra column is needed.
 */
import type { Knex } from 'knex';
import { dbBool, dbDate, toDbDate } from '../../db/dialect.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { recordTicketEvent } from '../tickets/ticket-events.ts';
import { notifyTicket } from '../mail/ticket-notifications.ts';
import { dueTarget } from './sla-due.ts';

export interface MarkOverdueOptions {
  /** Candidates read per query (osTicket takes 100 per cron run). */
  batchSize?: number;
  /** Stop after this many batches in one run; the next run carries on. */
  maxBatches?: number;
}

export interface MarkOverdueResult {
  /** Tickets this runner flagged (and alerted, where alerts apply). */
  marked: number;
  /** Tickets whose claim failed with an error; they stay unflagged and are retried on the next run. */
  failed: { ticketId: number; error: unknown }[];
}

type Candidate = { id: number; due_at: unknown };

/**
 * Flags every open ticket past its due date as overdue, once. Safe to run concurrently from many processes.
 * Acts as `ctx.actor` (the background task passes the system actor).
 */
export async function markOverdueTickets(ctx: ServiceContext, opts: MarkOverdueOptions = {}): Promise<MarkOverdueResult> {
  const batchSize = opts.batchSize ?? 100;
  const maxBatches = opts.maxBatches ?? 50;
  const now = toDbDate(ctx.clock());
  const result: MarkOverdueResult = { marked: 0, failed: [] };
  let after: Candidate | null = null;
  for (let batch = 0; batch < maxBatches; batch++) {
    const candidates = await overdueCandidates(ctx.db, now, after, batchSize);
    for (const c of candidates) {
      try {
        if (await claimOverdue(ctx, c.id, now)) result.marked += 1;
      } catch (error) {
        result.failed.push({ ticketId: c.id, error });
      }
    }
    if (candidates.length < batchSize) break;
    after = candidates[candidates.length - 1];
  }
  return result;
}

/**
 * Open, unflagged tickets due before `now`, in (due_at, id) order after the keyset `after`.
 * Served by the index tickets_overdue (state, is_overdue, due_at). Keyset paging means a ticket whose
 * claim failed is not read again in the same run, so one bad ticket cannot stall the sweep.
 */
async function overdueCandidates(db: Knex | Knex.Transaction, now: string, after: Candidate | null, limit: number): Promise<Candidate[]> {
  const q = db('tickets')
    .where({ state: 'open', is_overdue: false })
    .where('due_at', '<', now)
    .orderBy([{ column: 'due_at' }, { column: 'id' }])
    .limit(limit)
    .select('id', 'due_at');
  if (after) q.andWhere((w) => w.where('due_at', '>', after.due_at as string).orWhere((x) => x.where('due_at', after.due_at as string).andWhere('id', '>', after.id)));
  return q;
}

/** Claims one ticket and, if this runner won, records the event and queues the alert. Returns whether it won. */
async function claimOverdue(ctx: ServiceContext, ticketId: number, now: string): Promise<boolean> {
  return inTransaction(ctx, async (trx) => {
    const won = await trx('tickets')
      .where({ id: ticketId, is_overdue: false, state: 'open' })
      .where('due_at', '<', now)
      .update({ is_overdue: true, updated_at: now, version: trx.raw('version + 1') });
    if (Number(won) !== 1) return false;
    const t = await trx('tickets as t')
      .leftJoin('sla_plans as p', 'p.id', 't.sla_plan_id')
      .where('t.id', ticketId)
      .first('t.due_at', 't.sla_plan_id', 't.manual_due_at', 't.first_response_due_at', 't.first_response_at', 't.next_response_due_at', 'p.alerts_disabled');
    // A plan with "disable overdue alerts" still marks overdue (osTicket flag 0x4); no plan → alerts apply.
    const alertsDisabled = dbBool(t.alerts_disabled);
    const tctx = withDb(ctx, trx);
    // Which deadline passed: a first response still missing, the resolution, or a date set by hand.
    const target = dueTarget(t);
    await recordTicketEvent(tctx, trx, ticketId, 'overdue', { dueAt: dbDate(t.due_at)?.toISOString() ?? null, slaPlanId: t.sla_plan_id ?? null, alertsDisabled, target });
    if (!alertsDisabled) await notifyTicket(tctx, trx, { kind: 'ticket_overdue', ticketId });
    return true;
  });
}
