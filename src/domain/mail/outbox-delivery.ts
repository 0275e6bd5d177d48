/**
 * Delivery state of outbox rows, shared by every worker process.
 *
 * Claiming is one conditional UPDATE (`… SET status='sending' … WHERE id=? AND status='queued'`):
 * of several processes racing for a row exactly one sees "1 row changed" and sends it.
 *
 * Delivery is AT-LEAST-ONCE. A process that dies between the SMTP server accepting a message and
 * the UPDATE to 'sent' leaves the row in 'sending'; after SENDING_TIMEOUT_MS it is queued again and
 * may be sent a second time. We prefer a rare duplicate to a lost message. The duplicate carries
 * the same Message-ID (fixed when the row was written), so mail clients and our own inbound
 * de-duplication recognise it. The attempt counter is raised at claim time, so a message that
 * crashes its worker every time still ends in 'failed' after MAX_ATTEMPTS.
 */
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';

type Db = Knex | Knex.Transaction;

/** After this many attempts a message is marked 'failed' (an admin may retry it from the mail log). */
export const MAX_ATTEMPTS = 8;
/** A row in 'sending' longer than this belongs to a worker that died; it is queued again. */
export const SENDING_TIMEOUT_MS = 10 * 60_000;

/** Delay before attempt n+1 after n failed attempts: 1, 2, 4, 8 … minutes, at most 6 hours. */
export function backoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 6 * 3600_000);
}

export interface OutboxRow {
  id: number;
  template: string;
  ticket_id: number | null;
  to_address: string;
  to_name: string | null;
  from_address: string | null;
  from_name: string | null;
  reply_to: string | null;
  subject: string;
  text_body: string;
  html_body: string | null;
  headers: string | null;
  message_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

/**
 * Puts rows stuck in 'sending' (their worker died) back in the queue — but discards one whose text
 * was removed meanwhile (its ticket deleted: redacted_at), which must not go out. Returns how many.
 */
export async function recoverStuckMessages(db: Db, now: Date): Promise<number> {
  const cutoff = toDbDate(new Date(now.getTime() - SENDING_TIMEOUT_MS));
  return db('outbox')
    .where({ status: 'sending' })
    .andWhere('locked_at', '<', cutoff)
    .update({
      status: db.raw("case when ?? is null then 'queued' else 'discarded' end", ['redacted_at']), locked_by: null, locked_at: null, next_attempt_at: toDbDate(now),
      last_error: 'Recovered after the sending worker stopped; may have been delivered already',
    });
}

/** Ids of queued messages that are due, oldest first. */
export async function dueMessageIds(db: Db, now: Date, limit: number): Promise<number[]> {
  return db('outbox').where({ status: 'queued' }).andWhere('next_attempt_at', '<=', toDbDate(now)).orderBy([{ column: 'next_attempt_at' }, { column: 'id' }]).limit(limit).pluck('id');
}

/** Claims one queued message for `workerId`; returns the row, or null when another worker won. */
export async function claimMessage(db: Db, id: number, workerId: string, now: Date): Promise<OutboxRow | null> {
  const changed = await db('outbox')
    .where({ id, status: 'queued' })
    .update({ status: 'sending', locked_by: workerId.slice(0, 64), locked_at: toDbDate(now), attempts: db.raw('attempts + 1') });
  if (changed !== 1) return null;
  const row = await db('outbox').where({ id }).first();
  // Its ticket was deleted between the claim and this read: its text is gone, and so is the message.
  if (row.redacted_at) {
    await db('outbox').where({ id, status: 'sending', locked_by: workerId.slice(0, 64) }).update({ status: 'discarded', locked_by: null, locked_at: null });
    return null;
  }
  return row as OutboxRow;
}

export async function markDelivered(db: Db, id: number, workerId: string, now: Date): Promise<void> {
  await db('outbox').where({ id, status: 'sending', locked_by: workerId.slice(0, 64) }).update({ status: 'sent', sent_at: toDbDate(now), locked_by: null, locked_at: null, last_error: null });
}

/**
 * Records a failed attempt: queued again with backoff, or 'failed' after MAX_ATTEMPTS or when the
 * server refused it permanently (5xx). Returns the new status.
 */
export async function markAttemptFailed(db: Db, row: Pick<OutboxRow, 'id' | 'attempts'>, workerId: string, now: Date, error: string, permanent: boolean): Promise<'queued' | 'failed'> {
  const status = permanent || row.attempts >= MAX_ATTEMPTS ? 'failed' : 'queued';
  await db('outbox')
    .where({ id: row.id, status: 'sending', locked_by: workerId.slice(0, 64) })
    .update({ status, locked_by: null, locked_at: null, last_error: error.slice(0, 2000), next_attempt_at: toDbDate(new Date(now.getTime() + backoffMs(row.attempts))) });
  return status;
}
