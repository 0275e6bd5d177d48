/**
 * Aggregate SQL for reports (SQLite and MySQL/MariaDB alike). Every query is a range scan on an
 * indexed timestamp (created_at, closed_at, ticket_events.event+created_at) or on the open-ticket
 * indexes, grouped in the database; only aggregates come back (and the few durations the percentiles
 * are interpolated from), never ticket rows. The ticket indexes
 * they range over hold every column they use (tickets_report_*: migrations
 * 20261128130000 and 20261130110000), so a period's tickets are counted from index entries, not read
 * from the table.
 */
import type { Knex } from 'knex';
import { dbCount, sqlHourOf, sqlSecondsBetween, tableForcedIndex, toDbDate, whereEqualsNotIndexed } from '../../db/dialect.ts';
import { SOURCE_LABELS, type TicketSource } from '../tickets/ticket-status.ts';
import { pickKey, type BucketPick, type BucketRow } from './report-stats.ts';

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

export interface ClosedCounts {
  closed: number;
  /** closed with a due date, no later than it */
  met: number;
  /** closed with a due date, after it */
  breached: number;
}

/** A group's tickets opened in the period, and how many met or missed a first-response target. */
export interface OpenedCounts {
  opened: number;
  frMet: number;
  frMissed: number;
}

// Resolution against the due date, for tickets closed in the period (the same rule as sla/sla-facts.ts).
const SLA_MET = 'CASE WHEN t.due_at IS NOT NULL AND t.closed_at <= t.due_at THEN 1 ELSE 0 END';
const SLA_BREACHED = 'CASE WHEN t.due_at IS NOT NULL AND t.closed_at > t.due_at THEN 1 ELSE 0 END';

/**
 * First response against its target, for tickets opened in the period that have one: met when answered
 * no later than first_response_due_at; missed when answered after it, or not answered and closed
 * (resolved, closed, merged) after it, or not answered, still open and past it at `now`. Not answered
 * and closed before it, or open and not yet due: neither. Every column is in tickets_report_(dept_)created;
 * `now` is bound (a constant, so MySQL compares it as a datetime). The ticket page says "late" alike.
 */
