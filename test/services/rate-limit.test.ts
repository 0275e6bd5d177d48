/**
 * The rate-limit counter (src/domain/rate-limits/rate-limit-window.ts): one atomic upsert per hit that
 * answers the row as it now stands (INSERT … RETURNING on SQLite and MariaDB), and the two-statement
 * path a MySQL 8 server (no RETURNING) takes; the same for an API key's calls (api-key-service.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { hitRateLimit } from '../../src/domain/rate-limits/rate-limit-window.ts';
import { assumeNoReturning } from '../../src/db/dialect.ts';
import { dbClient } from '../support/test-env.ts';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex.ts';
import { authenticateApiKey, createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { SYSTEM } from '../../src/domain/actor.ts';
import { withRequestMemo } from '../../src/domain/request-memo.ts';

const T0 = new Date('2026-03-02T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);

/**
 * Runs `fn` on a pool of its own with `max` connections (so that calls really run side by side on
 * MariaDB; SQLite serialises them), collecting every statement's SQL; `noReturning`: as a MySQL 8 server.
 */
async function onOwnPool(tdb: TestDb, o: { max: number; noReturning?: boolean }, fn: (db: Knex, seen: string[]) => Promise<void>): Promise<void> {
  const db = createDb(tdb.database, { pool: { min: 0, max: o.max } });
  const seen: string[] = [];
  db.on('query', (q: { sql: string }) => seen.push(q.sql));
  if (o.noReturning) assumeNoReturning(db);
  try {
    await fn(db, seen);
  } finally {
    await db.destroy();
  }
}

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

  it('answers what rides along (scalar subqueries) in the same statement', async () => {
    statements.length = 0;
    // (A subquery of another table: MariaDB refuses one of the table being written.)
    const [session] = await tdb.db('sessions').insert({ sid: 'along', sess: '{"n":7}', expires_at: '2030-01-01 00:00:00.000' }).then(() => tdb.db('sessions').where({ sid: 'along' }).select('sid'));
    statements.length = 0;
    const hit = await hitRateLimit(tdb.db, 'login:9.9.9.9', 60_000, T0, [tdb.db.raw('(?) as ??', [tdb.db('sessions').where('sid', session.sid).select('sess'), 'sess'])]);
    expect(hit.totalHits).toBe(1);
    expect(JSON.parse(String(hit.row.sess))).toEqual({ n: 7 });
    expect(statements).toHaveLength(1);
  });

  it('gives each of 20 concurrent hits its own count (the upsert and its answer are one statement)', async () => {
    await onOwnPool(tdb, { max: 8 }, async (db) => {
      const hits = await Promise.all(oneToTwenty.map(() => hitRateLimit(db, 'api:key', 60_000, T0)));
      expect(hits.map((h) => h.totalHits).sort((x, y) => x - y)).toEqual(oneToTwenty);
    });
  });

  it.runIf(dbClient === 'mysql')(
    'on a server without RETURNING (MySQL 8) upserts and then reads the row',
    async () => {
      await onOwnPool(tdb, { max: 2, noReturning: true }, async (db, seen) => {
        const a = await hitRateLimit(db, 'reset:x', 60_000, T0);
        const b = await hitRateLimit(db, 'reset:x', 60_000, later(5_000));
        expect([a.totalHits, b.totalHits]).toEqual([1, 2]);
        expect(b.resetTime.toISOString()).toBe(later(60_000).toISOString());
        expect(seen).toHaveLength(4);
        expect(seen.some((s) => /returning/i.test(s))).toBe(false);
        // What rides along comes with the row read after the upsert.
        const c = await hitRateLimit(db, 'reset:x', 60_000, later(6_000), [db.raw('(select 42) as ??', ['answer'])]);
        expect([c.totalHits, Number(c.row.answer)]).toEqual([3, 42]);
      });
    },
  );
});

describe("an API key's calls (authenticateApiKey: the key found and the call counted in one statement)", () => {
  let tdb: TestDb;
  let key: { id: number; key: string };
  const ctx = () => ({ db: tdb.db, actor: SYSTEM, clock: () => T0, publicUrl: 'http://x.test' });

  beforeAll(async () => {
    tdb = await createTestDb();
    key = await createApiKey(ctx(), { allowedIp: '*', canCreateTickets: true });
  });
  afterAll(async () => tdb?.destroy());
  beforeEach(async () => {
    await tdb.db('rate_limits').delete();
  });

  it('counts each call in one statement, the key and the settings with it; a new window starts at 1', async () => {
    const seen: string[] = [];
    const onQuery = (q: { sql: string }) => seen.push(q.sql);
    tdb.db.on('query', onQuery);
    try {
      // Each call in a request's memo, as the app makes them: the settings come with the key (primeSettings).
      const a = await withRequestMemo(() => authenticateApiKey(tdb.db, key.key, '10.0.0.1', T0));
      const b = await withRequestMemo(() => authenticateApiKey(tdb.db, ` ${key.key} `, '10.0.0.1', later(30_000)));
      expect([a.hits, b.hits]).toEqual([1, 2]);
      expect(b.actor).toEqual({ kind: 'api', keyId: key.id, canCreateTickets: true, canManageTickets: false });
      expect(b.limit).toBe(300);
      expect(b.resetAt.toISOString()).toBe(later(60_000).toISOString());
      expect(seen).toHaveLength(2);
    } finally {
      tdb.db.removeListener('query', onQuery);
    }
    const c = await authenticateApiKey(tdb.db, key.key, '10.0.0.1', later(60_000));
    expect([c.hits, c.resetAt.toISOString()]).toEqual([1, later(120_000).toISOString()]);
  });

  it('gives each of 20 concurrent calls its own count', async () => {
    await onOwnPool(tdb, { max: 8 }, async (db) => {
      const calls = await Promise.all(oneToTwenty.map(() => authenticateApiKey(db, key.key, '10.0.0.1', T0)));
      expect(calls.map((c) => c.hits).sort((x, y) => x - y)).toEqual(oneToTwenty);
    });
  });

  it('refuses an unknown key without writing anything', async () => {
    await expect(authenticateApiKey(tdb.db, 'tsk_unknown', '10.0.0.1', T0)).rejects.toMatchObject({ code: 'API_KEY_REQUIRED' });
    await expect(authenticateApiKey(tdb.db, '   ', '10.0.0.1', T0)).rejects.toMatchObject({ code: 'API_KEY_REQUIRED' });
    expect(await tdb.db('rate_limits').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  it.runIf(dbClient === 'mysql')(
    'on a server without RETURNING (MySQL 8) counts and then reads the window with the key',
    async () => {
      await onOwnPool(tdb, { max: 2, noReturning: true }, async (db, seen) => {
        const a = await withRequestMemo(() => authenticateApiKey(db, key.key, '10.0.0.1', T0));
        const b = await withRequestMemo(() => authenticateApiKey(db, key.key, '10.0.0.1', later(5_000)));
        expect([a.hits, b.hits]).toEqual([1, 2]);
        expect(b.actor.keyId).toBe(key.id);
        expect(b.resetAt.toISOString()).toBe(later(60_000).toISOString());
        expect(seen).toHaveLength(4);
        expect(seen.some((s) => /returning/i.test(s))).toBe(false);
        await expect(authenticateApiKey(db, 'tsk_unknown', '10.0.0.1', T0)).rejects.toMatchObject({ code: 'API_KEY_REQUIRED' });
      });
    },
  );
});
