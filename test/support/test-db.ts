/**
 * A fresh, migrated database for one test file: SQLite copies the migrated template file;
 * MySQL creates a schema of its own (named tessera_t_<time>_<random>) and migrates it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { inject } from 'vitest';
import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/db/knex.ts';
import type { Config } from '../../src/config.ts';
import { dbClient, mysqlBaseUrl } from './test-env.ts';

export interface TestDb {
  db: Knex;
  database: Config['database'];
  destroy: () => Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  if (dbClient === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-db-'));
    const filename = path.join(dir, 'test.sqlite');
    fs.copyFileSync(inject('sqliteTemplate'), filename);
    const database = { client: 'sqlite' as const, filename };
    const db = createDb(database);
    await migrateLatest(db); // no-op unless a migration was added since the template was made
    return {
      db,
      database,
      destroy: async () => {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `tessera_t_${Date.now()}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = createDb({ client: 'mysql', url: mysqlBaseUrl + '/test' });
  await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const database = { client: 'mysql' as const, url: `${mysqlBaseUrl}/${name}` };
  const db = createDb(database, { pool: { min: 0, max: 4 } });
  await migrateLatest(db);
  return {
    db,
    database,
    destroy: async () => {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.destroy();
    },
  };
}
