/**
 * Aggregate SQL for reports (SQLite and MySQL/MariaDB alike). Every query is a range scan on an
 * indexed timestamp (created_at, closed_at, ticket_events.event+created_at) or on the open-ticket
 * indexes, grouped in the database; only aggregates come back, never ticket rows. The ticket indexes
 * they range over hold every column they use (tickets_report_*: migration
 * 20261128130000), so a period's tickets are counted from index entries, not read from the table.
 */
import type { Knex } from 'knex';
import { dbCount, sqlHourOf, sqlSecondsBetween, tableForcedIndex, toDbDate, whereEqualsNotIndexed } from '../../db/dialect.ts';
import { SOURCE_LABELS, type TicketSource } from '../tickets/ticket-status.ts';

export const GROUPS = ['department', 'agent', 'topic', 'source', 'priority'] as const;
export type GroupName = (typeof GROUPS)[number];

const GROUP_COLUMNS: Record<GroupName, string> = {
  department: 't.department_id',
  agent: 't.assignee_agent_id',
  topic: 't.topic_id',
  source: 't.source',
  priority: 't.priority_id',
};

/** Which tickets the figures cover: `departmentIds` null means every department. */
export interface ReportScope {
  departmentIds: number[] | null;
}
export interface Range {
  start: Date;
  end: Date;
}
type Db = Knex | Knex.Transaction;

/** Group key as text ('' for "none"), so numbers and strings from both drivers compare alike. */
export const keyOf = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function scoped(qb: Knex.QueryBuilder, scope: ReportScope): Knex.QueryBuilder {
  return scope.departmentIds === null ? qb : qb.whereIn('t.department_id', scope.departmentIds.length ? scope.departmentIds : [-1]);
}
function inRange(qb: Knex.QueryBuilder, column: string, r: Range): Knex.QueryBuilder {
  return qb.where(column, '>=', toDbDate(r.start)).where(column, '<', toDbDate(r.end));
}

/** Tickets created in the range, per group. */
export async function countOpened(db: Db, scope: ReportScope, r: Range, group: GroupName): Promise<Map<string, number>> {
  const col = GROUP_COLUMNS[group];
  const rows = await scoped(inRange(db('tickets as t'), 't.created_at', r), scope).select({ g: col }).count({ n: '*' }).groupBy(col);
  return new Map(rows.map((row: any) => [keyOf(row.g), dbCount(row.n)]));
}

export interface ClosedCounts {
  closed: number;
  /** closed with a due date, no later than it */
  met: number;
  /** closed with a due date, after it */
  breached: number;
}

/**
 * Tickets closed in the range and still closed. NOTE(dialect): on SQLite the state is not an index
 * term (whereEqualsNotIndexed): without statistics (the app never runs ANALYZE) SQLite took any
 * index starting with the state and read every closed ticket (1 s for a 7-day report at 100k
 * tickets) instead of the period's range of tickets_report_closed, which holds the state too.
 */
function closedInRange(db: Db, r: Range): Knex.QueryBuilder {
  return whereEqualsNotIndexed(db, inRange(db('tickets as t'), 't.closed_at', r), 't.state', 'closed');
}

/** Tickets closed (and still closed) in the range, with SLA met/breached, per group. */
export async function countClosed(db: Db, scope: ReportScope, r: Range, group: GroupName): Promise<Map<string, ClosedCounts>> {
  const col = GROUP_COLUMNS[group];
  const rows = await scoped(closedInRange(db, r), scope)
    .select({ g: col })
    .count({ n: '*' })
    .select(db.raw('SUM(CASE WHEN t.due_at IS NOT NULL AND t.closed_at <= t.due_at THEN 1 ELSE 0 END) AS met'))
    .select(db.raw('SUM(CASE WHEN t.due_at IS NOT NULL AND t.closed_at > t.due_at THEN 1 ELSE 0 END) AS breached'))
    .groupBy(col);
  return new Map(rows.map((row: any) => [keyOf(row.g), { closed: dbCount(row.n), met: dbCount(row.met), breached: dbCount(row.breached) }]));
}

