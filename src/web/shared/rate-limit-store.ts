/**
 * express-rate-limit store on the `rate_limits` table: fixed windows shared by all processes.
 * NOTE(dialect): the increment is a single UPSERT-like sequence inside a transaction on both dialects.
 */
import type { Knex } from 'knex';
import type { Store, Options, IncrementResponse } from 'express-rate-limit';
import { dbDate, toDbDate } from '../../db/dialect.ts';

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

/** Counts one hit for `key` in a fixed window; returns the hits so far and when the window resets. */
export async function hitRateLimit(db: Knex | Knex.Transaction, key: string, windowMs: number, now: Date): Promise<{ totalHits: number; resetTime: Date }> {
  const k = key.slice(0, 191);
  const run = async (trx: Knex.Transaction) => {
    const row = await trx('rate_limits').where({ key: k }).forUpdate().first();
    const reset = row ? dbDate(row.reset_at)! : null;
    if (!row || reset! <= now) {
      const resetTime = new Date(now.getTime() + windowMs);
      await trx('rate_limits').insert({ key: k, hits: 1, reset_at: toDbDate(resetTime) }).onConflict('key').merge();
      return { totalHits: 1, resetTime };
    }
    await trx('rate_limits').where({ key: k }).increment('hits', 1);
    return { totalHits: row.hits + 1, resetTime: reset! };
  };
  return (db as Knex.Transaction).isTransaction ? run(db as Knex.Transaction) : (db as Knex).transaction(run);
}
