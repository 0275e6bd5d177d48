/** Every dialect difference between SQLite and MySQL/MariaDB lives here (and in knex.ts). */
import type { Knex } from 'knex';

export function isSqlite(db: Knex | Knex.Transaction): boolean {
  return /sqlite/.test(String(db.client.config.client));
}
export function isMysql(db: Knex | Knex.Transaction): boolean {
  return /mysql/.test(String(db.client.config.client));
}

/**
 * A query over a one-row derived table, to hang left joins on: several lookups that may each find
 * nothing come back as one row in one statement. (`select 1` without FROM works on both dialects;
 * SQLite has no DUAL.)
 */
export function fromOneRow(db: Knex | Knex.Transaction): Knex.QueryBuilder {
  return db.from(db.raw('(select 1 as one) as one'));
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

/**
 * True when `err` is a unique violation of the single-column unique index on `table.column` (knex's
 * default index name `<table>_<column>_unique`), so a caller can retry on that one and no other.
 * NOTE(dialect): SQLite names the column ("UNIQUE constraint failed: tickets.number"), MariaDB the index
 * ("Duplicate entry '…' for key 'tickets_number_unique'"; MySQL 8 prefixes the table: 'tickets.tickets_number_unique').
 * Only the end of the driver's message is read: knex puts the statement, values included, in front of it.
 */
export function isUniqueViolationOf(err: unknown, table: string, column: string): boolean {
  if (!isUniqueViolation(err)) return false;
  const e = err as { message?: string; sqlMessage?: string };
  const driverMessage = String(e.sqlMessage ?? e.message ?? '');
  const index = `${table}_${column}_unique'`;
  return driverMessage.endsWith(`UNIQUE constraint failed: ${table}.${column}`) || driverMessage.endsWith(`'${index}`) || driverMessage.endsWith(`.${index}`);
}

/**
 * True when a statement run with withStatementTimeLimit ran out of time.
 * NOTE(dialect): MariaDB 1969 (max_statement_time exceeded), or 188 (HA_ERR_ABORTED_BY_USER) when the
 * limit struck inside a full-text search; MySQL 3024 (MAX_EXECUTION_TIME exceeded).
 */
export function isStatementTimeout(err: unknown): boolean {
  const e = err as { errno?: number };
  return e?.errno === 1969 || e?.errno === 3024 || e?.errno === 188;
}

/**
 * A MySQL/MariaDB SELECT (its text after the word SELECT, with ? and ?? bindings) that the server stops
 * after `seconds`: MariaDB runs the executable comment (SET STATEMENT max_statement_time … FOR), MySQL
 * the optimizer hint (MAX_EXECUTION_TIME); each takes the other's for a comment. SQLite has no such limit.
 */
export function selectWithTimeLimit(db: Knex | Knex.Transaction, seconds: number, rest: string, bindings: Knex.RawBinding[]): Knex.Raw {
  const s = Number(seconds);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error('selectWithTimeLimit: seconds must be a positive number');
  // sql-safe: `s` is a finite positive number formatted here; `rest` is the caller's constant text with bindings.
  return db.raw(`/*M!100100 SET STATEMENT max_statement_time=${s.toFixed(6)} FOR */ SELECT /*+ MAX_EXECUTION_TIME(${Math.max(1, Math.ceil(s * 1000))}) */ ${rest}`, bindings);
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e?.errno === 1451 || e?.errno === 1452;
}

/**
 * SQL aggregate: the rows of a subquery as one JSON array of arrays (`[[1, "a@x"], [2, "b@x"]]`), so a
 * list can ride along in a one-row read as a column. Read it with jsonRows.
 * NOTE(dialect): SQLite json_group_array gives '[]' for no rows; MySQL/MariaDB JSON_ARRAYAGG (MariaDB
 * 10.5+, MySQL 5.7.22+) gives NULL. MariaDB builds it with GROUP_CONCAT: group_concat_max_len (1 MB by
 * default) caps it, so keep it to short lists.
 */
export function sqlJsonArrayAgg(db: Knex | Knex.Transaction, columns: string[]): Knex.Raw {
  const list = columns.map(() => '??').join(', ');
  // sql-safe: `list` is only `??` placeholders; the column names are bound as identifiers.
  if (isSqlite(db)) return db.raw(`json_group_array(json_array(${list}))`, columns);
  // sql-safe: as above.
  return db.raw(`JSON_ARRAYAGG(JSON_ARRAY(${list}))`, columns);
}

/** Reads a column built with sqlJsonArrayAgg (text on SQLite and MariaDB, parsed JSON from MySQL 8): its rows, none → []. */
export function jsonRows(v: unknown): unknown[][] {
  if (v === null || v === undefined) return [];
  const parsed = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(parsed) ? parsed : [];
}

/**
 * SQL aggregate: a subquery's rows as one JSON object `{key: value, …}` or, for a list of value
 * columns, `{key: [v1, v2], …}` (keys must be unique), so a keyed list can ride along in a one-row
 * read as a column. Read it with jsonObject.
 * On MariaDB this costs a fifth of sqlJsonArrayAgg: JSON_ARRAYAGG(JSON_ARRAY(…)) added ~0.2 ms to a
 * statement (as GROUP_CONCAT does), JSON_OBJECTAGG ~0.05 ms (docs/benchmarks.md).
 * NOTE(dialect): SQLite json_group_object gives '{}' for no rows, MySQL/MariaDB JSON_OBJECTAGG NULL;
 * MySQL 8 sorts the keys. MariaDB caps it at group_concat_max_len (1 MB by default).
 */
export function sqlJsonObjectAgg(db: Knex | Knex.Transaction, keyColumn: string, value: string | string[]): Knex.Raw {
  const columns = typeof value === 'string' ? [value] : value;
  const list = columns.map(() => '??').join(', ');
  // A list of columns becomes a JSON array per key.
  const v = typeof value === 'string' ? list : isSqlite(db) ? `json_array(${list})` : `JSON_ARRAY(${list})`;
  // sql-safe: `v` and `list` are only `??` placeholders; the column names are bound as identifiers.
  return db.raw(isSqlite(db) ? `json_group_object(??, ${v})` : `JSON_OBJECTAGG(??, ${v})`, [keyColumn, ...columns]);
}

/** Reads a column built with sqlJsonObjectAgg (text on SQLite and MariaDB, parsed JSON from MySQL 8); none → {}. Throws if it is not a JSON object. */
export function jsonObject(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not a JSON object');
  return parsed as Record<string, unknown>;
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
  return qb.whereRaw(`?? LIKE ? ESCAPE '!'`, [column, `%${likeEscaped(needle)}%`]);
}

/**
 * `case <idColumn> when ? then ? … else <elseColumn> end`: one value per id, for an UPDATE of many rows
 * in one statement. Only placeholders are repeated into the text; ids and values are bound.
 */
export function caseById(db: Knex | Knex.Transaction, idColumn: string, values: [id: number, value: Knex.Value][], elseColumn: string): Knex.Raw {
  return db.raw('case ?? ' + 'when ? then ? '.repeat(values.length) + 'else ?? end', [idColumn, ...values.flat(), elseColumn]);
}

/** whereLike for values that start with `prefix` (an index on `column` serves it). */
export function whereStartsWith(qb: Knex.QueryBuilder, column: string, prefix: string): Knex.QueryBuilder {
  return qb.whereRaw(`?? LIKE ? ESCAPE '!'`, [column, `${likeEscaped(prefix)}%`]);
}

/** `text` with LIKE's wildcards taken literally. */
function likeEscaped(text: string): string {
  // NOTE(dialect): '!' as the escape character: a backslash inside a MySQL string literal is itself an escape.
  return text.replace(/[!%_]/g, (c) => '!' + c);
}

/**
 * SQL expression for the hour of a datetime column shifted by `offsetMinutes`, as whole hours since
 * 1970-01-01 00:00 UTC (an integer). Reports group by this and map each hour to the help desk's local
 * day/hour in TypeScript (DST-safe). Integer arithmetic on the timestamp: formatting each one as text
 * ('YYYY-MM-DD HH', as before) was most of a year's hourly series at 1M tickets (MariaDB: 0.66–0.85 s
 * against 0.28–0.30 s for the same grouping).
 */
export function sqlHourOf(db: Knex | Knex.Transaction, column: string, offsetMinutes = 0): Knex.Raw {
  // NOTE(dialect): better-sqlite3 binds a JS number as REAL, which would make the division a real one.
  if (isSqlite(db)) return db.raw(`(unixepoch(??) + CAST(? AS INTEGER)) / 3600`, [column, offsetMinutes * 60]);
  // NOTE(dialect): TO_SECONDS counts from year 0 (whole seconds, a fraction dropped); 62,167,219,200 is 1970-01-01's.
  return db.raw(`(TO_SECONDS(??) - 62167219200 + ?) DIV 3600`, [column, offsetMinutes * 60]);
}

/**
 * The first id of a multi-row insert, from the id knex returned.
 * NOTE(dialect): MySQL returns the FIRST id of a multi-row insert (LAST_INSERT_ID), SQLite the LAST.
 * Ids of one multi-row insert are consecutive on both (InnoDB with innodb_autoinc_lock_mode ≤ 1, or 2 without concurrent inserts).
 */
export function firstInsertedId(db: Knex | Knex.Transaction, returnedId: number, rowCount: number): number {
  return isSqlite(db) ? returnedId - rowCount + 1 : returnedId;
}

/**
 * `FROM <left> AS la JOIN <right> AS ra ON ra.<rightKey> = la.<leftKey>`, read in that order: the
 * left table's range first (a word's entries of the search index), each row then looked up in the
 * right one by its key. Left alone, a planner may start from the right table's index (every open
 * ticket) and look each up in the left. NOTE(dialect): MySQL/MariaDB STRAIGHT_JOIN, SQLite CROSS JOIN
 * (which SQLite never reorders).
 */
export function joinInOrder(db: Knex | Knex.Transaction, left: [table: string, alias: string, key: string], right: [table: string, alias: string, key: string]): Knex.Raw {
  const op = isSqlite(db) ? 'cross join' : 'straight_join';
  // sql-safe: `op` is one of two fixed words; every name is bound as an identifier.
  return db.raw(`?? as ?? ${op} ?? as ?? on ?? = ??`, [left[0], left[1], right[0], right[1], `${right[1]}.${right[2]}`, `${left[1]}.${left[2]}`]);
}

/**
 * `column = value`, written so that SQLite does not answer it from an index (`+column`, SQLite's way
 * to take a term out of index selection) when another term of the query has the selective index.
 * SQLite without statistics (the app never runs ANALYZE) weighs every equality alike and prefers the
 * index that also gives the ORDER BY. MariaDB keeps the plain term: its cost model already chooses
 * well, and with `+column` it walked the ORDER BY index instead.
 */
export function whereEqualsNotIndexed(db: Knex | Knex.Transaction, qb: Knex.QueryBuilder, column: string, value: Knex.Value): Knex.QueryBuilder {
  return isSqlite(db) ? qb.whereRaw('+?? = ?', [column, value]) : qb.where(column, value);
}

/**
 * `FROM table AS alias` with index hints, for a query whose ORDER BY LIMIT an index could serve while
 * few of its entries meet the condition: the planner may walk that index in order and test entry
 * after entry. MySQL/MariaDB may not read the table through `ignore` (IGNORE INDEX) and choose among
 * the rest by their cost model. NOTE(dialect): SQLite has no IGNORE, and without statistics (the app
 * never runs ANALYZE) prefers the index that gives the ORDER BY; it reads the table through `use`
 * when given (INDEXED BY: an error, not a slow plan, if that index cannot serve the query).
 */
export function fromWithIndexHints(db: Knex | Knex.Transaction, table: string, alias: string, hints: { ignore: string; use?: string }): Knex.QueryBuilder {
  if (!isSqlite(db)) return db.from(db.raw('?? as ?? ignore index (??)', [table, alias, hints.ignore]));
  return hints.use ? db.from(db.raw('?? as ?? indexed by ??', [table, alias, hints.use])) : db(`${table} as ${alias}`);
}

/**
 * `table as alias`, read through `index` on both dialects (FORCE INDEX; SQLite INDEXED BY): for a
 * query whose best plan at scale (an index walked in the ORDER BY's order, stopped at the LIMIT) the
 * planner does not see on small tables. NOTE(dialect): on SQLite an error if the index cannot serve the query.
 */
export function tableForcedIndex(db: Knex | Knex.Transaction, table: string, alias: string, index: string): Knex.Raw {
  return db.raw(isSqlite(db) ? '?? as ?? indexed by ??' : '?? as ?? force index (??)', [table, alias, index]);
}

/**
 * `table as alias` read, on SQLite, only through `index` (INDEXED BY), or given null only by its
 * primary key (NOT INDEXED, which still looks rowids up: `id IN (…)`); plain on MySQL/MariaDB. For a
 * query narrowed to a set of rows another index names (an organization's members' tickets, a custom
 * field answer's) whose other conditions an index also serves. NOTE(dialect): SQLite without statistics
 * (the app never runs ANALYZE) weighs every condition alike and read a department's whole range testing
 * each row against the set; MariaDB's statistics choose well either way (a set of half the tickets is
 * better walked in the page's order, testing each entry), where a forced index would not.
 */
export function tableIndexedOnSqlite(db: Knex | Knex.Transaction, table: string, alias: string, index: string | null): Knex.Raw {
  if (!isSqlite(db)) return db.raw('?? as ??', [table, alias]);
  return index ? db.raw('?? as ?? indexed by ??', [table, alias, index]) : db.raw('?? as ?? not indexed', [table, alias]);
}

/**
 * `table as alias`, read by its primary key only (FORCE INDEX (PRIMARY); SQLite NOT INDEXED, which
 * still looks rowids up): for a query given a short list of ids whose other conditions an index in the
 * ORDER BY's order also serves, which the planner would otherwise walk in order, reading every entry.
 */
export function tableByPrimaryKey(db: Knex | Knex.Transaction, table: string, alias: string): Knex.Raw {
  return db.raw(isSqlite(db) ? '?? as ?? not indexed' : '?? as ?? force index (primary)', [table, alias]);
}

/** Pools whose server turned RETURNING down (MySQL 8): they take the two-statement path from then on. */
const noReturning = new WeakSet<object>();

/**
 * Runs an INSERT (a knex builder or raw SQL, with its ON CONFLICT / ON DUPLICATE KEY UPDATE) with
 * `returning` (a select list) as its RETURNING clause and answers the rows as they now stand, in one
 * statement where the server can: `INSERT … RETURNING` on SQLite (3.35+) and MariaDB (10.5+) gives the
 * inserted or the updated rows.
 * NOTE(dialect): MySQL 8 has no RETURNING: its parse error (ER_PARSE_ERROR) is remembered for the
 * pool, and the insert then runs alone followed by `reread`.
 */
export async function insertReturning<T extends Record<string, unknown>>(
  db: Knex | Knex.Transaction,
  insert: Knex.QueryBuilder | Knex.Raw,
  returning: Knex.Raw,
  reread: () => Promise<T[]>,
): Promise<T[]> {
  // A builder as a binding would be wrapped in parentheses (a subquery): it goes in as its own SQL.
  const { sql, bindings } = insert.toSQL();
  const statement = db.raw('? returning ?', [db.raw(sql, bindings as Knex.RawBinding[]), returning]);
  if (isSqlite(db)) return (await statement) as T[];
  if (!noReturning.has(db.client)) {
    try {
      const [rows] = await statement;
      return rows as T[];
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_PARSE_ERROR') throw err;
      noReturning.add(db.client);
    }
  }
  await insert;
  return reread();
}

/** For tests: makes this pool behave as a server without RETURNING (MySQL 8) does. */
export function assumeNoReturning(db: Knex | Knex.Transaction): void {
  noReturning.add(db.client);
}
