/**
 * Fixed-window counters in the `rate_limits` table, shared by all processes: login, password reset,
 * ticket creation, inbound mail (through express-rate-limit: src/web/shared/rate-limit-store.ts)
 * and each API key (counted by the statement that finds the key: api-key-service.ts).
 * NOTE(dialect): a hit is one INSERT … ON CONFLICT / ON DUPLICATE KEY UPDATE … RETURNING.
 */
import type { Knex } from 'knex';
import { dbDate, insertReturning, toDbDate } from '../../db/dialect.ts';

/**
 * The upsert's assignments for a hit at `now`: a new or ended window restarts at 1 and ends
 * `windowMs` later, a live one counts up.
 * NOTE(dialect): `hits` must be assigned before `reset_at`: MySQL evaluates ON DUPLICATE KEY UPDATE
 * assignments left to right (the second CASE must still see the old reset_at); SQLite sees old values in both.
 */
export function windowAssignments(db: Knex | Knex.Transaction, now: Date, windowMs: number): { hits: Knex.Raw; reset_at: Knex.Raw } {
  const nowDb = toDbDate(now);
  return {
    hits: db.raw('CASE WHEN ?? <= ? THEN 1 ELSE ?? + 1 END', ['rate_limits.reset_at', nowDb, 'rate_limits.hits']),
    reset_at: db.raw('CASE WHEN ?? <= ? THEN ? ELSE ?? END', ['rate_limits.reset_at', nowDb, windowEnd(now, windowMs), 'rate_limits.reset_at']),
  };
}

/** When a window that starts at `now` ends, as stored. */
export function windowEnd(now: Date, windowMs: number): string {
  return toDbDate(new Date(now.getTime() + windowMs));
}

/**
 * Counts one hit for `key` in a fixed window; returns the hits so far and when the window resets.
 * One atomic upsert that answers the row as it now stands (RETURNING; on MySQL 8 a second statement
 * reads it). No transaction needed. `along`: scalar subqueries (`(…) as name`) answered in the same
 * statement, in `row` (what the request reads next rides on the hit: a session, the settings).
 */
export async function hitRateLimit(
  db: Knex | Knex.Transaction, key: string, windowMs: number, now: Date, along: Knex.Raw[] = [],
): Promise<{ totalHits: number; resetTime: Date; row: Record<string, unknown> }> {
  const k = key.slice(0, 191);
  const upsert = db('rate_limits')
    .insert({ key: k, hits: 1, reset_at: windowEnd(now, windowMs) })
    .onConflict('key')
    .merge(windowAssignments(db, now, windowMs));
  const columns = [db.ref('hits'), db.ref('reset_at'), ...along];
  const returning = db.raw(columns.map(() => '?').join(', '), columns);
  const [row] = await insertReturning<Record<string, unknown>>(db, upsert, returning, () => db('rate_limits').where({ key: k }).select(columns));
  return { totalHits: Number(row.hits), resetTime: dbDate(row.reset_at)!, row };
}
