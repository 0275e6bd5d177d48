/**
 * Deletes what has expired and can never be used again, so that tables which gain rows with every
 * ticket, visitor or sign-in stay the size of what is live:
 * - access tokens (portal access links, password resets) past their expiry: findAccessToken refuses
 *   them anyway, the same as a token that never existed;
 * - rate-limit windows that have ended: the next hit starts a new window at 1 either way (not an
 *   API key's: its window says when the key was last used, and goes with the key);
 * - ticket locks that ended more than an hour ago (not the moment they end: an agent's lock renewal
 *   reads the lock and then updates it, and a lock deleted in between would not be renewed);
 * - webhook deliveries delivered more than WEBHOOK_DELIVERED_KEEP_DAYS ago, and failed ones (an
 *   admin may redeliver those) after WEBHOOK_FAILED_KEEP_DAYS; queued ones are never touched.
 * Sessions are pruned by their store (src/web/shared/session-store.ts).
 * Rows go in batches, each batch one short statement, so no run holds many locks at once.
 */
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { API_KEY_WINDOW_PREFIX } from '../api-keys/api-key-service.ts';

/** Rows deleted per statement. */
export const PURGE_BATCH = 500;
/** At most this many batches per table and run: a backlog is worked off over several runs. */
export const PURGE_MAX_BATCHES = 40;
/** How long after it ended a ticket lock is kept. */
export const LOCK_GRACE_MS = 60 * 60_000;
/** Days a delivered webhook delivery stays in its webhook's log, and a failed one. */
export const WEBHOOK_DELIVERED_KEEP_DAYS = 7;
export const WEBHOOK_FAILED_KEEP_DAYS = 30;
const DAY_MS = 24 * 3600_000;

export interface PurgeResult {
  accessTokens: number;
  rateLimits: number;
  ticketLocks: number;
  webhookDeliveries: number;
}

/**
 * Deletes rows of `table` whose `column` is before `cutoff` (and whose `key` does not start with
 * `keepPrefix`; and that match `scope`), by `key`, a batch at a time.
 */
async function purgeBefore(db: Knex | Knex.Transaction, table: string, key: string, column: string, cutoff: Date, o: Required<PurgeOptions>, keepPrefix?: string, scope: Record<string, string> = {}): Promise<number> {
  const before = toDbDate(cutoff);
  let deleted = 0;
  for (let batch = 0; batch < o.maxBatches; batch++) {
    const q = db(table).where(scope).where(column, '<', before);
    if (keepPrefix) q.whereNot(key, 'like', `${keepPrefix}%`);
    const keys = await q.orderBy(column).limit(o.batch).pluck(key);
    if (keys.length === 0) break;
    // The expiry is tested again: a row renewed since it was read (a new rate-limit window, a redelivery) stays.
    deleted += await db(table).whereIn(key, keys).where(scope).where(column, '<', before).delete();
    if (keys.length < o.batch) break;
  }
  return deleted;
}

export interface PurgeOptions {
  /** Rows per statement (default PURGE_BATCH). */
  batch?: number;
  /** Batches per table and run (default PURGE_MAX_BATCHES). */
  maxBatches?: number;
}

/** Deletes expired access tokens, ended rate-limit windows, long-ended ticket locks and old webhook deliveries; says how many of each. */
export async function purgeExpired(ctx: ServiceContext, opts: PurgeOptions = {}): Promise<PurgeResult> {
  const o = { batch: opts.batch ?? PURGE_BATCH, maxBatches: opts.maxBatches ?? PURGE_MAX_BATCHES };
  const now = ctx.clock();
  return {
    accessTokens: await purgeBefore(ctx.db, 'access_tokens', 'id', 'expires_at', now, o),
    rateLimits: await purgeBefore(ctx.db, 'rate_limits', 'key', 'reset_at', now, o, API_KEY_WINDOW_PREFIX),
    ticketLocks: await purgeBefore(ctx.db, 'ticket_locks', 'ticket_id', 'expires_at', new Date(now.getTime() - LOCK_GRACE_MS), o),
    webhookDeliveries:
      await purgeBefore(ctx.db, 'webhook_deliveries', 'id', 'finished_at', new Date(now.getTime() - WEBHOOK_DELIVERED_KEEP_DAYS * DAY_MS), o, undefined, { status: 'delivered' })
      + await purgeBefore(ctx.db, 'webhook_deliveries', 'id', 'finished_at', new Date(now.getTime() - WEBHOOK_FAILED_KEEP_DAYS * DAY_MS), o, undefined, { status: 'failed' }),
  };
}