/** 'reopened' events in the range, per group of the ticket. */
export async function countReopened(db: Db, scope: ReportScope, r: Range, group: GroupName): Promise<Map<string, number>> {
  const col = GROUP_COLUMNS[group];
  const q = db('ticket_events as e').join('tickets as t', 't.id', 'e.ticket_id').where('e.event', 'reopened');
  const rows = await scoped(inRange(q, 'e.created_at', r), scope).select({ g: col }).count({ n: '*' }).groupBy(col);
  return new Map(rows.map((row: any) => [keyOf(row.g), dbCount(row.n)]));
}

/**
 * Open tickets right now (not bound to the period) and how many of them are overdue, per group: read
 * from tickets_report_open, which holds every grouping column (migration 20261128130000), so the
 * open tickets' entries are counted without reading their rows.
 */
export async function countOpenNow(db: Db, scope: ReportScope, group: GroupName): Promise<Map<string, { open: number; overdue: number }>> {
  const col = GROUP_COLUMNS[group];
  const rows = await scoped(db.from(tableForcedIndex(db, 'tickets', 't', 'tickets_report_open')).where('t.state', 'open'), scope)
    .select({ g: col })
    .count({ n: '*' })
    .select(db.raw('SUM(CASE WHEN t.is_overdue = 1 THEN 1 ELSE 0 END) AS overdue'))
    .groupBy(col);
  return new Map(rows.map((row: any) => [keyOf(row.g), { open: dbCount(row.n), overdue: dbCount(row.overdue) }]));
}

export type DurationKind = 'first_response' | 'resolution';

/** The duration (seconds, rounded) and the filter for each kind. */
function durationSource(db: Db, scope: ReportScope, r: Range, kind: DurationKind): { qb: Knex.QueryBuilder; seconds: string } {
  if (kind === 'first_response') {
    const qb = inRange(db('tickets as t'), 't.created_at', r).whereNotNull('t.first_response_at');
    return { qb: scoped(qb, scope), seconds: `ROUND(${sqlSecondsBetween(db, 't.created_at', 't.first_response_at').toQuery()})` };
  }
  const qb = closedInRange(db, r);
  return { qb: scoped(qb, scope), seconds: `ROUND(${sqlSecondsBetween(db, 't.created_at', 't.closed_at').toQuery()})` };
}

/** Rows of the sorted durations near the ranks the percentiles need: { g, d, rn, n }. */
export interface RankRow {
  g: string;
  /** seconds */
  d: number;
  /** 1-based rank in its group */
  rn: number;
  /** group size */
  n: number;
}

/**
 * Percentiles in SQL with window functions (SQLite ≥ 3.25, MySQL 8, MariaDB 10.2): the database
 * sorts each group's durations and returns only the rows either side of the wanted ranks
 * (h = (n−1)·k/10 for k = 5 and 9), which the caller interpolates. Integer arithmetic only, so no
 * float rounding and no unsigned underflow on MySQL. `group` null = one group for everything.
 * One ranking per statement: MariaDB 10.11 numbers `ROW_NUMBER() OVER (ORDER BY d)` wrongly when the
 * same SELECT also has `… OVER (PARTITION BY g ORDER BY d)` (it reuses that window's sort; seen here,
 * and caught by report-service.test.ts), so the groups' and the whole period's ranks are two statements.
 */
