import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { migrateLatest } from '../../src/db/knex.ts';
import { migrationSource } from '../../src/db/migration-source.ts';
import { dbDate } from '../../src/db/dialect.ts';
import * as coverFirstResponse from '../../migrations/20261130110000_cover_report_first_response.ts';

const CORE_TABLES = [
  'settings', 'sequences', 'schedules', 'schedule_entries', 'schedule_holidays', 'sla_plans', 'priorities', 'departments',
  'agents', 'departments_agents', 'teams', 'teams_agents', 'help_topics', 'users', 'tickets', 'thread_entries', 'files',
  'file_contents', 'attachments', 'ticket_events', 'ticket_locks', 'outbox', 'inbound_messages', 'bans', 'sessions',
  'access_tokens', 'api_keys', 'rate_limits', 'audit_log', 'jobs',
];

describe('migrations', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.destroy());

  it('create every core table', async () => {
    for (const table of CORE_TABLES) expect(await t.db.schema.hasTable(table), table).toBe(true);
  });
  it('are idempotent to re-run', async () => {
    expect(await migrateLatest(t.db)).toEqual([]);
  });
  it('install the defaults a fresh help desk needs', async () => {
    expect(await t.db('departments').pluck('name')).toContain('Support');
    expect((await t.db('priorities').orderBy('urgency').pluck('name'))).toEqual(['Emergency', 'High', 'Normal', 'Low']);
    const sla = await t.db('sla_plans').where({ name: 'Default SLA' }).first();
    expect(sla.grace_minutes).toBe(18 * 60);
    const keys = await t.db('settings').pluck('key');
    expect(keys).toEqual(expect.arrayContaining(['default_department_id', 'default_sla_plan_id', 'default_priority_id']));
  });
  it('round-trip emoji and non-Latin text (utf8mb4)', async () => {
    const now = '2026-01-01 00:00:00.000';
    await t.db('users').insert({ email: 'emoji@x.test', name: 'Zoë 😀 日本', is_banned: false, created_at: now, updated_at: now });
    expect((await t.db('users').where({ email: 'emoji@x.test' }).first()).name).toBe('Zoë 😀 日本');
  });
  it('enforce foreign keys', async () => {
    const now = '2026-01-01 00:00:00.000';
    await expect(t.db('departments_agents').insert({ department_id: 999999, agent_id: 999999 })).rejects.toThrow();
    await expect(t.db('thread_entries').insert({ ticket_id: 999999, kind: 'note', body: 'x', source: 'web', created_at: now })).rejects.toThrow();
  });
  it("move each API key's last use into its rate-limit window (and back)", async () => {
    const name = (await migrationSource.getMigrations([])).map((x) => migrationSource.getMigrationName(x)).find((n) => n.startsWith('20261127140100_move_api_key_last_use_to_rate_window'))!;
    expect(name).toBeDefined();
    await t.db.migrate.down({ migrationSource, name }); // api_keys.last_used_at is back
    const row = (k: string, used: string | null) => ({ key_hash: k.padEnd(64, '0'), key_prefix: k, allowed_ip: '*', last_used_at: used, created_at: '2026-01-01 00:00:00.000' });
    const [used] = await t.db('api_keys').insert(row('used', '2026-02-03 04:05:06.000'));
    const [busy] = await t.db('api_keys').insert(row('busy', '2026-02-03 04:05:06.000'));
    const [never] = await t.db('api_keys').insert(row('never', null));
    await t.db('rate_limits').insert({ key: `api:key${busy}`, hits: 7, reset_at: '2026-03-01 00:01:00.000' }); // a live window stays as it is
    await t.db.migrate.up({ migrationSource, name });
    expect(await t.db.schema.hasColumn('api_keys', 'last_used_at')).toBe(false);
    const windows = await t.db('rate_limits').where('key', 'like', 'api:key%').orderBy('key').select('key', 'hits', 'reset_at');
    expect(windows.map((w) => [w.key, Number(w.hits), dbDate(w.reset_at)!.toISOString()])).toEqual([
      [`api:key${busy}`, 7, '2026-03-01T00:01:00.000Z'],
      [`api:key${used}`, 0, '2026-02-03T04:06:06.000Z'],
    ].sort(([a], [b]) => String(a).localeCompare(String(b))));
    await t.db.migrate.down({ migrationSource, name });
    const back = await t.db('api_keys').whereIn('id', [used, never]).orderBy('id').pluck('last_used_at');
    expect(back.map((v) => dbDate(v)?.toISOString() ?? null)).toEqual(['2026-02-03T04:05:06.000Z', null]);
    await t.db.migrate.up({ migrationSource, name });
    await t.db('rate_limits').where('key', 'like', 'api:key%').delete();
    await t.db('api_keys').delete();
  });
  it("copy each ticket's requester name onto it, past the first batch of ids too (and take it off again)", async () => {
    const name = (await migrationSource.getMigrations([])).map((x) => migrationSource.getMigrationName(x)).find((n) => n.startsWith('20261128020100_add_requester_name_to_tickets'))!;
    expect(name).toBeDefined();
    await t.db.migrate.down({ migrationSource, name });
    expect(await t.db.schema.hasColumn('tickets', 'requester_name')).toBe(false);
    const ts = '2026-01-01 00:00:00.000';
    const user = async (email: string, uname: string) => (await t.db('users').insert({ email, name: uname, is_banned: false, created_at: ts, updated_at: ts }))[0];
    const [ana, bo] = [await user('ana@backfill.test', 'Ana Núñez'), await user('bo@backfill.test', 'Bo')];
    const dept = (await t.db('departments').first('id')).id;
    const priority = (await t.db('priorities').first('id')).id;
    const ticket = (id: number, user_id: number) => ({ id, number: `BF${id}`, user_id, subject: 'S', status: 'open', state: 'open', department_id: dept, priority_id: priority, source: 'web', sla_started_at: ts, version: 1, created_at: ts, updated_at: ts });
    await t.db('tickets').insert([ticket(7, ana), ticket(20_000, bo), ticket(20_001, ana), ticket(45_123, bo)]);
    await t.db.migrate.up({ migrationSource, name });
    expect(await t.db('tickets').whereIn('id', [7, 20_000, 20_001, 45_123]).orderBy('id').pluck('requester_name')).toEqual(['Ana Núñez', 'Bo', 'Ana Núñez', 'Bo']);
    await t.db.migrate.down({ migrationSource, name });
    expect(await t.db.schema.hasColumn('tickets', 'requester_name')).toBe(false);
    await t.db.migrate.up({ migrationSource, name });
    await t.db('tickets').whereIn('id', [7, 20_000, 20_001, 45_123]).delete();
    await t.db('users').whereIn('id', [ana, bo]).delete();
  });
  it("add each ticket's requester name to its search text, past the first batch of ids too, for the word index again (and take it off again)", async () => {
    const name = (await migrationSource.getMigrations([])).map((x) => migrationSource.getMigrationName(x)).find((n) => n.startsWith('20261129000000_search_requester_names'))!;
    expect(name).toBeDefined();
    await t.db.migrate.down({ migrationSource, name });
    const ts = '2026-01-01 00:00:00.000';
    const [zoe] = await t.db('users').insert({ email: 'zoe@names.test', name: 'Zoë Müller', is_banned: false, created_at: ts, updated_at: ts });
    const dept = (await t.db('departments').first('id')).id;
    const priority = (await t.db('priorities').first('id')).id;
    const ticket = (id: number, subject: string) => ({ id, number: `SN${id}`, user_id: zoe, requester_name: 'Zoë Müller', subject, search_text: ` ${subject.toLowerCase()}`, search_indexed: true, status: 'open', state: 'open', department_id: dept, priority_id: priority, source: 'web', sla_started_at: ts, version: 1, created_at: ts, updated_at: ts });
    await t.db('tickets').insert([ticket(8, 'Printer'), ticket(30_005, 'Zoom')]);
    const rows = () => t.db('tickets').whereIn('id', [8, 30_005]).orderBy('id').select('search_text', 'search_indexed');
    await t.db.migrate.up({ migrationSource, name });
    expect((await rows()).map((r) => [r.search_text, Boolean(r.search_indexed)])).toEqual([[' printer zoe muller', false], [' zoom zoe muller', false]]);
    await t.db.migrate.down({ migrationSource, name });
    expect((await rows()).map((r) => r.search_text)).toEqual([' printer', ' zoom']);
    await t.db.migrate.up({ migrationSource, name });
    await t.db('tickets').whereIn('id', [8, 30_005]).delete();
    await t.db('users').where({ id: zoe }).delete();
  });

  /** Each index of tickets → its columns in order. */
  const ticketIndexes = async (): Promise<Record<string, string>> => {
    if (t.database.client === 'sqlite') {
      const list = (await t.db.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL")) as { name: string }[];
      const out: Record<string, string> = {};
      for (const { name: ix } of list) out[ix] = ((await t.db.raw(`PRAGMA index_info(${JSON.stringify(ix)})`)) as { name: string }[]).map((c) => c.name).join(',');
      return out;
    }
    const [rows] = (await t.db.raw('SHOW INDEX FROM tickets')) as unknown as [{ Key_name: string; Seq_in_index: number; Column_name: string }[]];
    const out: Record<string, string[]> = {};
    for (const r of [...rows].sort((a, b) => a.Seq_in_index - b.Seq_in_index)) (out[r.Key_name] ??= []).push(r.Column_name);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.join(',')]));
  };
  const migrationNamed = async (prefix: string) => (await migrationSource.getMigrations([])).map((x) => migrationSource.getMigrationName(x)).find((n) => n.startsWith(prefix))!;
  it('install the four default roles and give existing agents one: “All access” when agents could delete tickets (the retired setting), else “Expanded access”', async () => {
    const name = (await migrationSource.getMigrations([])).map((x) => migrationSource.getMigrationName(x)).find((n) => n.startsWith('20261130130100_insert_default_roles'))!;
    expect(name).toBeDefined();
    const ts = '2026-01-01 00:00:00.000';
    const dept = (await t.db('departments').first('id')).id;
    const [agentId] = await t.db('agents').insert({ username: 'upgraded', email: 'upgraded@agents.test', name: 'Upgraded', password_hash: 'x', role: 'agent', department_id: dept, is_active: true, failed_logins: 0, created_at: ts, updated_at: ts });
    const roleOf = async () => (await t.db('agents as a').leftJoin('roles as r', 'r.id', 'a.role_id').where('a.id', agentId).first('r.name')).name;
    for (const [stored, expected] of [[null, 'Expanded access'], ['false', 'Expanded access'], ['true', 'All access']] as const) {
      await t.db.migrate.down({ migrationSource, name });
      expect(await t.db('roles').count({ n: '*' }).first()).toMatchObject({ n: 0 });
      await t.db('settings').where({ key: 'agents_may_delete_tickets' }).delete();
      if (stored) await t.db('settings').insert({ key: 'agents_may_delete_tickets', value: stored, updated_at: ts });
      await t.db.migrate.up({ migrationSource, name });
      expect(await roleOf(), String(stored)).toBe(expected);
    }
    expect(await t.db('roles').orderBy('id').pluck('name')).toEqual(['All access', 'Expanded access', 'Limited access', 'View only']);
    await t.db('settings').where({ key: 'agents_may_delete_tickets' }).delete();
    await t.db('agents').where({ id: agentId }).delete();
  });

  it('widen the indexes reports range over, keeping their leading columns (and narrow them back)', async () => {
    const name = await migrationNamed('20261128130000_cover_report_scans');
    expect(name).toBeDefined();
    // The later widening of two of them (below) is taken off first, and put back at the end.
    const later = await migrationNamed('20261130110000_cover_report_first_response');
    await t.db.migrate.down({ migrationSource, name: later });
    const indexes = ticketIndexes;
    const wide = {
      tickets_report_created: 'created_at,department_id,first_response_at,assignee_agent_id,topic_id,source,priority_id',
      tickets_report_closed: 'closed_at,state,department_id,created_at,due_at,assignee_agent_id,topic_id,source,priority_id',
      tickets_report_dept_created: 'department_id,created_at,first_response_at,assignee_agent_id,topic_id,source,priority_id',
      tickets_report_dept_closed: 'department_id,closed_at,state,created_at,due_at,assignee_agent_id,topic_id,source,priority_id',
      tickets_report_open: 'state,department_id,is_overdue,assignee_agent_id,topic_id,source,priority_id',
      tickets_dept_overdue: 'state,department_id,is_overdue', // the queues' (their ranges in id order)
    };
    const narrow = { tickets_created: 'created_at', tickets_closed: 'closed_at', tickets_dept_created: 'department_id,created_at', tickets_dept_closed: 'department_id,closed_at', tickets_dept_overdue: 'state,department_id,is_overdue' };
    const after = await indexes();
    expect(after).toMatchObject(wide);
    for (const old of ['tickets_created', 'tickets_closed', 'tickets_dept_created', 'tickets_dept_closed']) expect(after).not.toHaveProperty(old);
    await t.db.migrate.down({ migrationSource, name });
    const before = await indexes();
    expect(before).toMatchObject(narrow);
    for (const w of ['tickets_report_created', 'tickets_report_closed', 'tickets_report_dept_created', 'tickets_report_dept_closed', 'tickets_report_open']) expect(before).not.toHaveProperty(w);
    await t.db.migrate.up({ migrationSource, name });
    expect(await indexes()).toMatchObject(wide);
    await t.db.migrate.up({ migrationSource, name: later });
  });
  it('add the first-response due date and closed_at to the indexes of opened tickets reports read (and take them off again)', async () => {
    const name = await migrationNamed('20261130110000_cover_report_first_response');
    expect(name).toBeDefined();
    const groupings = 'assignee_agent_id,topic_id,source,priority_id';
    const wide = {
      tickets_report_created: `created_at,department_id,first_response_at,first_response_due_at,closed_at,${groupings}`,
      tickets_report_dept_created: `department_id,created_at,first_response_at,first_response_due_at,closed_at,${groupings}`,
    };
    const narrow = { tickets_report_created: `created_at,department_id,first_response_at,${groupings}`, tickets_report_dept_created: `department_id,created_at,first_response_at,${groupings}` };
    const closedIndexes = { tickets_report_closed: `closed_at,state,department_id,created_at,due_at,${groupings}`, tickets_report_dept_closed: `department_id,closed_at,state,created_at,due_at,${groupings}` };
    expect(await ticketIndexes()).toMatchObject({ ...wide, ...closedIndexes });
    await t.db.migrate.down({ migrationSource, name });
    expect(await ticketIndexes()).toMatchObject({ ...narrow, ...closedIndexes });
    await coverFirstResponse.down(t.db); // again: nothing to do
    expect(await ticketIndexes()).toMatchObject(narrow);
    await t.db.migrate.up({ migrationSource, name });
    expect(await ticketIndexes()).toMatchObject({ ...wide, ...closedIndexes });
    await coverFirstResponse.up(t.db); // again: nothing to do
    expect(await ticketIndexes()).toMatchObject(wide);
  });
  it('add the agents\' and departments\' signatures, kept with the rows (and take them off again)', async () => {
    const name = (await migrationSource.getMigrations([])).map((x) => migrationSource.getMigrationName(x)).find((n) => n.startsWith('20261129020000_add_signatures'))!;
    expect(name).toBeDefined();
    for (const table of ['agents', 'departments']) expect(await t.db.schema.hasColumn(table, 'signature'), table).toBe(true);
    const dept = (await t.db('departments').first('id')).id;
    await t.db('departments').where({ id: dept }).update({ signature: 'Support 😀\nLine two' });
    expect((await t.db('departments').where({ id: dept }).first()).signature).toBe('Support 😀\nLine two');
    await t.db.migrate.down({ migrationSource, name });
    for (const table of ['agents', 'departments']) expect(await t.db.schema.hasColumn(table, 'signature'), table).toBe(false);
    expect(await t.db('departments').where({ id: dept }).first('id')).toBeDefined(); // the rows stay
    await t.db.migrate.up({ migrationSource, name });
    expect((await t.db('departments').where({ id: dept }).first()).signature).toBeNull();
  });
  it('roll back and forward again', async () => {
    const names = (await migrationSource.getMigrations([])).length;
    await t.db.migrate.rollback({ migrationSource }, true);
    expect(await t.db.schema.hasTable('tickets')).toBe(false);
    expect((await migrateLatest(t.db)).length).toBe(names);
    expect(await t.db.schema.hasTable('tickets')).toBe(true);
  });
});
