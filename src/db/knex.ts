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
          cacheStatements(conn, SQLITE_STATEMENT_CACHE);
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

/** Prepared statements kept per SQLite connection (see cacheStatements). */
export const SQLITE_STATEMENT_CACHE = 500;

/**
 * Keeps the last `max` prepared statements of a better-sqlite3 connection by their SQL text. knex
 * prepares every statement it runs afresh (SQLite parses and plans it each time: 8 % of the app's CPU
 * when opening tickets over the API); the same text now reuses its statement. Safe here: knex runs a
 * statement to completion (all/run) before the next, and SQLite re-prepares a statement by itself
 * when the schema has changed (a migration).
 */
export function cacheStatements(conn: { prepare: (sql: string) => unknown }, max: number): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (stmt !== undefined) {
      cache.delete(sql); // most recently used last
    } else {
      stmt = prepare(sql);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
}

/** Applies pending migrations; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource });
  return applied as string[];
}
