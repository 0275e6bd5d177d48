/**
 * A queue filtered by the requester's organization or by a custom field's answer counts that set of
 * tickets from its own indexes (the organization's members → tickets_user; the answer's range of
 * ticket_field_values_value → the tickets by primary key), on both databases, for an admin and for an
 * agent of one department: the total never walks the queue's index testing each ticket against the set.
 * A page of a small set is read from it too; of a large one (SET_READ_CAP, 100 here instead of 5,000)
 * walks the queue in the page's order, testing each ticket by primary key — the same tickets either way.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestApp } from '../support/test-app.ts';
import { startPlanApp } from '../support/plan-app.ts';
import { statementsDuring } from '../support/statements.ts';
import { buildAdmin, buildAgent, type BuiltAgent } from '../factories/index.ts';
import { exportQueueCsv, listQueue, WALK_COUNT_CAP } from '../../src/domain/tickets/ticket-queue-queries.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { fieldsChanged } from '../../src/domain/fields/ticket-field-service.ts';

// The plan database has 2,000 tickets: sets of a few (small organization, rare option) and of hundreds (big, common).
vi.mock('../../src/domain/tickets/ticket-queue-refinements.ts', async (original) => ({ ...(await original<typeof import('../../src/domain/tickets/ticket-queue-refinements.ts')>()), SET_READ_CAP: 100 }));

describe('queue refinement query plans', () => {
  let t: TestApp;
  let admin: BuiltAgent;
  let agent: BuiltAgent;
  let small: number;
  let big: number;
  let fieldId: number;

  beforeAll(async () => {
    const started = await startPlanApp([]);
    t = started.t;
    admin = await buildAdmin(t.db);
    agent = await buildAgent(t.db, { department_id: started.seed.departments[1] });
    const now = toDbDate(new Date());
    const org = async (name: string) => (await t.db('organizations').insert({ name, auto_cc: 'none', portal_share: 'none', is_active: true, created_at: now, updated_at: now }))[0];
    small = await org('Small Co');
    big = await org('Big Co');
    const users = await t.db('users').orderBy('id').pluck('id');
    // A small organization (10 members, ~50 tickets) and a big one (two members in five).
    await t.db('users').whereIn('id', users.slice(0, 10)).update({ organization_id: small });
    await t.db('users').whereIn('id', users.filter((_, i) => i % 5 >= 3)).update({ organization_id: big });
    const field = async (name: string, options: string) => (await t.db('ticket_fields').insert({ label: name, name: name.toLowerCase(), type: 'choice', options, is_required: false, visibility: 'public', sort_order: 0, is_active: true, created_at: now, updated_at: now }))[0];
    fieldId = await field('Product', 'Laptop\nPhone');
    const other = await field('Site', 'North\nSouth');
    const tickets = await t.db('tickets').orderBy('id').pluck('id');
    // A rare answer (a few tickets) and a common one (half of them); every ticket answers another field too.
    const rows = tickets.flatMap((id, i) => [
      ...(i % 2 ? [{ ticket_id: id, field_id: fieldId, value: i % 97 === 1 ? 'Phone' : 'Laptop' }] : []),
      { ticket_id: id, field_id: other, value: i % 3 ? 'North' : 'South' },
    ]);
    for (let i = 0; i < rows.length; i += 200) await t.db('ticket_field_values').insert(rows.slice(i, i + 200));
    await fieldsChanged(t.db, new Date());
    if (t.config.database.client !== 'sqlite') await t.db.raw('ANALYZE TABLE tickets, users, ticket_field_values');
  }, 120_000);
  afterAll(async () => t?.close());

  type Plan = { id: number; parent: number; detail: string }[];
  /** The plan of each statement of the queue page that names the filter (SQLite: its nodes; MariaDB: `table type key`), and the page. */
  async function plans(who: BuiltAgent, params: Record<string, string>, marker: RegExp): Promise<{ summary: Plan; page: Plan; ids: number[]; totalText: string }> {
    const { result: page, statements: seen } = await statementsDuring(t.db, () => listQueue(t.ctx(who.actor), params));
    expect(page.total).toBeGreaterThan(0);
    const out: Plan[] = [];
    for (const s of seen.filter((q) => marker.test(q.sql))) {
      if (t.config.database.client === 'sqlite') {
        out.push((await t.db.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any[])) as Plan);
      } else {
        const [plan] = (await t.db.raw(`EXPLAIN ${s.sql}`, s.bindings as any[])) as unknown as [{ table: string; type: string; key: string | null }[]];
        out.push(plan.map((r, i) => ({ id: i, parent: 0, detail: `${r.table} ${r.type} ${r.key}` })));
      }
    }
    // The summary (the set's size and the total) and the page's ids.
    expect(out.length).toBe(2);
    return { summary: out[0], page: out[1], ids: page.rows.map((r) => r.id), totalText: page.totalText };
  }

  /** SQLite: the `t` read beside each IN list (LIST SUBQUERY) that reads the set: the tickets read from the set, or none (the set's size, read alone). */
  function tReadsBesideSet(plan: Plan, setRead: RegExp): string[] {
    const byId = new Map(plan.map((n) => [n.id, n]));
    return plan.filter((n) => setRead.test(n.detail)).map((n) => {
      const list = byId.get(n.parent);
      if (!list || !/LIST SUBQUERY/.test(list.detail)) return '(alone)';
      return plan.find((m) => m.parent === list.parent && /^(SEARCH|SCAN) t\b/.test(m.detail))?.detail ?? '(none)';
    });
  }

  /**
   * SQLite: the tickets are read from the set — each IN list of the set's is beside a read of `t`
   * through `tRead` (tickets_user; by primary key), never a department's or the queue's range tested
   * against the list (what SQLite chose without INDEXED BY: a whole department's tickets for an agent),
   * and nothing is read whole. MariaDB: its own choice, but no table read whole.
   */
  function expectReadFromSet(plan: Plan, setRead: RegExp, tRead: RegExp): void {
    if (t.config.database.client !== 'sqlite') return void expect(plan.map((n) => n.detail).filter((d) => /^(t|u|fv) ALL\b/.test(d))).toEqual([]);
    const reads = tReadsBesideSet(plan, setRead);
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) expect(r).toMatch(new RegExp(`${tRead.source}|^\\(alone\\)$`));
    for (const n of plan) expect(n.detail).not.toMatch(/^SCAN (t|u|fv)\b/);
  }

  /** SQLite: the page walks the queue's indexes (the set is not read first, nothing is read whole), testing each ticket by primary key. */
  function expectWalk(plan: Plan, probe: RegExp): void {
    const lines = plan.map((n) => n.detail);
    if (t.config.database.client !== 'sqlite') return void expect(lines.filter((d) => /^(t|u|fv) ALL\b/.test(d))).toEqual([]);
    expect(lines.some((l) => probe.test(l))).toBe(true);
    for (const line of lines) expect(line).not.toMatch(/^SCAN (t|u|fv)\b|LIST SUBQUERY|tickets_user/);
  }

  /** The tickets of `state` the actor may see that `match`, newest update first (what the pages must show). */
  async function allExpected(who: BuiltAgent, match: (q: any) => any, state = 'open'): Promise<number[]> {
    const q = t.db('tickets as t').where('t.state', state).orderBy([{ column: 't.updated_at', order: 'desc' }, { column: 't.id', order: 'desc' }]);
    if (who.actor.role !== 'admin') q.where((w: any) => w.whereIn('t.department_id', who.actor.departmentIds).orWhere('t.assignee_agent_id', who.actor.id));
    return match(q).pluck('t.id');
  }
  /** A walked set's total is counted only to WALK_COUNT_CAP ("50+"), as a common word's. */
  const walkedTotal = (n: number) => (n > WALK_COUNT_CAP ? `${WALK_COUNT_CAP}+` : String(n));

  const ORG_SET = /^SEARCH u USING COVERING INDEX users_organization_name \(organization_id=\?\)/;
  const ORG_T = /^SEARCH t USING (COVERING )?INDEX tickets_user \(user_id=\?\)/;
  const CF_SET = /^SEARCH fv USING COVERING INDEX ticket_field_values_value \(field_id=\? AND value=\?\)/;
  const CF_T = /^SEARCH t USING INTEGER PRIMARY KEY/;

  it('exports a big set\'s tickets walking the queue, and a small one\'s from the set: the same tickets either way', async () => {
    for (const org of [big, small]) {
      const csv = await exportQueueCsv(t.ctx(agent.actor), { queue: 'open', org: String(org) });
      const numbers = csv.trim().split('\r\n').slice(1).map((line) => line.split(',')[0].replace(/"/g, ''));
      const ids = await allExpected(agent, (q) => q.whereIn('t.user_id', t.db('users').where('organization_id', org).select('id')));
      expect(numbers).toEqual(await t.db('tickets').whereIn('id', ids).then((rows: any[]) => ids.map((id) => rows.find((r) => r.id === id).number)));
    }
  });

  for (const [who, label] of [['admin', 'an admin'], ['agent', 'an agent of one department']] as const) {
    const actor = () => (who === 'admin' ? admin : agent);
    it(`reads a small organization's tickets from its members, page and total, as ${label}`, async () => {
      const { summary, page, ids, totalText } = await plans(actor(), { queue: 'closed', org: String(small) }, /organization_id/);
      expectReadFromSet(summary, ORG_SET, ORG_T);
      expectReadFromSet(page, ORG_SET, ORG_T);
      if (t.config.database.client !== 'sqlite') for (const plan of [summary, page]) expect(plan.map((n) => n.detail)).toContain('u ref users_organization_name');
      const all = await allExpected(actor(), (q) => q.whereIn('t.user_id', t.db('users').where('organization_id', small).select('id')), 'closed');
      expect(ids).toEqual(all.slice(0, 25));
      expect(totalText).toBe(String(all.length));
    });
    it(`counts a big organization's tickets from its members, and walks the queue for its page, as ${label}`, async () => {
      const { summary, page, ids, totalText } = await plans(actor(), { queue: 'open', org: String(big) }, /organization_id/);
      expectReadFromSet(summary, ORG_SET, ORG_T);
      expectWalk(page, /^SEARCH u USING INTEGER PRIMARY KEY/);
      const all = await allExpected(actor(), (q) => q.whereIn('t.user_id', t.db('users').where('organization_id', big).select('id')));
      expect(ids).toEqual(all.slice(0, 25));
      expect(totalText).toBe(walkedTotal(all.length));
    });
    it(`reads the tickets answering a rare option from the answer's range, page and total, as ${label}`, async () => {
      const { summary, page, ids } = await plans(actor(), { queue: 'closed', cf: `${fieldId}:Phone` }, /ticket_field_values/);
      expectReadFromSet(summary, CF_SET, CF_T);
      expectReadFromSet(page, CF_SET, CF_T);
      if (t.config.database.client !== 'sqlite') for (const plan of [summary, page]) expect(plan.map((n) => n.detail)).toContain('fv ref ticket_field_values_value');
      expect(ids.length).toBeGreaterThan(0);
    });
    it(`counts the tickets answering a common option from the answer's range, and walks the queue for its page, as ${label}`, async () => {
      const { summary, page, ids, totalText } = await plans(actor(), { queue: 'open', cf: `${fieldId}:Laptop` }, /ticket_field_values/);
      expectReadFromSet(summary, CF_SET, CF_T);
      expectWalk(page, /^SEARCH fv USING INDEX sqlite_autoindex_ticket_field_values_1 \(ticket_id=\? AND field_id=\?\)/);
      const all = await allExpected(actor(), (q) => q.whereIn('t.id', t.db('ticket_field_values').where({ field_id: fieldId, value: 'Laptop' }).select('ticket_id')));
      expect(ids).toEqual(all.slice(0, 25));
      expect(totalText).toBe(walkedTotal(all.length));
    });
  }
});
