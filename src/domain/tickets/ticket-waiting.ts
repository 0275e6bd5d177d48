/**
 * Closing tickets that waited on the requester too long (setting waiting_auto_close_days; 0 = never):
 * Zendesk's and Zammad's "pending close". A ticket an agent set to wait for the requester (status
 * 'pending') that got no answer for that many days is closed by the system, with an event saying why,
 * and the requester is told as for any close (setting notice_closed). A ticket with open tasks stays.
 *
 * Safe with any number of processes: each ticket is read locked and re-checked in its own transaction,
 * and saveTicket's version check lets only one runner close it.
 */
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { notifyTicket } from '../mail/ticket-notifications.ts';
import { getSettings } from '../settings/settings-service.ts';
import { saveTicket, statusChange } from './ticket-agent-common.ts';
import { recordTicketEvent } from './ticket-events.ts';

export interface CloseWaitingResult {
  closed: number;
  /** Held open by open tasks. */
  kept: number;
  failed: { ticketId: number; error: unknown }[];
}

type Candidate = { id: number; waiting_since: unknown };

/** Closes every ticket waiting on the requester for longer than the setting allows. Acts as `ctx.actor` (the system). */
export async function closeUnansweredWaitingTickets(ctx: ServiceContext, opts: { batchSize?: number; maxBatches?: number } = {}): Promise<CloseWaitingResult> {
  const result: CloseWaitingResult = { closed: 0, kept: 0, failed: [] };
  const days = (await getSettings(ctx.db)).waiting_auto_close_days;
  if (!days) return result;
  const batchSize = opts.batchSize ?? 100;
  const cutoff = toDbDate(new Date(ctx.clock().getTime() - days * 86_400_000))!;
  let after: Candidate | null = null;
  for (let batch = 0; batch < (opts.maxBatches ?? 50); batch++) {
    const candidates = await waitingSince(ctx.db, cutoff, after, batchSize);
    for (const c of candidates) {
      try {
        const outcome = await closeOne(ctx, c.id, cutoff, days);
        if (outcome === 'closed') result.closed += 1;
        else if (outcome === 'kept') result.kept += 1;
      } catch (error) {
        result.failed.push({ ticketId: c.id, error });
      }
    }
    if (candidates.length < batchSize) break;
    after = candidates[candidates.length - 1];
  }
  return result;
}

/** Tickets waiting since before `cutoff`, in (waiting_since, id) order after `after` (index tickets_waiting). */
function waitingSince(db: Knex, cutoff: string, after: Candidate | null, limit: number): Promise<Candidate[]> {
  const q = db('tickets').where('status', 'pending').andWhere('waiting_since', '<', cutoff)
    .orderBy([{ column: 'waiting_since' }, { column: 'id' }]).limit(limit).select('id', 'waiting_since');
  if (after) q.andWhere((w) => w.where('waiting_since', '>', after.waiting_since as string).orWhere((x) => x.where('waiting_since', after.waiting_since as string).andWhere('id', '>', after.id)));
  return q;
}

async function closeOne(ctx: ServiceContext, ticketId: number, cutoff: string, days: number): Promise<'closed' | 'kept' | 'gone'> {
  return inTransaction(ctx, async (trx) => {
    const t = await trx('tickets').where({ id: ticketId, status: 'pending' }).andWhere('waiting_since', '<', cutoff).forUpdate().first();
    if (!t) return 'gone'; // answered, changed or closed meanwhile
    const now = ctx.clock();
    let change;
    try {
      change = await statusChange(trx, t, 'closed', now);
    } catch (err) {
      if (err instanceof ValidationFailed) return 'kept'; // open tasks hold it open
      throw err;
    }
    await saveTicket(trx, t, change.patch, now);
    const tctx = withDb(ctx, trx);
    await recordTicketEvent(tctx, trx, t.id, change.event, { ...change.data, by: 'auto_close', days });
    await notifyTicket(tctx, trx, { kind: 'ticket_closed', ticketId: t.id, status: 'closed', waitedDays: days });
    return 'closed';
  });
}
