/** Creates the knex instance for the configured dialect. Dialect setup lives here and in dialect.ts only. */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config.ts';
import { migrationSource } from './migration-source.ts';

export type Db = Knex;

/** Builds a knex instance (sqlite: WAL, foreign keys, busy timeout; mysql: utf8mb4, UTC, strict mode). */
export function createDb(database: Config['database'], opts: { pool?: { min: number; max: number } } = {}): Knex {
  if (database.client === 'sqlite') {
    if (database.filename !== ':memory:') fs.mkdirSync(path.dirname(database.filename), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: any, done: (err: Error | null, conn: unknown) => void) {
          // NOTE(dialect): SQLite enforces foreign keys only when asked, per connection.
          conn.pragma('foreign_keys = ON');
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('synchronous = NORMAL');
          done(null, conn);
        },
      },
    });
  }
  return knexFactory({
    client: 'mysql2',
    connection: {
      uri: database.url,
      charset: 'utf8mb4',
      timezone: 'Z',
      // NOTE(dialect): datetimes come back as strings on both dialects; dbDate() reads them as UTC.
      dateStrings: true,
      supportBigNumbers: true,
    } as any,
    pool: {
      min: opts.pool?.min ?? 0,
      max: opts.pool?.max ?? 10,
      afterCreate(conn: any, done: (err: Error | null, conn: unknown) => void) {
        conn.query(
          "SET time_zone = '+00:00', sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
          (err: Error | null) => done(err, conn),
        );
      },
    },
  });
}

/** Applies pending migrations; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource });
  return applied as string[];
}
