/** express-rate-limit store on the `rate_limits` table: fixed windows shared by all processes (see rate-limit-window.ts). */
import type { Knex } from 'knex';
import type { Store, Options, IncrementResponse } from 'express-rate-limit';
import { hitRateLimit } from '../../domain/rate-limits/rate-limit-window.ts';
import { requestMemo } from '../../domain/request-memo.ts';
import { sessionAlongColumns } from './session-store.ts';

export class KnexRateLimitStore implements Store {
  private windowMs = 60_000;
  prefix: string;
  constructor(private readonly db: Knex, prefix: string, private readonly clock: () => Date = () => new Date()) {
    this.prefix = prefix;
  }
  init(options: Options): void {
    this.windowMs = options.windowMs;
  }
  /** Counts the hit; a session the request carries before it is read (limitsBeforeSession) is read in the same statement. */
  async increment(key: string): Promise<IncrementResponse> {
    const along = requestMemo()?.sessionAlong;
    const hit = await hitRateLimit(this.db, `${this.prefix}:${key}`, this.windowMs, this.clock(), along && !along.row ? sessionAlongColumns(this.db, along.sid) : []);
    if (along && !along.row) along.row = hit.row;
    return { totalHits: hit.totalHits, resetTime: hit.resetTime };
  }
  async decrement(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: `${this.prefix}:${key}` }).where('hits', '>', 0).decrement('hits', 1);
  }
  async resetKey(key: string): Promise<void> {
    await this.db('rate_limits').where({ key: `${this.prefix}:${key}` }).delete();
  }
}
