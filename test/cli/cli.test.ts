import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { verifyPassword } from '../../src/domain/auth/passwords.ts';
import { hashApiKey } from '../../src/domain/api-keys/api-key-service.ts';

const root = path.resolve(__dirname, '../..');

describe('command line', () => {
  let t: TestDb;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    t = await createTestDb();
    const url = t.database.client === 'sqlite' ? `sqlite:${t.database.filename}` : t.database.url;
    env = { ...process.env, DATABASE_URL: url, NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent' };
  });
  afterAll(async () => t.destroy());

  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, env, input, encoding: 'utf8', timeout: 60_000 });

  it('prints usage and exits 2 for an unknown command or bad option', () => {
    const a = run(['frobnicate']);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('Usage: tessera');
    const b = run(['seed:demo', '--bogus']);
    expect(b.status).toBe(2);
    expect(run(['apikey:create']).status).toBe(2);
  });

  it('migrate reports an up-to-date database', () => {
    const r = run(['migrate']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('up to date');
  });

  it('create-admin takes the password from stdin', async () => {
    const r = run(['create-admin', '--username', 'root2', '--email', 'Root2@Example.com', '--name', 'Root Two', '--password-stdin'], 'a long secret pass\n');
    expect(r.status, r.stderr).toBe(0);
    const row = await t.db('agents').where({ username: 'root2' }).first();
    expect(row.role).toBe('admin');
    expect(row.email).toBe('root2@example.com');
    expect(await verifyPassword('a long secret pass', row.password_hash)).toBe(true);
    const weak = run(['create-admin', '--username', 'root3', '--email', 'r3@example.com', '--name', 'R', '--password-stdin'], 'short\n');
    expect(weak.status).toBe(1);
    expect(weak.stderr).toContain('password');
  });

  it('seed:demo loads the lab data once, with the given password', async () => {
    const r = run(['seed:demo', '--password', 'demo password 1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/john\s+demo password 1/);
    expect(await t.db('departments').pluck('name')).toEqual(expect.arrayContaining(['Support', 'Online Banking']));
    const sevA = await t.db('sla_plans').where({ name: 'Sev-A' }).first();
    expect(sevA.grace_minutes).toBe(60);
    expect((await t.db('sla_plans').where({ name: 'Sev-B' }).first()).grace_minutes).toBe(240);
    const jane = await t.db('agents').where({ username: 'jane' }).first();
    const banking = await t.db('departments').where({ name: 'Online Banking' }).first();
    expect(jane.department_id).toBe(banking.id);
    // A small knowledge base: one featured public article, one internal; the version set so the home page shows it.
    expect(await t.db('kb_articles').orderBy('visibility').pluck('visibility')).toEqual(['featured', 'internal']);
    expect(await t.db('settings').where({ key: 'kb_version' }).first()).toBeDefined();
    const again = run(['seed:demo']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already');
  });

  it('search:index indexes the subject words of the tickets waiting for it, and says so', async () => {
    const dept = (await t.db('departments').first('id')).id;
    const user = (await t.db('users').insert({ name: 'Cli', email: 'cli-search@example.com', is_banned: false, created_at: '2026-03-01 00:00:00.000', updated_at: '2026-03-01 00:00:00.000' }))[0];
    const priority = (await t.db('priorities').first('id')).id;
    const ts = '2026-03-01 09:00:00.000';
    const [id] = await t.db('tickets').insert({ number: '7700001', user_id: user, requester_name: 'Cli', subject: 'Toner low', search_text: ' toner low', status: 'open', state: 'open', department_id: dept, priority_id: priority, source: 'web', sla_started_at: ts, is_overdue: false, is_answered: false, version: 1, created_at: ts, updated_at: ts });
    const r = run(['search:index']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Indexed 1 ticket\(s\)/);
    expect(await t.db('ticket_search_words').where('ticket_id', id).orderBy('word').pluck('word')).toEqual(['low', 'toner']);
    expect(run(['search:index']).stdout).toContain('Every ticket is indexed.');
  });

  it('apikey:create prints a key stored only as a hash', async () => {
    const r = run(['apikey:create', '--ip', '10.0.0.0/24', '--note', 'monitoring']);
    expect(r.status, r.stderr).toBe(0);
    const key = r.stdout.trim();
    expect(key).toMatch(/^tsk_[A-Za-z0-9_-]{20,}$/);
    const row = await t.db('api_keys').where({ key_hash: hashApiKey(key) }).first();
    expect(row.allowed_ip).toBe('10.0.0.0/24');
    expect(JSON.stringify(row)).not.toContain(key);
    expect(run(['apikey:create', '--ip', 'not-an-ip']).status).toBe(1);
  });
});
