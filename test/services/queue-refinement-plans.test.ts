/**
 * A queue filtered by the requester's organization or by a custom field's answer reads that set of
 * tickets from its own indexes (the organization's members → tickets_user; the answer's range of
 * ticket_field_values_value → the tickets by primary key), on both databases, for an admin and for an
 * agent of one department; it never walks the queue's index testing each ticket against the set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.ts';
import { startPlanApp } from '../support/plan-app.ts';
import { statementsDuring } from '../support/statements.ts';
import { buildAdmin, buildAgent, type BuiltAgent } from '../factories/index.ts';
import { listQueue } from '../../src/domain/tickets/ticket-queue-queries.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { fieldsChanged } from '../../src/domain/fields/ticket-field-service.ts';

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
    // A small organization (3 members) and a big one (two members in five).
    await t.db('users').whereIn('id', users.slice(0, 3)).update({ organization_id: small });
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

  /** The plan of each statement of the queue page that names the filter (SQLite: its lines; MariaDB: `table type key`). */
  async function plans(who: BuiltAgent, params: Record<string, string>, marker: RegExp): Promise<string[][]> {
    const { result: page, statements: seen } = await statementsDuring(t.db, () => listQueue(t.ctx(who.actor), params));
    expect(page.total).toBeGreaterThan(0);
    const out: string[][] = [];
    for (const s of seen.filter((q) => marker.test(q.sql))) {
      if (t.config.database.client === 'sqlite') {
        out.push(((await t.db.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any[])) as { detail: string }[]).map((r) => r.detail));
      } else {
        const [plan] = (await t.db.raw(`EXPLAIN ${s.sql}`, s.bindings as any[])) as unknown as [{ table: string; type: string; key: string | null }[]];
        out.push(plan.map((r) => `${r.table} ${r.type} ${r.key}`));
      }
    }
    // The summary (its total) and the page's ids.
    expect(out.length).toBe(2);
    return out;
  }

  /**
   * SQLite: the tickets are read from the set — the `t` read just before the set's subquery (a LIST
   * SUBQUERY, then `setRead`) is through `tRead`, never a department's or the queue's range tested
   * against the set (what SQLite did without INDEXED BY: a whole department's tickets for an agent).
   * MariaDB: its own choice, but no table read whole.
   */
  function expectReadFromSet(statements: string[][], setRead: RegExp, tRead: RegExp): void {
    for (const lines of statements) {
      if (t.config.database.client === 'sqlite') {
        let lastT = '';
        let sets = 0;
        for (const line of lines) {
          if (/^(SEARCH|SCAN) t\b/.test(line)) lastT = line;
          if (setRead.test(line)) {
            sets += 1;
            expect(lastT).toMatch(tRead);
          }
          expect(line).not.toMatch(/^SCAN (t|users|ticket_field_values)\b/);
        }
        expect(sets).toBeGreaterThan(0);
      } else {
        for (const line of lines) expect(line).not.toMatch(/^(t|users|ticket_field_values) ALL\b/);
      }
    }
  }

  for (const [who, label] of [['admin', 'an admin'], ['agent', 'an agent of one department']] as const) {
    for (const org of ['small', 'big'] as const) {
      it(`reads ${org === 'small' ? 'a small' : 'a big'} organization's tickets from its members, as ${label}`, async () => {
        const statements = await plans(who === 'admin' ? admin : agent, { queue: 'closed', org: String(org === 'small' ? small : big) }, /`organization_id` = \?/);
        expectReadFromSet(statements, /^SEARCH users USING COVERING INDEX users_organization_name \(organization_id=\?\)/, /^SEARCH t USING INDEX tickets_user \(user_id=\?\)/);
        if (t.config.database.client !== 'sqlite' && org === 'small') for (const lines of statements) expect(lines).toContain('users ref users_organization_name');
      });
    }
    for (const value of ['Phone', 'Laptop']) {
      it(`reads the tickets answering ${value === 'Phone' ? 'a rare' : 'a common'} option from the answer's range, as ${label}`, async () => {
        const statements = await plans(who === 'admin' ? admin : agent, { queue: 'closed', cf: `${fieldId}:${value}` }, /ticket_field_values/);
        expectReadFromSet(statements, /^SEARCH ticket_field_values USING COVERING INDEX ticket_field_values_value \(field_id=\? AND value=\?\)/, /^SEARCH t USING INTEGER PRIMARY KEY/);
        if (t.config.database.client !== 'sqlite' && value === 'Phone') for (const lines of statements) expect(lines).toContain('ticket_field_values ref ticket_field_values_value');
      });
    }
  }
});
