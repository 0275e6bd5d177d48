import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildDepartment, buildSlaPlan, unique } from '../factories/index.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { computeSlaDueAt } from '../../src/domain/sla/sla-service.ts';
import { getSettings, writeSettings } from '../../src/domain/settings/settings-service.ts';

type Span = [weekday: number, start: string, end: string];
type HolidayRow = { date: string; start?: string; end?: string };

/** A schedule row with its weekly spans and holidays, as the admin screens will store it. */
async function buildSchedule(db: Knex, def: { kind: '24x7' } | { kind: 'business'; timezone: string; spans: Span[]; holidays?: HolidayRow[] }): Promise<number> {
  const now = toDbDate(new Date());
  const [id] = await db('schedules').insert({ name: unique('Schedule '), kind: def.kind, timezone: def.kind === 'business' ? def.timezone : 'UTC', is_active: true, created_at: now, updated_at: now });
  if (def.kind === 'business') {
    for (const [weekday, start_time, end_time] of def.spans) await db('schedule_entries').insert({ schedule_id: id, weekday, start_time, end_time });
    for (const h of def.holidays ?? []) await db('schedule_holidays').insert({ schedule_id: id, name: unique('Holiday '), date: h.date, start_time: h.start ?? null, end_time: h.end ?? null });
  }
  return id;
}

const weekdays = (start: string, end: string): Span[] => [1, 2, 3, 4, 5].map((d) => [d, start, end] as Span);
const iso = (d: Date | null) => d?.toISOString() ?? null;

// Friday 6 March 2026, 16:30 in London (GMT, so also 16:30 UTC).
const FRIDAY_1630 = new Date('2026-03-06T16:30:00Z');

describe('computeSlaDueAt', () => {
  let t: TestApp;
  let londonOffice: number;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    londonOffice = await buildSchedule(t.db, { kind: 'business', timezone: 'Europe/London', spans: weekdays('09:00', '17:00') });
  });
  afterAll(async () => t.close());

  it('walks a business-hours plan over the weekend (Mon–Fri 9–17 London: Friday 16:30 + 4 h → Monday 12:30)', async () => {
    const plan = await buildSlaPlan(t.db, { grace_minutes: 240, schedule_id: londonOffice });
    expect(iso(await computeSlaDueAt(t.db, plan, null, FRIDAY_1630))).toBe('2026-03-09T12:30:00.000Z');
    // In summer time the same wall-clock hours are an hour earlier in UTC.
    expect(iso(await computeSlaDueAt(t.db, plan, null, new Date('2026-06-05T15:30:00Z')))).toBe('2026-06-08T11:30:00.000Z');
  });

  it('counts a grace period with minutes', async () => {
    const plan = await buildSlaPlan(t.db, { grace_minutes: 90, schedule_id: londonOffice });
    expect(iso(await computeSlaDueAt(t.db, plan, null, FRIDAY_1630))).toBe('2026-03-09T10:00:00.000Z');
  });

  it("uses the department's schedule over the plan's", async () => {
    const roundTheClock = await buildSchedule(t.db, { kind: '24x7' });
    const plan = await buildSlaPlan(t.db, { grace_minutes: 240, schedule_id: roundTheClock });
    const officeDept = await buildDepartment(t.db, { schedule_id: londonOffice });
    const plainDept = await buildDepartment(t.db);
    expect(iso(await computeSlaDueAt(t.db, plan, officeDept, FRIDAY_1630))).toBe('2026-03-09T12:30:00.000Z');
    expect(iso(await computeSlaDueAt(t.db, plan, plainDept, FRIDAY_1630))).toBe('2026-03-06T20:30:00.000Z');
  });

  it('falls back to the help desk default schedule when neither department nor plan has one', async () => {
    const plan = await buildSlaPlan(t.db, { grace_minutes: 240, schedule_id: null });
    const dept = await buildDepartment(t.db);
    // Fresh install: the default schedule is 24/7.
    expect(iso(await computeSlaDueAt(t.db, plan, dept, FRIDAY_1630))).toBe('2026-03-06T20:30:00.000Z');
    const before = (await getSettings(t.db)).default_schedule_id;
    await writeSettings(t.db, { default_schedule_id: londonOffice }, t.clock());
    try {
      expect(iso(await computeSlaDueAt(t.db, plan, dept, FRIDAY_1630))).toBe('2026-03-09T12:30:00.000Z');
    } finally {
      await writeSettings(t.db, { default_schedule_id: before }, t.clock());
    }
  });

  it('skips whole-day holidays stored in the database', async () => {
    const schedule = await buildSchedule(t.db, { kind: 'business', timezone: 'Europe/London', spans: weekdays('09:00', '17:00'), holidays: [{ date: '2026-03-09' }] });
    const plan = await buildSlaPlan(t.db, { grace_minutes: 240, schedule_id: schedule });
    expect(iso(await computeSlaDueAt(t.db, plan, null, FRIDAY_1630))).toBe('2026-03-10T12:30:00.000Z');
  });

  it('skips only the hours of a partial-day holiday', async () => {
    const schedule = await buildSchedule(t.db, { kind: 'business', timezone: 'Europe/London', spans: weekdays('09:00', '17:00'), holidays: [{ date: '2026-03-09', start: '09:00', end: '11:00' }] });
    const plan = await buildSlaPlan(t.db, { grace_minutes: 240, schedule_id: schedule });
    expect(iso(await computeSlaDueAt(t.db, plan, null, FRIDAY_1630))).toBe('2026-03-09T14:30:00.000Z');
  });

  it('honours several spans a day and overnight spans, in the schedule time zone', async () => {
    const split = await buildSchedule(t.db, { kind: 'business', timezone: 'Europe/London', spans: [[1, '09:00', '12:00'], [1, '13:00', '17:00']] });
    const splitPlan = await buildSlaPlan(t.db, { grace_minutes: 120, schedule_id: split });
    expect(iso(await computeSlaDueAt(t.db, splitPlan, null, new Date('2026-03-09T11:00:00Z')))).toBe('2026-03-09T14:00:00.000Z');
    // New York (UTC−5 in early March): Friday 22:00–06:00 runs into Saturday.
    const night = await buildSchedule(t.db, { kind: 'business', timezone: 'America/New_York', spans: [[5, '22:00', '06:00']] });
    const nightPlan = await buildSlaPlan(t.db, { grace_minutes: 240, schedule_id: night });
    expect(iso(await computeSlaDueAt(t.db, nightPlan, null, new Date('2026-03-07T04:00:00Z')))).toBe('2026-03-07T08:00:00.000Z');
  });

  it('gives no due date without a plan, or for a schedule with no working time', async () => {
    expect(await computeSlaDueAt(t.db, null, null, FRIDAY_1630)).toBeNull();
    const empty = await buildSchedule(t.db, { kind: 'business', timezone: 'Europe/London', spans: [] });
    const plan = await buildSlaPlan(t.db, { grace_minutes: 60, schedule_id: empty });
    expect(await computeSlaDueAt(t.db, plan, null, FRIDAY_1630)).toBeNull();
  });
});
