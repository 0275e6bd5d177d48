/**
 * SLA due dates from the database: which plan and schedule apply to a ticket, and when it is due.
 * The schedule that applies: the department's own, else the plan's, else the help desk default (24/7 if none).
 */
import type { Knex } from 'knex';
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

/**
 * When a ticket on plan `slaPlanId` in `departmentId`, started (opened or reopened) at `startedAt`, is due.
 * Null when there is no plan.
 */
export async function computeSlaDueAt(db: Db, slaPlanId: number | null, departmentId: number | null, startedAt: Date): Promise<Date | null> {
  if (!slaPlanId) return null;
  // One statement: the plan's grace time and the schedule that applies (the department's, else the
  // plan's, else the default), as scheduleFor chooses it.
  const { default_schedule_id } = await getSettings(db);
  const deptSchedule = db('departments').where({ id: departmentId ?? 0 }).select('schedule_id');
  const plan = await db('sla_plans as p')
    .leftJoin('schedules as s', 's.id', db.raw('coalesce((?), ??, ?)', [deptSchedule, 'p.schedule_id', default_schedule_id ?? null]))
    .where('p.id', slaPlanId)
    .first('p.grace_minutes', 's.id', 's.kind', 's.timezone');
  if (!plan) return null;
  const schedule = await scheduleFromRow(db, plan.id ? plan : null);
  try {
    return addWorkingMinutes(schedule, startedAt, Number(plan.grace_minutes));
  } catch {
    // A schedule with no working time at all: the ticket has no SLA due date rather than a crash.
    return null;
  }
}
