/**
 * The API's ticket list chooses its page from `tickets` alone and joins the names to that page's
 * rows only. Joined first, MariaDB started from the smaller users table and sorted every ticket of the
 * desk for one page (45–61 s at 1M tickets, docs/benchmarks.md, session 12).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.ts';
import { startPlanApp } from '../support/plan-app.ts';
import { statementsDuring, type Statement } from '../support/statements.ts';
import type { bulkSeed } from '../../bench/bulk-seed.ts';
import { listTicketsForApi } from '../../src/domain/api/api-ticket-queries.ts';

describe('API ticket list query plans', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<typeof bulkSeed>>;
  let ctx: ReturnType<TestApp['ctx']>;

  beforeAll(async () => {
    ({ t, seed } = await startPlanApp(['tickets', 'users']));
    ctx = t.ctx({ kind: 'api', keyId: 1, canCreateTickets: false, canManageTickets: true });
  }, 120_000);
  afterAll(async () => t?.close());

  async function statementOf(input: Record<string, string>): Promise<Statement> {
    const { result: page, statements: seen } = await statementsDuring(t.db, () => listTicketsForApi(ctx, input));
    expect(page.data.length).toBeGreaterThan(0);
    const lists = seen.filter((s) => /from/.test(s.sql) && /`tickets` as `t`/.test(s.sql));
    expect(lists).toHaveLength(1);
    return lists[0];
  }

  for (const [label, input] of [['no filter', {}], ['closed tickets', { state: 'closed' }], ['a status and a source', { status: 'closed', source: 'web' }], ['one department', { departmentId: '' }], ['a requester', { email: '' }]] as const) {
    it(`sorts no more than its page: ${label}`, async () => {
      const filled: Record<string, string> = { ...input };
      if ('departmentId' in filled) filled.departmentId = String(seed.departments[1]);
      if ('email' in filled) filled.email = seed.sampleUserEmail;
      const s = await statementOf(filled);
      if (t.config.database.client === 'sqlite') {
        const plan = ((await t.db.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any[])) as { id: number; parent: number; detail: string }[]);
        // The page is a subquery of ticket ids; the requester is looked up for its rows only.
        expect(plan.some((r) => /(CO-ROUTINE|MATERIALIZE) pg/.test(r.detail))).toBe(true);
        // …and drives the outer query: its tickets are looked up by key, not every ticket scanned and probed.
        expect(plan.filter((r) => r.parent === 0 && /^(SCAN|SEARCH) t\b/.test(r.detail)).map((r) => r.detail)).toEqual(['SEARCH t USING INTEGER PRIMARY KEY (rowid=?)']);
        expect(plan.find((r) => /^(SCAN|SEARCH) u\b/.test(r.detail))?.detail).toMatch(/SEARCH u USING INTEGER PRIMARY KEY/);
      } else {
        // Sorting is of ticket ids (the page's subquery, or its 25 rows), never of joined rows; the
        // requester is looked up for the page's rows only.
        const [plan] = (await t.db.raw(`EXPLAIN ${s.sql}`, s.bindings as any[])) as unknown as [{ table: string; type: string; Extra: string | null }[]];
        for (const row of plan) if (/filesort|temporary/.test(row.Extra ?? '')) expect(row.table).toMatch(/^(<derived\d+>|t)$/);
        expect(plan.find((r) => r.table === 'u')).toMatchObject({ type: 'eq_ref' });
        expect(plan[0].table).toMatch(/^<derived\d+>$/);
      }
    });
  }

  it('reads the tickets changed since a time from each state\'s updated_at range when few changed', async () => {
    const since = new Date(Date.now() + 30 * 24 * 3600_000).toISOString(); // none (bulkSeed spreads updates up to 5 days ahead)
    const { result, statements: seen } = await statementsDuring(t.db, () => listTicketsForApi(ctx, { updatedSince: since }));
    expect(result.data).toEqual([]);
    const s = seen.find((q) => /`updated_at` >= \?/.test(q.sql))!;
    if (t.config.database.client === 'sqlite') {
      const plan = ((await t.db.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any[])) as { detail: string }[]).map((r) => r.detail).join('\n');
      expect(plan).toMatch(/SEARCH t USING (COVERING )?INDEX \w+ \(state=\? AND updated_at>\?\)/);
    } else {
      const [plan] = (await t.db.raw(`EXPLAIN ${s.sql}`, s.bindings as any[])) as unknown as [{ table: string; type: string; key: string | null }[]];
      expect(plan.filter((r) => r.table === 't' && r.type !== 'eq_ref')).toEqual([expect.objectContaining({ type: 'range' })]);
    }
  });
});