function firstResponseVerdicts(db: Db, now: Date): { met: Knex.Raw; missed: Knex.Raw } {
  const due = 't.first_response_due_at';
  return {
    // sql-safe: `due` is the code's own column name; `now` is a ? binding
    met: db.raw(`CASE WHEN ${due} IS NOT NULL AND t.first_response_at <= ${due} THEN 1 ELSE 0 END`),
    // sql-safe: as above
    missed: db.raw(
      `CASE WHEN ${due} IS NULL THEN 0 WHEN t.first_response_at IS NOT NULL THEN (CASE WHEN t.first_response_at > ${due} THEN 1 ELSE 0 END) ` +
        `WHEN t.closed_at IS NOT NULL THEN (CASE WHEN t.closed_at > ${due} THEN 1 ELSE 0 END) WHEN ${due} < ? THEN 1 ELSE 0 END`,
      [toDbDate(now)],
    ),
  };
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

/** Upper bounds (seconds, inclusive) of the first-response distribution buckets; the last is open-ended. */
export const RESPONSE_BUCKETS = [
  { label: 'Up to 1 hour', max: 3600 },
  { label: '1–4 hours', max: 4 * 3600 },
  { label: '4–8 hours', max: 8 * 3600 },
  { label: '8–24 hours', max: 24 * 3600 },
  { label: '1–3 days', max: 72 * 3600 },
  { label: 'Over 3 days', max: null },
] as const;

export type DurationKind = 'first_response' | 'resolution';

/**
 * The period's tickets a kind of duration is measured on: created in it (first response; unanswered
 * ones have no duration), or closed in it and still closed (resolution).
 */
function periodTickets(db: Db, scope: ReportScope, r: Range, kind: DurationKind): Knex.QueryBuilder {
  return scoped(kind === 'first_response' ? inRange(db('tickets as t'), 't.created_at', r) : closedInRange(db, r), scope);
}

/** The duration in whole seconds (NULL for a ticket not yet answered). */
function durationOf(db: Db, kind: DurationKind): string {
  const end = kind === 'first_response' ? 't.first_response_at' : 't.closed_at';
  return `ROUND(${sqlSecondsBetween(db, 't.created_at', end).toQuery()})`;
}

/**
 * Durations are counted in buckets on a logarithmic scale, 16 to each factor of e (each ~6.5 % wide;
 * a year is bucket 276), every duration under a second in bucket -1: the bucket never decreases as the
 * duration grows, so a rank's bucket is found from the buckets' counts (report-stats.ts locateRanks).
 */
const BUCKETS_PER_E = 16;
function bucketOf(seconds: string): string {
  // sql-safe: `seconds` is the code's own duration expression (durationOf); the scale is a constant
  return `(CASE WHEN ${seconds} < 1 THEN -1 ELSE FLOOR(LN(${seconds}) * ${BUCKETS_PER_E}) END)`;
}

/** Histogram rows as BucketRow, one per group and bucket (the rows without a duration are not in it). */
function bucketRows(rows: any[]): BucketRow[] {
  const out = new Map<string, BucketRow>();
  for (const row of rows) {
    if (row.b === null || row.b === undefined) continue;
    const g = keyOf(row.g);
    const b = Number(row.b);
    const seen = out.get(`${g}|${b}`);
    const n = dbCount(row.n);
    out.set(`${g}|${b}`, seen ? { g, b, n: seen.n + n, lo: Math.min(seen.lo, Number(row.lo)), hi: Math.max(seen.hi, Number(row.hi)) } : { g, b, n, lo: Number(row.lo), hi: Number(row.hi) });
  }
  return [...out.values()];
}

/**
 * The period's opened tickets in one read of their index entries: per group, how many and their
 * first-response verdicts (firstResponseVerdicts, as of `now`); their first
 * responses as a histogram by bucket (for the percentiles, with locateRanks and pickDurations) and in
 * the distribution's fixed buckets (RESPONSE_BUCKETS, summed over the groups).
 * Ranking every duration instead (ROW_NUMBER over the period) sorted each of them in a temporary
 * table: at 1M tickets a year's report took seconds (docs/benchmarks.md, session 14).
 */
export async function openedFigures(db: Db, scope: ReportScope, r: Range, group: GroupName, now: Date): Promise<{ opened: Map<string, OpenedCounts>; buckets: BucketRow[]; distribution: number[] }> {
  const seconds = durationOf(db, 'first_response');
  const verdicts = firstResponseVerdicts(db, now);
  // The distribution's bucket as one more grouping (NULL: not answered), not a sum per bucket: each
  // aggregate is kept per group row for every ticket (1.3 s → 0.65 s for a year at 1M tickets).
  const whens = RESPONSE_BUCKETS.map((b, i) => (b.max === null ? `ELSE ${i}` : `WHEN ${seconds} <= ${b.max} THEN ${i}`));
  const inner = periodTickets(db, scope, r, 'first_response').select(
    db.raw('?? AS g', [GROUP_COLUMNS[group]]),
    // sql-safe: `seconds` and the bucket expressions are the code's own (durationOf, bucketOf) with RESPONSE_BUCKETS' numeric bounds
    db.raw(`${seconds} AS d`), db.raw(`${bucketOf(seconds)} AS b`), db.raw(`CASE WHEN ${seconds} IS NULL THEN NULL ${whens.join(' ')} END AS r`),
    db.raw('? AS fr_met', [verdicts.met]), db.raw('? AS fr_missed', [verdicts.missed]),
  );
  const rows = await db.from(inner.as('x')).select('g', 'b', 'r').count({ n: '*' }).min({ lo: 'd' }).max({ hi: 'd' }).sum({ fr_met: 'fr_met' }).sum({ fr_missed: 'fr_missed' }).groupBy('g', 'b', 'r');
  const opened = new Map<string, OpenedCounts>();
  const distribution = RESPONSE_BUCKETS.map(() => 0);
  for (const row of rows as any[]) {
    const o = opened.get(keyOf(row.g)) ?? { opened: 0, frMet: 0, frMissed: 0 };
    opened.set(keyOf(row.g), { opened: o.opened + dbCount(row.n), frMet: o.frMet + dbCount(row.fr_met), frMissed: o.frMissed + dbCount(row.fr_missed) });
    if (row.r !== null) distribution[Number(row.r)] += dbCount(row.n);
  }
  return { opened, buckets: bucketRows(rows), distribution };
}

/** The period's closed tickets (still closed) in one read: per group, how many, SLA met and breached, and their resolution times by bucket. */
export async function closedFigures(db: Db, scope: ReportScope, r: Range, group: GroupName): Promise<{ closed: Map<string, ClosedCounts>; buckets: BucketRow[] }> {
  const seconds = durationOf(db, 'resolution');
  const inner = periodTickets(db, scope, r, 'resolution').select(
    db.raw('?? AS g', [GROUP_COLUMNS[group]]),
    // sql-safe: `seconds` and the bucket expression are the code's own (durationOf, bucketOf)
    db.raw(`${seconds} AS d`), db.raw(`${bucketOf(seconds)} AS b`),
    // sql-safe: the code's own constant expressions (SLA_MET, SLA_BREACHED)
    db.raw(`${SLA_MET} AS met`), db.raw(`${SLA_BREACHED} AS breached`),
  );
  const rows = await db.from(inner.as('x')).select('g', 'b').count({ n: '*' }).min({ lo: 'd' }).max({ hi: 'd' }).sum({ met: 'met' }).sum({ breached: 'breached' }).groupBy('g', 'b');
  const closed = new Map<string, ClosedCounts>();
  for (const row of rows as any[]) {
    const c = closed.get(keyOf(row.g)) ?? { closed: 0, met: 0, breached: 0 };
    closed.set(keyOf(row.g), { closed: c.closed + dbCount(row.n), met: c.met + dbCount(row.met), breached: c.breached + dbCount(row.breached) });
  }
  return { closed, buckets: bucketRows(rows) };
}

/**
 * The SLA table per department for a report grouped otherwise, in one statement of two index-only
 * reads: the tickets closed in the period (still closed) with their resolution verdicts, and those
 * opened in it with their first-response verdicts (as openedFigures: the same rules), each counted per
 * department in the database.
 */
export async function slaFiguresByDepartment(db: Db, scope: ReportScope, r: Range, now: Date): Promise<Map<string, ClosedCounts & Omit<OpenedCounts, 'opened'>>> {
  const g = GROUP_COLUMNS.department;
  const verdicts = firstResponseVerdicts(db, now);
  const zero = db.raw('0');
  const closed = scoped(closedInRange(db, r), scope)
    // sql-safe: the code's own constant expressions
    .select({ g, closed: db.raw('COUNT(*)'), met: db.raw(`SUM(${SLA_MET})`), breached: db.raw(`SUM(${SLA_BREACHED})`), fr_met: zero, fr_missed: zero })
    .groupBy(g);
  const opened = scoped(inRange(db('tickets as t'), 't.created_at', r), scope)
    .select({ g, closed: zero, met: zero, breached: zero, fr_met: db.raw('SUM(?)', [verdicts.met]), fr_missed: db.raw('SUM(?)', [verdicts.missed]) })
    .groupBy(g);
  const out = new Map<string, ClosedCounts & Omit<OpenedCounts, 'opened'>>();
  // Each part a derived table: knex puts UNION before the first part's GROUP BY, and SQLite takes no parenthesised SELECT.
  const rows = await db.from(closed.as('c')).select('*').unionAll(db.from(opened.as('o')).select('*'));
  for (const row of rows as any[]) {
    const c = out.get(keyOf(row.g)) ?? { closed: 0, met: 0, breached: 0, frMet: 0, frMissed: 0 };
    out.set(keyOf(row.g), { closed: c.closed + dbCount(row.closed), met: c.met + dbCount(row.met), breached: c.breached + dbCount(row.breached), frMet: c.frMet + dbCount(row.fr_met), frMissed: c.frMissed + dbCount(row.fr_missed) });
  }
  return out;
}

/**
 * The durations the histogram could not tell (locateRanks' picks), by pickKey: the period's durations
 * of those buckets only are ranked within their bucket (per group, or over every group for the whole
 * period's), and only the wanted ranks come back. One statement for the groups' picks and one for the
 * whole period's: MariaDB 10.11 numbers `ROW_NUMBER() OVER (ORDER BY d)` wrongly when the same SELECT
 * also has `… OVER (PARTITION BY g ORDER BY d)` (seen here, caught by report-service.test.ts).
 */
export async function pickDurations(db: Db, scope: ReportScope, r: Range, kind: DurationKind, group: GroupName, picks: BucketPick[]): Promise<Map<string, number>> {
  const seconds = durationOf(db, kind);
  const bucket = bucketOf(seconds);
  const read = async (whole: boolean): Promise<[string, number][]> => {
    const wanted = picks.filter((p) => p.whole === whole);
    if (!wanted.length) return [];
    const buckets = [...new Set(wanted.map((p) => p.b))];
    const offsets = [...new Set(wanted.map((p) => p.offset))];
    // sql-safe: `seconds` and `bucket` are the code's own expressions (durationOf, bucketOf)
    const columns = [db.raw('?? AS g', [GROUP_COLUMNS[group]]), db.raw(`${seconds} AS d`), db.raw(`${bucket} AS b`)];
    // sql-safe: the bucket expression is the code's own; one placeholder per bucket
    const inBuckets = db.raw(`${bucket} IN (${buckets.map(() => '?').join(', ')})`, buckets);
    const inner = periodTickets(db, scope, r, kind).select(columns).where(inBuckets);
    // sql-safe: a fixed window over the derived table's own columns
    const ranked = db.from(inner.as('x')).select('g', 'b', 'd', db.raw(`ROW_NUMBER() OVER (PARTITION BY ${whole ? '' : 'g, '}b ORDER BY d) AS rn`));
    const rows = await db.from(ranked.as('y')).select('g', 'b', 'd', 'rn').whereIn('rn', offsets);
    return rows.map((row: any) => [pickKey({ whole, g: whole ? '' : keyOf(row.g), b: Number(row.b), offset: dbCount(row.rn) }), Number(row.d)]);
  };
  const [groups, whole] = await Promise.all([read(false), read(true)]);
  return new Map([...groups, ...whole]);
}

/** Tickets per SQL hour bucket (whole hours since 1970 of UTC + shift: sqlHourOf) of `column` in the range. */
export async function hourlyCounts(db: Db, scope: ReportScope, r: Range, column: 'created_at' | 'closed_at', shiftMinutes: number): Promise<{ hour: number; n: number }[]> {
  const qb = column === 'closed_at' ? closedInRange(db, r) : inRange(db('tickets as t'), `t.${column}`, r);
  const rows = await scoped(qb, scope).select({ h: sqlHourOf(db, `t.${column}`, shiftMinutes) }).count({ n: '*' }).groupBy('h');
  return rows.map((row: any) => ({ hour: Number(row.h), n: dbCount(row.n) }));
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
