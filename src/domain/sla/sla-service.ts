/**
 * SLA due dates from the database: which plan and schedule apply to a ticket, and when it is due.
 * The schedule that applies: the department's own, else the plan's, else the help desk default (24/7 if none).
 */
import type { Knex } from 'knex';
import { fromOneRow } from '../../db/dialect.ts';
import { addWorkingMinutes, type Schedule } from './sla-schedule.ts';
import { getSettings } from '../settings/settings-service.ts';

type Db = Knex | Knex.Transaction;

/** Loads a schedule definition by id (null → 24/7). */
export async function loadSchedule(db: Db, scheduleId: number | null | undefined): Promise<Schedule> {
  if (!scheduleId) return { kind: '24x7' };
  return scheduleFromRow(db, await db('schedules').where({ id: scheduleId }).first());
}

/** A schedule definition from its `schedules` row (none → 24/7); a business schedule reads its hours and holidays. */
async function scheduleFromRow(db: Db, row: any): Promise<Schedule> {
  if (!row || row.kind === '24x7') return { kind: '24x7' };
  const scheduleId = row.id as number;
  const [entries, holidays] = await Promise.all([
    db('schedule_entries').where({ schedule_id: scheduleId }).orderBy(['weekday', 'start_time']),
    db('schedule_holidays').where({ schedule_id: scheduleId }).orderBy('date'),
  ]);
  return {
    kind: 'business',
    timezone: row.timezone,
    spans: entries.map((e: any) => ({ weekday: Number(e.weekday), start: e.start_time, end: e.end_time })),
    holidays: holidays.map((h: any) => ({ date: h.date, start: h.start_time, end: h.end_time, name: h.name })),
  };
}

/** The schedule that applies to a ticket of `departmentId` on plan `slaPlanId`. */
export async function scheduleFor(db: Db, slaPlanId: number | null, departmentId: number | null): Promise<Schedule> {
  const [dept, plan, settings] = await Promise.all([
    departmentId ? db('departments').where({ id: departmentId }).first('schedule_id') : undefined,
    slaPlanId ? db('sla_plans').where({ id: slaPlanId }).first('schedule_id') : undefined,
    getSettings(db),
  ]);
  return loadSchedule(db, dept?.schedule_id ?? plan?.schedule_id ?? settings.default_schedule_id);
}

/** The columns `joinSlaPlan` adds: whether the plan exists, its grace time, and the kind and zone of the schedule that applies. */
export const SLA_PLAN_COLUMNS = [
  'p.id as sla_plan_found', 'p.grace_minutes as sla_grace_minutes', 'p.first_response_minutes as sla_first_response_minutes', 'p.next_response_minutes as sla_next_response_minutes',
  's.id as sla_schedule_id', 's.kind as sla_schedule_kind', 's.timezone as sla_schedule_timezone',
];

/**
 * A ticket's SLA due dates: resolution (`dueAt`, the plan's grace period), the first agent response
 * and the next one (the plan's targets, if it has them; the next only while a message awaits a reply).
 */
export interface SlaDueDates {
  dueAt: Date | null;
  firstResponseDueAt: Date | null;
  nextResponseDueAt: Date | null;
}

/** When the due dates are counted from: `awaitingSince`, the requester's oldest message still unanswered after the first response. */
export interface SlaDueOptions {
  pausedMinutes?: number;
  openedAt?: Date;
  awaitingSince?: Date | null;
}

const NO_DUE_DATES: SlaDueDates = { dueAt: null, firstResponseDueAt: null, nextResponseDueAt: null };

