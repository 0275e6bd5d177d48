import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { migrateLatest } from '../../src/db/knex.ts';
import { migrationSource } from '../../src/db/migration-source.ts';

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
  it('roll back and forward again', async () => {
    const names = (await migrationSource.getMigrations([])).length;
    await t.db.migrate.rollback({ migrationSource }, true);
    expect(await t.db.schema.hasTable('tickets')).toBe(false);
    expect((await migrateLatest(t.db)).length).toBe(names);
    expect(await t.db.schema.hasTable('tickets')).toBe(true);
  });
});
