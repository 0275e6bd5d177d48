/**
 * Ticket reports for a period in the help desk's time zone, grouped by department, agent, help
 * topic, source or priority. Agents see their departments' tickets; admins everything.
 * Definitions (also in CONTEXT.md):
 * - opened: created in the period; closed: closed_at in the period and still closed;
 *   reopened: 'reopened' events in the period; open / overdue: right now, whatever the period.
 * - SLA met: closed in the period with a due date and closed_at <= due_at; breached: closed after it.
 *   Tickets without a due date count in neither. Compliance = met ÷ (met + breached).
 * - First response met: created in the period with a first-response due date and answered no later
 *   than it; missed: answered after it, or unanswered past it (at closing for a closed ticket, else now).
 *   Unanswered and not yet due (or closed before it): neither. Compliance = met ÷ (met + missed).
 * - first response: created in the period and answered (first_response_at − created_at);
 *   resolution: closed in the period (closed_at − created_at). Wall-clock time, not business hours.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { isAgent, type Actor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { Forbidden, ValidationFailed } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { optionalId, optionalText, parseInput } from '../validation.ts';
import { isIsoDate, localHourOf, MAX_PERIOD_DAYS, PERIODS, resolvePeriod, safeZone, type ReportPeriod } from './report-period.ts';
import * as q from './report-queries.ts';
import { compliance, locateRanks, percentilesOf, type Percentiles } from './report-stats.ts';

export const ReportInput = z.object({
  period: z.preprocess((v) => (v === '' || v === undefined ? '7d' : v), z.enum(PERIODS, { error: 'Choose a period' })),
  from: optionalText(10, 'From'),
  to: optionalText(10, 'To'),
  group: z.preprocess((v) => (v === '' || v === undefined ? 'department' : v), z.enum(q.GROUPS, { error: 'Choose a grouping' })),
  dept: optionalId,
});
export type ReportInput = z.input<typeof ReportInput>;
export type ReportChoice = z.output<typeof ReportInput>;

export interface GroupFigures {
  key: string;
  label: string;
  opened: number;
  closed: number;
  reopened: number;
  open: number;
  overdue: number;
  slaMet: number;
  slaBreached: number;
  /** percent, null when no closed ticket had a due date */
  compliance: number | null;
  /** opened in the period with a first-response target: answered in time / late or unanswered past it */
  frMet: number;
  frMissed: number;
  /** percent, null when no opened ticket's first response was met or missed */
  frCompliance: number | null;
  firstResponse: Percentiles;
  resolution: Percentiles;
}

export type SlaFigures = Pick<GroupFigures, 'key' | 'label' | 'closed' | 'slaMet' | 'slaBreached' | 'compliance' | 'frMet' | 'frMissed' | 'frCompliance'>;

export interface Report {
  choice: ReportChoice;
  period: ReportPeriod;
  groups: GroupFigures[];
  total: GroupFigures;
  daily: { day: string; opened: number; closed: number }[];
  /** departments that closed tickets in the period, or whose opened tickets met or missed a first-response target */
  slaByDepartment: SlaFigures[];
  responseDistribution: { label: string; count: number }[];
  /** tickets opened per local hour 0–23 */
  hours: number[];
  /** tickets opened per local weekday, Monday first */
  weekdays: number[];
  /** departments the actor may filter by */
  departments: { id: number; name: string }[];
}

/** Parses the report choice; custom periods need real from ≤ to dates at most MAX_PERIOD_DAYS apart. */
export function parseReportChoice(raw: unknown): ReportChoice {
  const c = parseInput(ReportInput, raw);
  if (c.period !== 'custom') return c;
  const errors: Record<string, string> = {};
  if (!c.from || !isIsoDate(c.from)) errors.from = 'Enter a start date (YYYY-MM-DD)';
  if (!c.to || !isIsoDate(c.to)) errors.to = 'Enter an end date (YYYY-MM-DD)';
  if (!errors.from && !errors.to) {
    const days = (Date.parse(c.to!) - Date.parse(c.from!)) / 86_400_000 + 1;
    if (days < 1) errors.to = 'The end date must not be before the start date';
    else if (days > MAX_PERIOD_DAYS) errors.to = `A report covers at most ${MAX_PERIOD_DAYS} days`;
  }
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return c;
}