/** A plan's optional minutes column as read (null: no such target). */
export const minutesOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Joins SLA plan `planId` (as `p`) and the schedule that applies (as `s`: the department's
 * `departmentScheduleId`, else the plan's, else the help desk default, as scheduleFor chooses it) to
 * `q`, so that a due date costs no statement of its own. Select SLA_PLAN_COLUMNS, pass the row to dueAtFromPlan.
 */
export function joinSlaPlan(db: Db, q: Knex.QueryBuilder, planId: number | Knex.Raw, departmentScheduleId: Knex.Ref<string, any> | Knex.QueryBuilder, defaultScheduleId: number | null): Knex.QueryBuilder {
  return q
    .leftJoin('sla_plans as p', 'p.id', typeof planId === 'number' ? db.raw('?', [planId]) : planId)
    .leftJoin('schedules as s', 's.id', db.raw('coalesce((?), ??, ?)', [departmentScheduleId, 'p.schedule_id', defaultScheduleId ?? null]));
}

/**
 * The due dates from a row read with SLA_PLAN_COLUMNS: the plan's grace period, plus `pausedMinutes`
 * waited on the requester, of working time after `startedAt`; the first-response target in working time
 * after `openedAt` (default `startedAt`); the next-response target after `awaitingSince` (none without it).
 * Null when there is no plan (or target), or the schedule has no working time at all (rather than a crash).
 */
export async function dueDatesFromPlan(db: Db, row: Record<string, any> | undefined, startedAt: Date, opts: SlaDueOptions = {}): Promise<SlaDueDates> {
  if (!row?.sla_plan_found) return NO_DUE_DATES;
  const scheduleRow = row.sla_schedule_id ? { id: row.sla_schedule_id, kind: row.sla_schedule_kind, timezone: row.sla_schedule_timezone } : null;
  const schedule = await scheduleFromRow(db, scheduleRow);
  const walk = (from: Date, minutes: number) => {
    try {
      return addWorkingMinutes(schedule, from, minutes);
    } catch {
      return null;
    }
  };
  const firstResponse = minutesOrNull(row.sla_first_response_minutes);
  const nextResponse = minutesOrNull(row.sla_next_response_minutes);
  return {
    dueAt: walk(startedAt, Number(row.sla_grace_minutes) + (opts.pausedMinutes ?? 0)),
    firstResponseDueAt: firstResponse === null ? null : walk(opts.openedAt ?? startedAt, firstResponse),
    nextResponseDueAt: nextResponse === null || !opts.awaitingSince ? null : walk(opts.awaitingSince, nextResponse),
  };
}

/** The resolution due date alone (dueDatesFromPlan). */
export async function dueAtFromPlan(db: Db, row: Record<string, any> | undefined, startedAt: Date, pausedMinutes = 0): Promise<Date | null> {
  return (await dueDatesFromPlan(db, row, startedAt, { pausedMinutes })).dueAt;
}

/**
 * When a ticket on plan `slaPlanId` in `departmentId`, started (opened or reopened) at `startedAt` and
 * opened at `openedAt`, is due (dueDatesFromPlan). Null dates when there is no plan. One statement
 * (plus the hours and holidays of a business schedule).
 */
export async function computeSlaDueDates(db: Db, slaPlanId: number | null, departmentId: number | null, startedAt: Date, opts: SlaDueOptions = {}): Promise<SlaDueDates> {
  if (!slaPlanId) return NO_DUE_DATES;
  const { default_schedule_id } = await getSettings(db);
  const deptSchedule = db('departments').where({ id: departmentId ?? 0 }).select('schedule_id');
  const row = await joinSlaPlan(db, fromOneRow(db), slaPlanId, deptSchedule, default_schedule_id).first(SLA_PLAN_COLUMNS);
  return dueDatesFromPlan(db, row, startedAt, opts);
}

/**
 * When a ticket on plan `slaPlanId` in `departmentId`, started (opened or reopened) at `startedAt`, is due:
 * the plan's grace period, plus `pausedMinutes` of working time it spent waiting on the requester
 * (sla-pause.ts), of working time after `startedAt`. Null when there is no plan.
 */
export async function computeSlaDueAt(db: Db, slaPlanId: number | null, departmentId: number | null, startedAt: Date, pausedMinutes = 0): Promise<Date | null> {
  return (await computeSlaDueDates(db, slaPlanId, departmentId, startedAt, { pausedMinutes })).dueAt;
}
