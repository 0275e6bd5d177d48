/**
 * Turns a Report into what the page and the CSV show. Each table is built once here, so the CSV
 * export of a table is, cell for cell, the table on the page (an empty cell, null, is "—" on the page).
 */
import { groupedBarChart, horizontalBarChart } from './report-charts.ts';
import type { GroupFigures, Report, ReportChoice, SlaFigures } from './report-service.ts';
import type { GroupName } from './report-queries.ts';
import type { Percentiles } from './report-stats.ts';

export const TABLES = ['summary', 'daily', 'sla', 'response', 'hours', 'weekdays'] as const;
export type TableId = (typeof TABLES)[number];

export type Cell = string | number | null;
export interface ReportTable {
  id: TableId;
  title: string;
  columns: string[];
  rows: Cell[][];
  /** the total row, if any (exported as the last CSV row) */
  total?: Cell[];
  csvUrl: string;
}

export const GROUP_LABELS: Record<GroupName, string> = { department: 'Department', agent: 'Agent', topic: 'Help topic', source: 'Source', priority: 'Priority' };
export const PERIOD_LABELS = { today: 'Today', '7d': 'Last 7 days', '30d': 'Last 30 days', custom: 'Custom dates' } as const;
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Seconds → hours with two decimals (a unit both people and spreadsheets read). */
export const hours = (s: number | null): string | null => (s === null ? null : (s / 3600).toFixed(2));
export const percent = (p: number | null): string | null => (p === null ? null : p.toFixed(1));

/** The query string that reproduces this report (for CSV links and the form). */
export function reportQuery(c: ReportChoice, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams({ ...extra, period: c.period, group: c.group });
  if (c.period === 'custom') {
    p.set('from', c.from ?? '');
    p.set('to', c.to ?? '');
  }
  if (c.dept) p.set('dept', String(c.dept));
  return p.toString();
}

const durations = (p: Percentiles): Cell[] => [hours(p.median), hours(p.p90)];
const SLA_COLUMNS = ['SLA met', 'SLA breached', 'SLA compliance %', 'First response met', 'First response missed', 'First response compliance %'];
const slaCells = (g: SlaFigures): Cell[] => [g.slaMet, g.slaBreached, percent(g.compliance), g.frMet, g.frMissed, percent(g.frCompliance)];
const summaryRow = (g: GroupFigures): Cell[] => [
  g.label, g.opened, g.closed, g.reopened, g.open, g.overdue, ...slaCells(g),
  ...durations(g.firstResponse), ...durations(g.resolution),
];

/** Every table of the report, in page order. */
export function reportTables(r: Report): ReportTable[] {
  const csv = (id: TableId) => `/scp/reports.csv?${reportQuery(r.choice, { table: id })}`;
  return [
    {
      id: 'summary', title: `Tickets by ${GROUP_LABELS[r.choice.group].toLowerCase()}`, csvUrl: csv('summary'),
      columns: [GROUP_LABELS[r.choice.group], 'Opened', 'Closed', 'Reopened', 'Open now', 'Overdue now', ...SLA_COLUMNS,
        'First response median (h)', 'First response p90 (h)', 'Resolution median (h)', 'Resolution p90 (h)'],
      rows: r.groups.map(summaryRow), total: summaryRow(r.total),
    },
    { id: 'daily', title: 'Opened and closed per day', csvUrl: csv('daily'), columns: ['Day', 'Opened', 'Closed'], rows: r.daily.map((d) => [d.day, d.opened, d.closed]) },
    {
      id: 'sla', title: 'SLA compliance per department', csvUrl: csv('sla'), columns: ['Department', ...SLA_COLUMNS],
      rows: r.slaByDepartment.map((g) => [g.label, ...slaCells(g)]),
    },
    { id: 'response', title: 'First-response time distribution', csvUrl: csv('response'), columns: ['First response', 'Tickets'], rows: r.responseDistribution.map((b) => [b.label, b.count]) },
    { id: 'hours', title: 'Tickets opened per hour of the day', csvUrl: csv('hours'), columns: ['Hour', 'Opened'], rows: r.hours.map((n, h) => [`${String(h).padStart(2, '0')}:00`, n]) },
    { id: 'weekdays', title: 'Tickets opened per weekday', csvUrl: csv('weekdays'), columns: ['Weekday', 'Opened'], rows: r.weekdays.map((n, i) => [WEEKDAYS[i], n]) },
  ];
}

/** One table's rows for CSV: header, rows, then the total row. */
export function tableForCsv(t: ReportTable): Cell[][] {
  return [t.columns, ...t.rows, ...(t.total ? [t.total] : [])];
}

/** The page's view-model: form choices, tables and the three charts (SVG strings). */
export function presentReport(r: Report) {
  const tables = reportTables(r);
  const charts = {
    daily: groupedBarChart({
      id: 'chart-daily', title: 'Tickets opened and closed per day', desc: `From ${r.period.from} to ${r.period.to}; the numbers are in the table below.`,
      categories: r.daily.map((d) => d.day.slice(5)),
      series: [{ name: 'Opened', cls: 'bar-opened', values: r.daily.map((d) => d.opened) }, { name: 'Closed', cls: 'bar-closed', values: r.daily.map((d) => d.closed) }],
    }),
    sla: horizontalBarChart({
      id: 'chart-sla', title: 'SLA compliance per department', desc: 'Percentage of tickets closed within their due date.', cls: 'bar-sla', max: 100,
      items: r.slaByDepartment.filter((g) => g.compliance !== null).map((g) => ({ label: g.label, value: g.compliance!, display: `${percent(g.compliance)} %` })),
    }),
    response: horizontalBarChart({
      id: 'chart-response', title: 'First-response time distribution', desc: 'Tickets opened in the period, by time to the first agent response.', cls: 'bar-response',
      items: r.responseDistribution.map((b) => ({ label: b.label, value: b.count })),
    }),
  };
  return {
    report: r,
    tables: Object.fromEntries(tables.map((t) => [t.id, t])) as Record<TableId, ReportTable>,
    charts,
    hasSla: r.slaByDepartment.some((g) => g.compliance !== null),
    hasResponses: r.responseDistribution.some((b) => b.count > 0),
    hasTickets: r.total.opened + r.total.closed + r.total.open > 0,
    choices: reportFormChoices(r.departments),
    values: { period: r.choice.period, from: r.period.from, to: r.period.to, group: r.choice.group, dept: r.choice.dept ? String(r.choice.dept) : '' },
  };
}

/** Options of the report form's selects. */
export function reportFormChoices(departments: { id: number; name: string }[] = []) {
  return {
    periods: Object.entries(PERIOD_LABELS).map(([value, label]) => ({ value, label })),
    groups: Object.entries(GROUP_LABELS).map(([value, label]) => ({ value, label })),
    departments: [{ value: '', label: 'All departments' }, ...departments.map((d) => ({ value: String(d.id), label: d.name }))],
  };
}

/** The page model when the form's input was refused (422): the form with errors, no figures. */
export function presentReportErrors(fields: Record<string, string>, values: Record<string, unknown>) {
  return { report: null, choices: reportFormChoices(), errors: fields, values };
}