/**
 * Which tickets the actor's report covers. A non-admin asking for a department outside their own
 * gets Forbidden (never someone else's figures). @throws Forbidden
 */
export function reportScope(actor: Actor, dept: number | undefined): q.ReportScope {
  if (!isAgent(actor)) throw new Forbidden('Only agents can open reports.', 'REPORTS_AGENTS_ONLY');
  if (actor.role === 'admin') return { departmentIds: dept ? [dept] : null };
  if (dept && !actor.departmentIds.includes(dept)) throw new Forbidden('You do not have access to that department.', 'DEPARTMENT_FORBIDDEN');
  return { departmentIds: dept ? [dept] : actor.departmentIds };
}

/** Builds the whole report for the actor. @throws ValidationFailed, Forbidden */
export async function buildReport(ctx: ServiceContext, raw: unknown): Promise<Report> {
  const choice = parseReportChoice(raw);
  const scope = reportScope(ctx.actor, choice.dept);
  const settings = await getSettings(ctx.db);
  const now = ctx.clock();
  const period = resolvePeriod(choice.period, safeZone(settings.timezone), now, choice.from, choice.to);
  const [figures, sla, series, departments] = await Promise.all([
    groupFigures(ctx.db, scope, period, choice.group, now),
    choice.group === 'department' ? null : slaPerDepartment(ctx.db, scope, period, now),
    localSeries(ctx.db, scope, period),
    departmentChoices(ctx.db, ctx.actor),
  ]);
  return {
    choice,
    period,
    groups: figures.groups,
    total: figures.total,
    ...series,
    slaByDepartment: sla ?? figures.groups.filter(hasSlaFigures),
    responseDistribution: q.RESPONSE_BUCKETS.map((b, i) => ({ label: b.label, count: figures.distribution[i] })),
    departments,
  };
}

/**
 * Counts, SLA and percentiles per group, plus the total row, and the first responses' distribution.
 * The opened and the closed tickets are each read once (counts and a histogram of their durations);
 * then only the durations the percentiles fall between, where the histogram cannot tell them.
 */
async function groupFigures(db: Knex | Knex.Transaction, scope: q.ReportScope, r: ReportPeriod, group: q.GroupName, now: Date): Promise<{ groups: GroupFigures[]; total: GroupFigures; distribution: number[] }> {
  const [created, closed, reopened, openNow] = await Promise.all([
    q.openedFigures(db, scope, r, group, now),
    q.closedFigures(db, scope, r, group),
    q.countReopened(db, scope, r, group),
    q.countOpenNow(db, scope, group),
  ]);
  const fr = locateRanks(created.buckets);
  const res = locateRanks(closed.buckets);
  const keys = [...new Set([...created.opened.keys(), ...closed.closed.keys(), ...reopened.keys(), ...openNow.keys()])];
  const [labels, frPicked, resPicked] = await Promise.all([
    q.groupLabels(db, group, keys),
    q.pickDurations(db, scope, r, 'first_response', group, fr.picks),
    q.pickDurations(db, scope, r, 'resolution', group, res.picks),
  ]);
  const groups = keys
    .map((key) => {
      const c = closed.closed.get(key) ?? { closed: 0, met: 0, breached: 0 };
      const o = openNow.get(key) ?? { open: 0, overdue: 0 };
      const opened = created.opened.get(key) ?? { opened: 0, frMet: 0, frMissed: 0 };
      return figures(key, labels.get(key) ?? key, opened, c, reopened.get(key) ?? 0, o, percentilesOf(fr.groups.get(key), frPicked), percentilesOf(res.groups.get(key), resPicked));
    })
    .sort((a, b) => a.label.localeCompare(b.label));
  const sum = (f: (g: GroupFigures) => number) => groups.reduce((acc, g) => acc + f(g), 0);
  const total = figures(
    '*', 'All', { opened: sum((g) => g.opened), frMet: sum((g) => g.frMet), frMissed: sum((g) => g.frMissed) },
    { closed: sum((g) => g.closed), met: sum((g) => g.slaMet), breached: sum((g) => g.slaBreached) },
    sum((g) => g.reopened), { open: sum((g) => g.open), overdue: sum((g) => g.overdue) },
    percentilesOf(fr.whole, frPicked), percentilesOf(res.whole, resPicked),
  );
  return { groups, total, distribution: created.distribution };
}

