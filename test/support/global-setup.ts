/**
 * Runs once per test run. SQLite: migrates a template database file that each test file copies.
 * MySQL: checks the server is reachable (fails, never skips) and drops schemas left by crashed runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb, migrateLatest } from '../../src/db/knex.ts';
import { dbClient, mysqlBaseUrl } from './test-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sqliteTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-test-'));
  const template = path.join(dir, 'template.sqlite');
  const db = createDb({ client: 'sqlite', filename: template });
  await migrateLatest(db);
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.destroy();
  project.provide('sqliteTemplate', template);
  if (dbClient === 'mysql') {
    const admin = createDb({ client: 'mysql', url: mysqlBaseUrl + '/test' });
    try {
      await admin.raw('select 1');
    } catch (err) {
      throw new Error(`DB_CLIENT=mysql but MySQL/MariaDB at ${mysqlBaseUrl} is unreachable: ${(err as Error).message}`);
    }
    // Schemas of runs that died more than an hour ago.
    const [rows] = await admin.raw("SELECT schema_name AS s FROM information_schema.schemata WHERE schema_name LIKE 'tessera\\_t\\_%'");
    const cutoff = Date.now() - 3600_000;
    for (const r of rows as { s: string }[]) {
      const ts = Number(r.s.split('_')[2]);
      if (ts && ts < cutoff) await admin.raw(`DROP DATABASE IF EXISTS \`${r.s}\``);
    }
    await admin.destroy();
  }
  return async () => {
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
