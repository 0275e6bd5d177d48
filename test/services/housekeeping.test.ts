/**
 * The housekeeping task (src/domain/housekeeping/housekeeping-service.ts): what has expired goes,
 * what is live stays and keeps working, a backlog goes in batches over several runs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildTicket } from '../factories/index.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { createAccessToken, findAccessToken } from '../../src/domain/auth/access-tokens.ts';
import { LOCK_GRACE_MS, purgeExpired } from '../../src/domain/housekeeping/housekeeping-service.ts';
import { apiKeyWindowKey } from '../../src/domain/api-keys/api-key-service.ts';
import { hitRateLimit } from '../../src/domain/rate-limits/rate-limit-window.ts';
import { HOUSEKEEPING_INTERVAL_MS, housekeepingTask } from '../../src/jobs/housekeeping-task.ts';
import { backgroundTasks } from '../../src/jobs/tasks.ts';
import { createLogger } from '../../src/logger.ts';

const MIN = 60_000;

describe('purgeExpired', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-04-01T09:00:00Z' });
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    for (const table of ['access_tokens', 'rate_limits', 'ticket_locks']) await t.db(table).delete();
  });
  const ago = (ms: number) => new Date(t.clock().getTime() - ms);

  it('deletes expired access tokens and keeps live ones working', async () => {
    const ticket = await buildTicket(t.db);
    const expired = await createAccessToken(t.db, { kind: 'portal_access', userId: ticket.userId, ticketId: ticket.id, ttlMinutes: 60 }, ago(61 * MIN));
    const live = await createAccessToken(t.db, { kind: 'portal_access', userId: ticket.userId, ticketId: ticket.id, ttlMinutes: 60 }, ago(59 * MIN));
    const reset = await createAccessToken(t.db, { kind: 'password_reset', userId: ticket.userId, ttlMinutes: 30 }, ago(31 * MIN));
    expect(await findAccessToken(t.db, 'portal_access', expired, t.clock(), false)).toBeNull(); // refused before the purge too

    expect(await purgeExpired(t.ctx())).toEqual({ accessTokens: 2, rateLimits: 0, ticketLocks: 0, webhookDeliveries: 0 });
    expect(await t.db('access_tokens').count({ n: '*' }).first()).toMatchObject({ n: 1 });
    expect(await findAccessToken(t.db, 'portal_access', live, t.clock(), false)).toMatchObject({ ticketId: ticket.id });
    expect(await findAccessToken(t.db, 'password_reset', reset, t.clock(), false)).toBeNull();
  });

  it("deletes ended rate-limit windows; a live window keeps its count, an API key's ended window stays (it says when the key was last used)", async () => {
    await hitRateLimit(t.db, 'login:10.0.0.1', 15 * MIN, ago(16 * MIN)); // ended a minute ago
    await hitRateLimit(t.db, 'login:10.0.0.2', 15 * MIN, ago(5 * MIN));
    await hitRateLimit(t.db, 'login:10.0.0.2', 15 * MIN, ago(4 * MIN));
    await hitRateLimit(t.db, apiKeyWindowKey(7), MIN, ago(90 * MIN));
    await hitRateLimit(t.db, 'apikey:lookalike', MIN, ago(90 * MIN)); // not an API key's window

    expect(await purgeExpired(t.ctx())).toEqual({ accessTokens: 0, rateLimits: 2, ticketLocks: 0, webhookDeliveries: 0 });
    expect(await t.db('rate_limits').orderBy('key').pluck('key')).toEqual([apiKeyWindowKey(7), 'login:10.0.0.2']);
    await t.db('rate_limits').where({ key: apiKeyWindowKey(7) }).delete();
    expect((await hitRateLimit(t.db, 'login:10.0.0.2', 15 * MIN, t.clock())).totalHits).toBe(3);
    expect((await hitRateLimit(t.db, 'login:10.0.0.1', 15 * MIN, t.clock())).totalHits).toBe(1);
  });

  it('deletes ticket locks only an hour after they ended', async () => {
    const agent = await buildAgent(t.db);
    const [old, recent, live] = [await buildTicket(t.db), await buildTicket(t.db), await buildTicket(t.db)];
    await t.db('ticket_locks').insert([
      { ticket_id: old.id, agent_id: agent.id, expires_at: toDbDate(ago(LOCK_GRACE_MS + MIN)) },
      { ticket_id: recent.id, agent_id: agent.id, expires_at: toDbDate(ago(LOCK_GRACE_MS - MIN)) },
      { ticket_id: live.id, agent_id: agent.id, expires_at: toDbDate(ago(-5 * MIN)) },
    ]);
    expect(await purgeExpired(t.ctx())).toEqual({ accessTokens: 0, rateLimits: 0, ticketLocks: 1, webhookDeliveries: 0 });
    expect((await t.db('ticket_locks').orderBy('ticket_id').pluck('ticket_id')).map(Number)).toEqual([recent.id, live.id]);
  });

  it('works off a backlog in batches, at most so many per run', async () => {
    const rows = Array.from({ length: 23 }, (_, i) => ({ key: `portal-open:10.1.0.${i}`, hits: 1, reset_at: toDbDate(ago((i + 1) * MIN)) }));
    await t.db('rate_limits').insert([...rows, { key: 'portal-open:live', hits: 4, reset_at: toDbDate(ago(-MIN)) }]);
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => statements.push(q.sql);
    t.db.on('query', onQuery);
    try {
      expect((await purgeExpired(t.ctx(), { batch: 5, maxBatches: 3 })).rateLimits).toBe(15);
    } finally {
      t.db.removeListener('query', onQuery);
    }
    expect(statements.filter((s) => /^delete/i.test(s))).toHaveLength(3);
    // The oldest go first; the next run takes the rest and leaves the live window.
    expect(await t.db('rate_limits').count({ n: '*' }).first()).toMatchObject({ n: 9 });
    expect(await t.db('rate_limits').where({ key: 'portal-open:10.1.0.22' }).first()).toBeUndefined();
    expect((await purgeExpired(t.ctx(), { batch: 5, maxBatches: 3 })).rateLimits).toBe(8);
    expect(await t.db('rate_limits').pluck('key')).toEqual(['portal-open:live']);
  });

  it('runs as a background task every 10 minutes', async () => {
    expect(backgroundTasks).toContain(housekeepingTask);
    const deps = { config: t.config, db: t.db, clock: t.clock, logger: createLogger(t.config) };
    expect(await housekeepingTask.intervalMs(deps)).toBe(HOUSEKEEPING_INTERVAL_MS);
    await hitRateLimit(t.db, 'csp:10.0.0.9', MIN, ago(2 * MIN));
    await housekeepingTask.run(deps);
    expect(await t.db('rate_limits').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });
});
