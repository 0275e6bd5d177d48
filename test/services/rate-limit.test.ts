/**
 * The rate-limit counter (src/web/shared/rate-limit-store.ts): one atomic upsert per hit that answers
 * the row as it now stands (INSERT … RETURNING on SQLite and MariaDB), and the two-statement path a
 * MySQL 8 server (no RETURNING) takes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { hitRateLimit } from '../../src/web/shared/rate-limit-store.ts';
import { assumeNoReturning } from '../../src/db/dialect.ts';
import { dbClient } from '../support/test-env.ts';
import { createDb } from '../../src/db/knex.ts';

const T0 = new Date('2026-03-02T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

describe('rate-limit counter', () => {
  let tdb: TestDb;
  const statements: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDb();
    tdb.db.on('query', (q: { sql: string }) => statements.push(q.sql));
  });
  afterAll(async () => tdb?.destroy());
  beforeEach(async () => {
    await tdb.db('rate_limits').delete();
    statements.length = 0;
  });

  it('counts hits in a window in one statement each, and restarts an expired window at 1', async () => {
    const a = await hitRateLimit(tdb.db, 'login:1.2.3.4', 60_000, T0);
    const b = await hitRateLimit(tdb.db, 'login:1.2.3.4', 60_000, later(1_000));
    const other = await hitRateLimit(tdb.db, 'login:5.6.7.8', 60_000, later(2_000));
    expect([a.totalHits, b.totalHits, other.totalHits]).toEqual([1, 2, 1]);
    expect(a.resetTime.toISOString()).toBe(later(60_000).toISOString());
    expect(b.resetTime.toISOString()).toBe(later(60_000).toISOString()); // a live window keeps its reset time
    expect(statements).toHaveLength(3);
    expect(statements.every((s) => /returning/i.test(s))).toBe(true);

    const c = await hitRateLimit(tdb.db, 'login:1.2.3.4', 60_000, later(60_000)); // the window has ended
    expect(c.totalHits).toBe(1);
    expect(c.resetTime.toISOString()).toBe(later(120_000).toISOString());
  });

  it('gives each of 20 concurrent hits its own count (the upsert and its answer are one statement)', async () => {
    // A pool of its own so that the hits really run side by side on MariaDB (SQLite serialises them).
    const db = createDb(tdb.database, { pool: { min: 0, max: 8 } });
    try {
      const hits = await Promise.all(Array.from({ length: 20 }, () => hitRateLimit(db, 'api:key', 60_000, T0)));
      expect(hits.map((h) => h.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await db.destroy();
    }
  });

  it.runIf(dbClient === 'mysql')(
    'on a server without RETURNING (MySQL 8) upserts and then reads the row',
    async () => {
      const db = createDb(tdb.database, { pool: { min: 0, max: 2 } });
      const seen: string[] = [];
      db.on('query', (q: { sql: string }) => seen.push(q.sql));
      try {
        assumeNoReturning(db);
        const a = await hitRateLimit(db, 'reset:x', 60_000, T0);
        const b = await hitRateLimit(db, 'reset:x', 60_000, later(5_000));
        expect([a.totalHits, b.totalHits]).toEqual([1, 2]);
        expect(b.resetTime.toISOString()).toBe(later(60_000).toISOString());
        expect(seen).toHaveLength(4);
        expect(seen.some((s) => /returning/i.test(s))).toBe(false);
      } finally {
        await db.destroy();
      }
    },
  );
});
