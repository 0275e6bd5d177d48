/**
 * express-rate-limit store on the `rate_limits` table: fixed windows shared by all processes.
 * NOTE(dialect): the increment is one INSERT … ON CONFLICT / ON DUPLICATE KEY UPDATE … RETURNING (see hitRateLimit).
 */
import type { Knex } from 'knex';
import type { Store, Options, IncrementResponse } from 'express-rate-limit';
import { dbDate, insertReturning, toDbDate } from '../../db/dialect.ts';

export class KnexRateLimitStore implements Store {
  private windowMs = 60_000;
  prefix: string;
  constructor(private readonly db: Knex, prefix: string, private readonly clock: () => Date = () => new Date()) {
    this.prefix = prefix;
  }
  init(options: Options): void {
    this.windowMs = options.windowMs;
  }
  async increment(key: string): Promise<IncrementResponse> {
    return hitRateLimit(this.db, `${this.prefix}:${key}`, this.windowMs, this.clock());
  }
  async decrement(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: `${this.prefix}:${key}` }).where('hits', '>', 0).decrement('hits', 1);
  }
  async resetKey(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: `${this.prefix}:${key}` }).delete();
  }
}

/**
 * Counts one hit for `key` in a fixed window; returns the hits so far and when the window resets.
 * One atomic upsert (a new or expired window restarts at 1, a live one counts up) that answers the
 * row as it now stands (RETURNING; on MySQL 8 a second statement reads it). No transaction needed.
 */
export async function hitRateLimit(db: Knex | Knex.Transaction, key: string, windowMs: number, now: Date): Promise<{ totalHits: number; resetTime: Date }> {
  const k = key.slice(0, 191);
  const nowDb = toDbDate(now);
  const nextReset = toDbDate(new Date(now.getTime() + windowMs));
  // NOTE(dialect): `hits` must be assigned before `reset_at`: MySQL evaluates ON DUPLICATE KEY UPDATE
  // assignments left to right (the second CASE must still see the old reset_at); SQLite sees old values in both.
  const upsert = db('rate_limits')
    .insert({ key: k, hits: 1, reset_at: nextReset })
    .onConflict('key')
    .merge({
      hits: db.raw('CASE WHEN ?? <= ? THEN 1 ELSE ?? + 1 END', ['reset_at', nowDb, 'hits']),
      reset_at: db.raw('CASE WHEN ?? <= ? THEN ? ELSE ?? END', ['reset_at', nowDb, nextReset, 'reset_at']),
    });
  const row = await insertReturning<{ hits: unknown; reset_at: unknown }>(db, upsert, ['hits', 'reset_at'], () => db('rate_limits').where({ key: k }).first('hits', 'reset_at'));
  return { totalHits: Number(row!.hits), resetTime: dbDate(row!.reset_at)! };
}
