/**
 * A queue filtered by source, or by a status of the closed state, reads that value's tickets from its
 * own index in update order (migration 20261128163000): tested on each ticket of the state instead,
 * a value few tickets have walked the whole state (9–59 s at 1M tickets, docs/benchmarks.md, session 12).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.ts';
import { startPlanApp } from '../support/plan-app.ts';
import { statementsDuring } from '../support/statements.ts';
import { buildAdmin, buildAgent, type BuiltAgent } from '../factories/index.ts';
import { listQueue } from '../../src/domain/tickets/ticket-queue-queries.ts';

describe('queue filter query plans', () => {
  let t: TestApp;
  let admin: BuiltAgent;
  let agent: BuiltAgent;

  beforeAll(async () => {
    // The ANALYZE comes after the rare values below.
    const started = await startPlanApp([]);
    t = started.t;
    const seed = started.seed;
    admin = await buildAdmin(t.db);
    agent = await buildAgent(t.db, { department_id: seed.departments[1] });
    // A few tickets of a rare source and a rare status (bulkSeed writes web, email, phone, api; closed).
    const ids = await t.db('tickets').where({ state: 'closed', department_id: seed.departments[1] }).orderBy('id').limit(6).pluck('id');
    await t.db('tickets').whereIn('id', ids.slice(0, 3)).update({ source: 'chat' });
    await t.db('tickets').whereIn('id', ids.slice(3)).update({ status: 'resolved' });
    // SQLite without statistics, as in production (the app never runs ANALYZE there).
    if (t.config.database.client !== 'sqlite') await t.db.raw('ANALYZE TABLE tickets');
  }, 120_000);
  afterAll(async () => t?.close());

  /** How each statement of a queue page reads `tickets as t` (the summary's counts aside). */
  async function ticketReads(who: BuiltAgent, params: Record<string, string>): Promise<string[]> {
    const { result: page, statements: seen } = await statementsDuring(t.db, () => listQueue(t.ctx(who.actor), params));
    expect(page.total).toBeGreaterThan(0);
    const reads: string[] = [];
    for (const s of seen.filter((q) => /`t`\.`(source|status)` = \?/.test(q.sql))) {
      if (t.config.database.client === 'sqlite') {
        const plan = ((await t.db.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any[])) as { detail: string }[]).map((r) => r.detail);
        reads.push(...plan.filter((d) => /^(SEARCH|SCAN) t\b/.test(d) && !/PRIMARY KEY/.test(d)));
      } else {
        const [plan] = (await t.db.raw(`EXPLAIN ${s.sql}`, s.bindings as any[])) as unknown as [{ table: string; type: string; key: string | null; Extra: string | null }[]];
        reads.push(...plan.filter((r) => r.table === 't' && r.type !== 'eq_ref').map((r) => `${r.key} ${r.Extra ?? ''}`));
      }
    }
    return reads;
  }

  for (const [label, params, index] of [
    ['a source few tickets have', { queue: 'closed', source: 'chat' }, 'tickets_source_queue'],
    ['a common source', { queue: 'closed', source: 'phone' }, 'tickets_source_queue'],
    ['a status few closed tickets have', { queue: 'closed', status: 'resolved' }, 'tickets_status_queue'],
  ] as const) {
    it(`reads ${label} from ${index} in update order, as an admin (page and total)`, async () => {
      const reads = await ticketReads(admin, params);
      // The summary statement's six queue counts read their own indexes; its total and the page read
      // the value's range, and nothing is sorted.
      expect(reads.filter((r) => r.includes(index))).toHaveLength(2);
      for (const r of reads) expect(r).not.toMatch(/filesort|TEMP B-TREE/);
    });
  }

  it('finds the same tickets for an agent of one department (their parts: the planner\'s indexes)', async () => {
    const chat = await t.db('tickets').where({ source: 'chat' }).orderBy('updated_at', 'desc').orderBy('id', 'desc').pluck('id');
    const page = await listQueue(t.ctx(agent.actor), { queue: 'closed', source: 'chat' });
    expect(page.rows.map((r) => r.id)).toEqual(chat);
    const asAdmin = await listQueue(t.ctx(admin.actor), { queue: 'closed', source: 'chat' });
    expect(asAdmin.rows.map((r) => r.id)).toEqual(chat);
    expect(asAdmin.total).toBe(3);
  });
});