export async function durationRanks(db: Db, scope: ReportScope, r: Range, kind: DurationKind, group: GroupName | null): Promise<RankRow[]> {
  const { qb, seconds } = durationSource(db, scope, r, kind);
  const col = group ? GROUP_COLUMNS[group] : null;
  const partition = col ? `PARTITION BY ${db.raw('??', [col]).toQuery()} ` : '';
  const inner = qb.select(
    col ? db.raw('?? AS g', [col]) : db.raw("'' AS g"),
    // sql-safe: `seconds` and `partition` are built from the code's own column names (sqlSecondsBetween, ?? bindings)
    db.raw(`${seconds} AS d`),
    // sql-safe: `seconds` and `partition` are built from the code's own column names (sqlSecondsBetween, ?? bindings)
    db.raw(`ROW_NUMBER() OVER (${partition}ORDER BY ${seconds}) AS rn`),
    // sql-safe: `seconds` and `partition` are built from the code's own column names (sqlSecondsBetween, ?? bindings)
    db.raw(`COUNT(*) OVER (${partition.trim()}) AS n`),
  );
  const near = (k: number) => `(10 * rn < ${k} * n + ${20 - k} AND ${k} * n < 10 * rn + ${k})`;
  // sql-safe: near() interpolates only the integer constants 5 and 9 and column aliases
  const rows = await db.from(inner.as('x')).select('g', 'd', 'rn', 'n').whereRaw(`${near(5)} OR ${near(9)}`);
  return rows.map((row: any) => ({ g: keyOf(row.g), d: Number(row.d), rn: dbCount(row.rn), n: dbCount(row.n) }));
}

/** Tickets per SQL hour bucket ('YYYY-MM-DD HH' of UTC + shift) of `column` in the range. */
export async function hourlyCounts(db: Db, scope: ReportScope, r: Range, column: 'created_at' | 'closed_at', shiftMinutes: number): Promise<{ bucket: string; n: number }[]> {
  const qb = column === 'closed_at' ? closedInRange(db, r) : inRange(db('tickets as t'), `t.${column}`, r);
  const rows = await scoped(qb, scope).select({ h: sqlHourOf(db, `t.${column}`, shiftMinutes) }).count({ n: '*' }).groupBy('h');
  return rows.map((row: any) => ({ bucket: String(row.h), n: dbCount(row.n) }));
}

/** Upper bounds (seconds, inclusive) of the first-response distribution buckets; the last is open-ended. */
export const RESPONSE_BUCKETS = [
  { label: 'Up to 1 hour', max: 3600 },
  { label: '1–4 hours', max: 4 * 3600 },
  { label: '4–8 hours', max: 8 * 3600 },
  { label: '8–24 hours', max: 24 * 3600 },
  { label: '1–3 days', max: 72 * 3600 },
  { label: 'Over 3 days', max: null },
] as const;

/** How many first responses (tickets created in the range) fall in each bucket. */
export async function responseDistribution(db: Db, scope: ReportScope, r: Range): Promise<number[]> {
  const { qb, seconds } = durationSource(db, scope, r, 'first_response');
  let lower: number | null = null;
  const sums = RESPONSE_BUCKETS.map((b, i) => {
    const conds = [lower === null ? null : `${seconds} > ${lower}`, b.max === null ? null : `${seconds} <= ${b.max}`].filter(Boolean);
    lower = b.max;
    // sql-safe: conds holds the code's own duration expression and the numeric bucket bounds of RESPONSE_BUCKETS
    return db.raw(`SUM(CASE WHEN ${conds.join(' AND ')} THEN 1 ELSE 0 END) AS b${i}`);
  });
  const row: any = await qb.first(sums);
  return RESPONSE_BUCKETS.map((_, i) => dbCount(row?.[`b${i}`]));
}

/** Display names for group keys ('' = none). */
export async function groupLabels(db: Db, group: GroupName, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ids = keys.filter((k) => k !== '').map(Number).filter(Number.isInteger);
  const table = { department: 'departments', agent: 'agents', topic: 'help_topics', priority: 'priorities', source: null }[group];
  if (table && ids.length) for (const row of await db(table).whereIn('id', ids).select('id', 'name')) out.set(keyOf(row.id), String(row.name));
  for (const k of keys) {
    if (out.has(k)) continue;
    if (group === 'source') out.set(k, SOURCE_LABELS[k as TicketSource] ?? k);
    else out.set(k, k === '' ? { agent: 'Unassigned', topic: 'No help topic' }[group as 'agent' | 'topic'] ?? '—' : `#${k}`);
  }
  return out;
}
