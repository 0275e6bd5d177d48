/** Every dialect difference between SQLite and MySQL/MariaDB lives here (and in knex.ts). */
import type { Knex } from 'knex';

export function isSqlite(db: Knex | Knex.Transaction): boolean {
  return /sqlite/.test(String(db.client.config.client));
}
export function isMysql(db: Knex | Knex.Transaction): boolean {
  return /mysql/.test(String(db.client.config.client));
}

/** Writes a Date as 'YYYY-MM-DD HH:MM:SS.mmm' UTC, a form both dialects store and compare correctly. */
export function toDbDate(d: Date): string;
export function toDbDate(d: Date | null | undefined): string | null;
export function toDbDate(d: Date | null | undefined): string | null {
  if (!d) return null;
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** Reads a datetime column (string on both dialects, as configured in knex.ts) as a UTC Date. */
export function dbDate(v: unknown): Date | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v);
  const s = String(v);
  return new Date(s.includes('T') ? (s.endsWith('Z') ? s : s + 'Z') : s.replace(' ', 'T') + 'Z');
}

/** Reads a boolean column (SQLite and MySQL both give 0/1). */
export function dbBool(v: unknown): boolean {
  return v === true || v === 1 || v === '1';
}

/** Reads a count(*) result (MySQL may give a string for big numbers). */
export function dbCount(v: unknown): number {
  return Number(v ?? 0);
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.errno === 1062;
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e?.errno === 1451 || e?.errno === 1452;
}

/** SQL expression for the date part (YYYY-MM-DD) of a UTC datetime column shifted by `offsetMinutes`. */
export function sqlDayOf(db: Knex | Knex.Transaction, column: string, offsetMinutes = 0): Knex.Raw {
  if (isSqlite(db)) return db.raw(`strftime('%Y-%m-%d', ??, ?)`, [column, `${offsetMinutes} minutes`]);
  return db.raw(`DATE_FORMAT(DATE_ADD(??, INTERVAL ? MINUTE), '%Y-%m-%d')`, [column, offsetMinutes]);
}

/** SQL expression for the number of seconds between two datetime columns (b - a). */
export function sqlSecondsBetween(db: Knex | Knex.Transaction, a: string, b: string): Knex.Raw {
  if (isSqlite(db)) return db.raw(`(julianday(??) - julianday(??)) * 86400`, [b, a]);
  return db.raw(`TIMESTAMPDIFF(SECOND, ??, ??)`, [a, b]);
}

/** Case-insensitive LIKE (MySQL collations are already case-insensitive; SQLite LIKE is for ASCII). */
export function whereLike(qb: Knex.QueryBuilder, column: string, needle: string): Knex.QueryBuilder {
  // NOTE(dialect): '!' as the escape character: a backslash inside a MySQL string literal is itself an escape.
  const escaped = needle.replace(/[!%_]/g, (c) => '!' + c);
  return qb.whereRaw(`?? LIKE ? ESCAPE '!'`, [column, `%${escaped}%`]);
}

/**
 * SQL expression for the UTC hour ('YYYY-MM-DD HH') of a datetime column shifted by `offsetMinutes`.
 * Reports group by this and map each hour to the help desk's local day/hour in TypeScript (DST-safe).
 */
export function sqlHourOf(db: Knex | Knex.Transaction, column: string, offsetMinutes = 0): Knex.Raw {
  if (isSqlite(db)) return db.raw(`strftime('%Y-%m-%d %H', ??, ?)`, [column, `${offsetMinutes} minutes`]);
  return db.raw(`DATE_FORMAT(DATE_ADD(??, INTERVAL ? MINUTE), '%Y-%m-%d %H')`, [column, offsetMinutes]);
}

/**
 * The first id of a multi-row insert, from the id knex returned.
 * NOTE(dialect): MySQL returns the FIRST id of a multi-row insert (LAST_INSERT_ID), SQLite the LAST.
 * Ids of one multi-row insert are consecutive on both (InnoDB with innodb_autoinc_lock_mode ≤ 1, or 2 without concurrent inserts).
 */
export function firstInsertedId(db: Knex | Knex.Transaction, returnedId: number, rowCount: number): number {
  return isSqlite(db) ? returnedId - rowCount + 1 : returnedId;
}
