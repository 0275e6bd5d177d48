/**
 * Frozen helpers for migrations (never import application code from a migration).
 * NOTE(dialect): MySQL tables are InnoDB, utf8mb4 (emoji in subjects must round-trip).
 */
import type { Knex } from 'knex';

export function isMysqlKnex(knex: Knex): boolean {
  return /mysql/.test(String(knex.client.config.client));
}

export function tableOptions(knex: Knex, t: Knex.CreateTableBuilder): void {
  if (isMysqlKnex(knex)) {
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_unicode_ci');
  }
}

/** created_at / updated_at as DATETIME(3) UTC, written by the application. */
export function timestamps(t: Knex.CreateTableBuilder): void {
  t.datetime('created_at', { precision: 3 }).notNullable();
  t.datetime('updated_at', { precision: 3 }).notNullable();
}

/** A large binary column: LONGBLOB on MySQL (BLOB stops at 64 KiB), BLOB on SQLite. */
export function largeBinary(knex: Knex, t: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return isMysqlKnex(knex) ? t.specificType(name, 'longblob') : t.binary(name);
}

/** Creates the table only if it is missing, so a re-run after a partial failure is harmless. */
export async function createTable(knex: Knex, name: string, spec: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  if (await knex.schema.hasTable(name)) return;
  await knex.schema.createTable(name, (t) => {
    tableOptions(knex, t);
    spec(t);
  });
}

/** Whether `table` has an index called `name`. NOTE(dialect): knex has no hasIndex; each catalogue is asked. */
export async function hasIndex(knex: Knex, table: string, name: string): Promise<boolean> {
  if (isMysqlKnex(knex)) {
    const [rows] = await knex.raw('SHOW INDEX FROM ?? WHERE Key_name = ?', [table, name]);
    return (rows as unknown[]).length > 0;
  }
  const rows = await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?`, [table, name]);
  return (rows as unknown[]).length > 0;
}