/** A department the SLA table lists: it closed tickets in the period, or judged a first response. */
const hasSlaFigures = (g: SlaFigures): boolean => g.closed > 0 || g.frMet + g.frMissed > 0;

/**
 * SLA met and breached, first response met and missed, per department, for a report grouped otherwise:
 * the period's closed and opened tickets counted per department in one statement (no histograms).
 */
async function slaPerDepartment(db: Knex | Knex.Transaction, scope: q.ReportScope, r: ReportPeriod, now: Date): Promise<SlaFigures[]> {
  const rows = [...(await q.slaFiguresByDepartment(db, scope, r, now))]
    .map(([key, c]) => ({
      key, label: key, closed: c.closed, slaMet: c.met, slaBreached: c.breached, compliance: compliance(c.met, c.breached),
      frMet: c.frMet, frMissed: c.frMissed, frCompliance: compliance(c.frMet, c.frMissed),
    }))
    .filter(hasSlaFigures);
  const labels = await q.groupLabels(db, 'department', rows.map((row) => row.key));
  return rows.map((row) => ({ ...row, label: labels.get(row.key) ?? row.key })).sort((a, b) => a.label.localeCompare(b.label));
}

function figures(key: string, label: string, o: q.OpenedCounts, c: q.ClosedCounts, reopened: number, current: { open: number; overdue: number }, fr: Percentiles, res: Percentiles): GroupFigures {
  return {
    key, label, opened: o.opened, closed: c.closed, reopened, open: current.open, overdue: current.overdue,
    slaMet: c.met, slaBreached: c.breached, compliance: compliance(c.met, c.breached),
    frMet: o.frMet, frMissed: o.frMissed, frCompliance: compliance(o.frMet, o.frMissed),
    firstResponse: fr, resolution: res,
  };
}

/** Opened/closed per local day, and opened per local hour and weekday (busiest times). */
async function localSeries(db: Knex | Knex.Transaction, scope: q.ReportScope, r: ReportPeriod): Promise<Pick<Report, 'daily' | 'hours' | 'weekdays'>> {
  const [created, closed] = await Promise.all([
    q.hourlyCounts(db, scope, r, 'created_at', r.hourShiftMinutes),
    q.hourlyCounts(db, scope, r, 'closed_at', r.hourShiftMinutes),
  ]);
  const daily = new Map(r.days.map((day) => [day, { day, opened: 0, closed: 0 }]));
  const hours = new Array<number>(24).fill(0);
  const weekdays = new Array<number>(7).fill(0);
  for (const b of created) {
    const local = localHourOf(b.hour, r);
    const d = daily.get(local.day);
    if (d) d.opened += b.n;
    hours[local.hour] += b.n;
    weekdays[local.weekday - 1] += b.n;
  }
  for (const b of closed) {
    const d = daily.get(localHourOf(b.hour, r).day);
    if (d) d.closed += b.n;
  }
  return { daily: [...daily.values()], hours, weekdays };
}

/** Departments the actor may filter by: all for admins, their own for agents. */
async function departmentChoices(db: Knex | Knex.Transaction, actor: Actor): Promise<{ id: number; name: string }[]> {
  const qb = db('departments').select('id', 'name').orderBy('name');
  if (isAgent(actor) && actor.role !== 'admin') qb.whereIn('id', actor.departmentIds);
  return (await qb).map((row: any) => ({ id: Number(row.id), name: String(row.name) }));
}
