import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  addWorkingMinutes,
  workingMinutesBetween,
  validateSchedule,
  type Schedule,
  type WeeklySpan,
  type Holiday,
} from '../../src/domain/sla/sla-schedule.ts';

const MONFRI = [1, 2, 3, 4, 5];
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

function spans(days: number[], start: string, end: string): WeeklySpan[] {
  return days.map((weekday) => ({ weekday, start, end }));
}

function business(timezone: string, s: WeeklySpan[], holidays: Holiday[] = []): Schedule {
  return { kind: 'business', timezone, spans: s, holidays };
}

/** Local wall-clock time in a zone → Date. */
function at(zone: string, local: string): Date {
  const dt = DateTime.fromISO(local, { zone });
  if (!dt.isValid) throw new Error(`bad test time ${local}`);
  return dt.toJSDate();
}

/** Date → local 'yyyy-MM-dd HH:mm' in a zone, for readable assertions. */
function local(zone: string, d: Date): string {
  return DateTime.fromJSDate(d, { zone }).toFormat('yyyy-MM-dd HH:mm');
}

const LONDON = 'Europe/London';
const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const london9to5 = business(LONDON, spans(MONFRI, '09:00', '17:00'));

describe('24x7 schedule', () => {
  const s: Schedule = { kind: '24x7' };

  it('adds plain minutes', () => {
    const start = new Date('2024-03-09T23:30:00Z');
    expect(addWorkingMinutes(s, start, 90).toISOString()).toBe('2024-03-10T01:00:00.000Z');
    expect(addWorkingMinutes(s, start, 0).toISOString()).toBe(start.toISOString());
  });

  it('counts plain minutes and clamps reversed ranges to 0', () => {
    const a = new Date('2024-01-01T00:00:00Z');
    const b = new Date('2024-01-08T00:00:00Z');
    expect(workingMinutesBetween(s, a, b)).toBe(7 * 24 * 60);
    expect(workingMinutesBetween(s, b, a)).toBe(0);
    expect(workingMinutesBetween(s, a, a)).toBe(0);
  });

  it('rejects negative or non-finite minutes and invalid dates', () => {
    expect(() => addWorkingMinutes(s, new Date(), -1)).toThrow(RangeError);
    expect(() => addWorkingMinutes(s, new Date(), Number.NaN)).toThrow(RangeError);
    expect(() => addWorkingMinutes(london9to5, new Date('nope'), 5)).toThrow(RangeError);
    expect(() => workingMinutesBetween(s, new Date('nope'), new Date())).toThrow(RangeError);
  });
});

describe('09:00–17:00 Mon–Fri in Europe/London', () => {
  it('adds within a single day', () => {
    const r = addWorkingMinutes(london9to5, at(LONDON, '2024-01-10T10:00'), 120);
    expect(local(LONDON, r)).toBe('2024-01-10 12:00');
  });

  it('ticket opened Friday 16:30 with a 4-hour plan is due Monday 12:30 (winter and summer)', () => {
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-12T16:30'), 240))).toBe('2024-01-15 12:30');
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-06-07T16:30'), 240))).toBe('2024-06-10 12:30');
    expect(workingMinutesBetween(london9to5, at(LONDON, '2024-01-12T16:30'), at(LONDON, '2024-01-15T12:30'))).toBe(240);
  });

  it('ends exactly at closing time when the budget runs out there', () => {
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-12T13:00'), 240))).toBe('2024-01-12 17:00');
  });

  it('counts 40 hours in a full week', () => {
    expect(workingMinutesBetween(london9to5, at(LONDON, '2024-01-08T00:00'), at(LONDON, '2024-01-15T00:00'))).toBe(40 * 60);
  });

  it('starts the clock at the next working moment when opened outside working time', () => {
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-13T10:00'), 0))).toBe('2024-01-15 09:00'); // Saturday
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-14T23:59'), 60))).toBe('2024-01-15 10:00'); // Sunday night
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-10T07:00'), 30))).toBe('2024-01-10 09:30'); // early
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-10T17:00'), 0))).toBe('2024-01-11 09:00'); // at close
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-10T12:00'), 0))).toBe('2024-01-10 12:00'); // inside
  });

  it('handles grace periods longer than a week (60 h and 3 weeks)', () => {
    // Mon 09:00 + 60 h = 7 full days (56 h) + 4 h → Wednesday of the next week, 13:00.
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-01-08T09:00'), 60 * 60))).toBe('2024-01-17 13:00');
    // Fri 16:30 + 60 h → 0.5 h + 7 days + 3.5 h.
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-06-07T16:30'), 60 * 60))).toBe('2024-06-19 12:30');
    // Three 40-hour weeks across the March DST change.
    expect(local(LONDON, addWorkingMinutes(london9to5, at(LONDON, '2024-03-18T09:00'), 120 * 60))).toBe('2024-04-05 17:00');
  });

  it('computes a several-week grace period quickly', () => {
    const t = performance.now();
    for (let i = 0; i < 20; i++) addWorkingMinutes(london9to5, at(LONDON, '2024-01-01T00:00'), 8 * 60 * 5 * 8); // 8 weeks
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('workingMinutesBetween agrees with addWorkingMinutes, including from outside working time', () => {
    const from = at(LONDON, '2024-01-13T08:00'); // Saturday
    expect(workingMinutesBetween(london9to5, from, at(LONDON, '2024-01-15T10:15'))).toBe(75);
    expect(workingMinutesBetween(london9to5, at(LONDON, '2024-01-10T16:00'), at(LONDON, '2024-01-10T18:00'))).toBe(60);
    expect(workingMinutesBetween(london9to5, at(LONDON, '2024-01-10T18:00'), at(LONDON, '2024-01-10T16:00'))).toBe(0);
    expect(workingMinutesBetween(london9to5, at(LONDON, '2024-01-10T10:00:30'), at(LONDON, '2024-01-10T10:01'))).toBe(0.5);
  });
});

describe('split day 09:00–12:00 + 13:00–17:00', () => {
  const split = business(LONDON, [...spans(MONFRI, '09:00', '12:00'), ...spans(MONFRI, '13:00', '17:00')]);

  it('skips the lunch break', () => {
    expect(local(LONDON, addWorkingMinutes(split, at(LONDON, '2024-01-10T11:00'), 120))).toBe('2024-01-10 14:00');
    expect(local(LONDON, addWorkingMinutes(split, at(LONDON, '2024-01-10T12:30'), 30))).toBe('2024-01-10 13:30');
    expect(local(LONDON, addWorkingMinutes(split, at(LONDON, '2024-01-10T11:00'), 60))).toBe('2024-01-10 12:00');
    expect(local(LONDON, addWorkingMinutes(split, at(LONDON, '2024-01-10T16:00'), 4 * 60))).toBe('2024-01-11 12:00');
  });

  it('counts 7 hours a day', () => {
    expect(workingMinutesBetween(split, at(LONDON, '2024-01-10T00:00'), at(LONDON, '2024-01-11T00:00'))).toBe(7 * 60);
    expect(workingMinutesBetween(split, at(LONDON, '2024-01-10T11:30'), at(LONDON, '2024-01-10T13:30'))).toBe(60);
  });
});

describe('overnight span 22:00–06:00 (starting Mon–Fri evenings)', () => {
  const night = business('UTC', spans(MONFRI, '22:00', '06:00'));

  it('runs past midnight, including Friday night into Saturday', () => {
    expect(addWorkingMinutes(night, new Date('2024-01-09T03:00:00Z'), 60).toISOString()).toBe('2024-01-09T04:00:00.000Z');
    expect(addWorkingMinutes(night, new Date('2024-01-08T12:00:00Z'), 0).toISOString()).toBe('2024-01-08T22:00:00.000Z');
    // Saturday 05:00 is still inside Friday's shift: 1 h left, then Monday 22:00 + 1 h.
    expect(addWorkingMinutes(night, new Date('2024-01-13T05:00:00Z'), 120).toISOString()).toBe('2024-01-15T23:00:00.000Z');
  });

  it('counts the hours on each side of midnight', () => {
    // Monday: only the Monday-evening part (Sunday has no span).
    expect(workingMinutesBetween(night, new Date('2024-01-08T00:00:00Z'), new Date('2024-01-09T00:00:00Z'))).toBe(120);
    // Saturday: only the morning tail of Friday's shift.
    expect(workingMinutesBetween(night, new Date('2024-01-13T00:00:00Z'), new Date('2024-01-14T00:00:00Z'))).toBe(360);
    expect(workingMinutesBetween(night, new Date('2024-01-08T00:00:00Z'), new Date('2024-01-15T00:00:00Z'))).toBe(5 * 8 * 60);
  });

  it('keeps the hours after midnight before a holiday unless the holiday covers them', () => {
    const from = new Date('2024-01-08T00:00:00Z');
    const to = new Date('2024-01-10T00:00:00Z'); // Mon shift + Tue shift start
    const base = workingMinutesBetween(night, from, to);
    expect(base).toBe(8 * 60 + 2 * 60);
    // Holiday on Monday: Monday 22:00–24:00 is removed, Tuesday 00:00–06:00 stays.
    const monHoliday = business('UTC', spans(MONFRI, '22:00', '06:00'), [{ date: '2024-01-08', name: 'Mon' }]);
    expect(workingMinutesBetween(monHoliday, from, to)).toBe(6 * 60 + 2 * 60);
    // Whole-day holiday on Tuesday covers Tuesday 00:00–06:00 and Tuesday evening.
    const tueHoliday = business('UTC', spans(MONFRI, '22:00', '06:00'), [{ date: '2024-01-09' }]);
    expect(workingMinutesBetween(tueHoliday, from, to)).toBe(2 * 60);
    // Partial holiday on Tuesday afternoon does not touch the night.
    const tuePm = business('UTC', spans(MONFRI, '22:00', '06:00'), [{ date: '2024-01-09', start: '12:00', end: '17:00' }]);
    expect(workingMinutesBetween(tuePm, from, to)).toBe(base);
    // Partial holiday Tuesday 00:00–03:00 removes only those hours.
    const tueEarly = business('UTC', spans(MONFRI, '22:00', '06:00'), [{ date: '2024-01-09', start: null, end: '03:00' }]);
    expect(workingMinutesBetween(tueEarly, from, to)).toBe(base - 180);
  });
});

describe('holidays', () => {
  const withHoliday = (h: Holiday[]) => business(LONDON, spans(MONFRI, '09:00', '17:00'), h);

  it('whole-day holiday skips the day', () => {
    const s = withHoliday([{ date: '2024-01-15', name: 'Company day' }]);
    expect(local(LONDON, addWorkingMinutes(s, at(LONDON, '2024-01-12T16:30'), 240))).toBe('2024-01-16 12:30');
    expect(workingMinutesBetween(s, at(LONDON, '2024-01-15T00:00'), at(LONDON, '2024-01-16T00:00'))).toBe(0);
  });

  it('partial holiday removes only its part of the day', () => {
    const s = withHoliday([{ date: '2024-01-15', start: '12:00', end: '17:00' }]);
    // 0.5 h Friday + 3 h Monday morning + 0.5 h Tuesday.
    expect(local(LONDON, addWorkingMinutes(s, at(LONDON, '2024-01-12T16:30'), 240))).toBe('2024-01-16 09:30');
    expect(workingMinutesBetween(s, at(LONDON, '2024-01-15T00:00'), at(LONDON, '2024-01-16T00:00'))).toBe(180);
    const morningOff = withHoliday([{ date: '2024-01-15', start: '08:00', end: '10:30' }]);
    expect(local(LONDON, addWorkingMinutes(morningOff, at(LONDON, '2024-01-15T08:00'), 0))).toBe('2024-01-15 10:30');
  });

  it('throws RangeError when there is no working time at all', () => {
    expect(() => addWorkingMinutes(business(LONDON, []), new Date(), 10)).toThrow(RangeError);
    expect(workingMinutesBetween(business(LONDON, []), at(LONDON, '2024-01-01T00:00'), at(LONDON, '2024-02-01T00:00'))).toBe(0);
    // Mondays only, and every Monday for 3.5 years is a holiday.
    const mondays: Holiday[] = [];
    for (let d = DateTime.fromISO('2024-01-01', { zone: LONDON }); d.year < 2028; d = d.plus({ weeks: 1 })) {
      mondays.push({ date: d.toISODate()! });
    }
    const allOff = business(LONDON, spans([1], '09:00', '17:00'), mondays);
    expect(() => addWorkingMinutes(allOff, at(LONDON, '2024-01-01T00:00'), 10)).toThrow(RangeError);
    // …but once the holidays end within the horizon, the next Monday is found.
    expect(local(LONDON, addWorkingMinutes(allOff, at(LONDON, '2025-06-01T00:00'), 10))).toBe('2028-01-03 09:10');
  });
});

describe('daylight saving time', () => {
  const day = (zone: string, date: string, s: Schedule) =>
    workingMinutesBetween(s, at(zone, `${date}T00:00`), DateTime.fromISO(date, { zone }).plus({ days: 1 }).toJSDate());

  for (const [zone, spring, fall, gapHour, repeatedHour] of [
    [NY, '2024-03-10', '2024-11-03', '02', '01'],
    [BERLIN, '2024-03-31', '2024-10-27', '02', '02'],
  ] as const) {
    describe(zone, () => {
      const nineToFive = business(zone, spans(EVERY_DAY, '09:00', '17:00'));
      const early = business(zone, spans(EVERY_DAY, '00:00', '06:00'));
      const night = business(zone, spans(EVERY_DAY, '22:00', '06:00'));
      const gap = business(zone, spans(EVERY_DAY, `${gapHour}:00`, `0${Number(gapHour) + 1}:00`));
      const repeated = business(zone, spans(EVERY_DAY, `${repeatedHour}:00`, `0${Number(repeatedHour) + 1}:00`));

      it('a 09:00–17:00 day is 8 hours on both change days', () => {
        expect(day(zone, spring, nineToFive)).toBe(480);
        expect(day(zone, fall, nineToFive)).toBe(480);
        expect(day(zone, '2024-07-01', nineToFive)).toBe(480);
      });

      it('spring forward: a span covering the missing hour is one hour shorter', () => {
        expect(day(zone, spring, early)).toBe(300);
        expect(day(zone, spring, gap)).toBe(0);
        const prev = DateTime.fromISO(spring, { zone }).minus({ days: 1 }).toISODate()!;
        expect(workingMinutesBetween(night, at(zone, `${prev}T22:00`), at(zone, `${spring}T06:00`))).toBe(7 * 60);
        // Saturday 22:00 + 8 h on the overnight span: 7 h that night, then 1 h from Sunday 22:00.
        expect(local(zone, addWorkingMinutes(night, at(zone, `${prev}T22:00`), 8 * 60))).toBe(`${spring} 23:00`);
      });

      it('fall back: the repeated hour counts twice', () => {
        expect(day(zone, fall, early)).toBe(420);
        expect(day(zone, fall, repeated)).toBe(120);
        const prev = DateTime.fromISO(fall, { zone }).minus({ days: 1 }).toISODate()!;
        expect(workingMinutesBetween(night, at(zone, `${prev}T22:00`), at(zone, `${fall}T06:00`))).toBe(9 * 60);
        expect(local(zone, addWorkingMinutes(night, at(zone, `${prev}T22:00`), 8 * 60))).toBe(`${fall} 05:00`);
      });
    });
  }

  it('spring forward in New York: a span starting inside the gap starts when the gap ends', () => {
    const s = business(NY, spans([7], '02:30', '04:00'));
    expect(workingMinutesBetween(s, at(NY, '2024-03-10T00:00'), at(NY, '2024-03-11T00:00'))).toBe(60);
    expect(addWorkingMinutes(s, at(NY, '2024-03-10T00:00'), 0).toISOString()).toBe('2024-03-10T07:00:00.000Z'); // 03:00 EDT
  });

  it('fall back in New York: both occurrences of 01:00–02:00 are working time', () => {
    const s = business(NY, spans([7], '01:00', '02:00'));
    // 01:30 EDT (05:30Z) → 02:00 EST (07:00Z) = 90 min, within the one wall-clock hour.
    expect(workingMinutesBetween(s, new Date('2024-11-03T05:30:00Z'), new Date('2024-11-03T12:00:00Z'))).toBe(90);
    expect(addWorkingMinutes(s, at(NY, '2024-11-03T00:00'), 90).toISOString()).toBe('2024-11-03T06:30:00.000Z'); // 01:30 EST
    const half = business(NY, spans([7], '01:30', '02:00'));
    expect(workingMinutesBetween(half, at(NY, '2024-11-03T00:00'), at(NY, '2024-11-04T00:00'))).toBe(60);
    // A holiday covering the repeated hour removes both occurrences.
    const off = business(NY, spans([7], '00:00', '06:00'), [{ date: '2024-11-03', start: '01:00', end: '02:00' }]);
    expect(workingMinutesBetween(off, at(NY, '2024-11-03T00:00'), at(NY, '2024-11-04T00:00'))).toBe(300);
  });

  it('Mon–Fri 09:00–17:00 across the weekend of a change', () => {
    const s = business(NY, spans(MONFRI, '09:00', '17:00'));
    expect(addWorkingMinutes(s, at(NY, '2024-03-08T16:00'), 120).toISOString()).toBe('2024-03-11T14:00:00.000Z');
    expect(addWorkingMinutes(s, at(NY, '2024-11-01T16:00'), 120).toISOString()).toBe('2024-11-04T15:00:00.000Z');
    const b = business(BERLIN, spans(MONFRI, '09:00', '17:00'));
    expect(local(BERLIN, addWorkingMinutes(b, at(BERLIN, '2024-03-29T16:30'), 240))).toBe('2024-04-01 12:30');
    expect(workingMinutesBetween(b, at(BERLIN, '2024-10-21T00:00'), at(BERLIN, '2024-11-04T00:00'))).toBe(80 * 60);
  });
});

describe('validateSchedule', () => {
  it('accepts valid schedules', () => {
    expect(validateSchedule({ kind: '24x7' })).toEqual([]);
    expect(validateSchedule(london9to5)).toEqual([]);
    expect(
      validateSchedule(
        business(BERLIN, [...spans(MONFRI, '22:00', '06:00'), { weekday: 6, start: '08:00', end: '24:00' }, { weekday: 7, start: '00:00', end: '24:00' }], [
          { date: '2024-12-25', name: 'Christmas' },
          { date: '2024-12-24', start: '12:00', end: '24:00' },
        ]),
      ),
    ).toEqual([]);
    // Adjacent spans touch but do not overlap.
    expect(validateSchedule(business(LONDON, [...spans([1], '09:00', '12:00'), ...spans([1], '12:00', '17:00')]))).toEqual([]);
  });

  it('reports an unknown time zone', () => {
    const p = validateSchedule(business('Mars/Olympus_Mons', spans(MONFRI, '09:00', '17:00')));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/time zone/);
    expect(() => addWorkingMinutes(business('Mars/Olympus_Mons', spans(MONFRI, '09:00', '17:00')), new Date(), 1)).toThrow(RangeError);
  });

  it('reports bad HH:MM times', () => {
    for (const [start, end] of [['9:00', '17:00'], ['25:00', '26:00'], ['09:60', '17:00'], ['24:00', '06:00'], ['09:00', 'noon']]) {
      const p = validateSchedule(business(LONDON, [{ weekday: 1, start, end }]));
      expect(p.length, `${start}–${end}`).toBeGreaterThan(0);
      expect(p.join('\n')).toMatch(/HH:MM/);
    }
  });

  it('reports weekdays out of range', () => {
    for (const weekday of [0, 8, 1.5, -1]) {
      const p = validateSchedule(business(LONDON, [{ weekday, start: '09:00', end: '17:00' }]));
      expect(p).toHaveLength(1);
      expect(p[0]).toMatch(/weekday/);
    }
  });

  it('reports zero-length spans', () => {
    const p = validateSchedule(business(LONDON, [{ weekday: 2, start: '09:00', end: '09:00' }]));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/zero-length/);
  });

  it('reports overlapping spans on the same weekday, including overnight spill-over', () => {
    const same = validateSchedule(business(LONDON, [{ weekday: 1, start: '09:00', end: '17:00' }, { weekday: 1, start: '16:00', end: '18:00' }]));
    expect(same).toHaveLength(1);
    expect(same[0]).toMatch(/overlap/);
    const spill = validateSchedule(business(LONDON, [{ weekday: 1, start: '22:00', end: '06:00' }, { weekday: 2, start: '05:00', end: '09:00' }]));
    expect(spill).toHaveLength(1);
    const wrap = validateSchedule(business(LONDON, [{ weekday: 7, start: '20:00', end: '02:00' }, { weekday: 1, start: '01:00', end: '09:00' }]));
    expect(wrap).toHaveLength(1);
    const duplicate = validateSchedule(business(LONDON, [...spans([3], '09:00', '17:00'), ...spans([3], '09:00', '17:00')]));
    expect(duplicate).toHaveLength(1);
    const different = validateSchedule(business(LONDON, [{ weekday: 1, start: '09:00', end: '17:00' }, { weekday: 2, start: '09:00', end: '17:00' }]));
    expect(different).toEqual([]);
  });

  it('reports malformed holidays', () => {
    const p = validateSchedule(
      business(LONDON, spans(MONFRI, '09:00', '17:00'), [
        { date: '2024-02-30' },
        { date: '24-12-25' },
        { date: '2024-12-24', start: '1pm', end: '17:00' },
        { date: '2024-12-31', start: '12:00', end: '12:00' },
      ]),
    );
    expect(p).toHaveLength(4);
  });

  it('an overlapping schedule is still computed without double counting', () => {
    const s = business(LONDON, [{ weekday: 1, start: '09:00', end: '17:00' }, { weekday: 1, start: '16:00', end: '18:00' }]);
    expect(workingMinutesBetween(s, at(LONDON, '2024-01-08T00:00'), at(LONDON, '2024-01-09T00:00'))).toBe(9 * 60);
  });
});

describe('properties', () => {
  const schedules: Array<[string, Schedule]> = [
    ['London 9–17 Mon–Fri', london9to5],
    ['London split day', business(LONDON, [...spans(MONFRI, '09:00', '12:00'), ...spans(MONFRI, '13:00', '17:00')])],
    ['New York overnight', business(NY, spans(EVERY_DAY, '22:00', '06:00'), [{ date: '2025-12-25' }, { date: '2026-03-08', start: '01:00', end: '03:30' }])],
    ['Berlin early + holidays', business(BERLIN, [...spans(MONFRI, '00:30', '04:00'), ...spans([6], '08:00', '24:00')], [
      { date: '2025-10-26', start: '02:00', end: '02:30' },
      { date: '2026-03-29' },
      { date: '2025-12-24', start: '12:00', end: null },
    ])],
    ['24x7', { kind: '24x7' }],
  ];
  const schedule = fc.constantFrom(...schedules);
  const instant = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }).map((t) => new Date(t));
  const minutes = fc.integer({ min: 0, max: 6000 });

  it('workingMinutesBetween(s, start, addWorkingMinutes(s, start, m)) === m', () => {
    fc.assert(
      fc.property(schedule, instant, minutes, ([, s], start, m) => {
        expect(workingMinutesBetween(s, start, addWorkingMinutes(s, start, m))).toBe(m);
      }),
      { numRuns: 300 },
    );
  });

  it('addWorkingMinutes is monotonic in minutes and never earlier than start', () => {
    fc.assert(
      fc.property(schedule, instant, minutes, minutes, ([, s], start, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const x = addWorkingMinutes(s, start, lo).getTime();
        const y = addWorkingMinutes(s, start, hi).getTime();
        expect(x).toBeGreaterThanOrEqual(start.getTime());
        expect(y).toBeGreaterThanOrEqual(x);
        if (hi > lo) expect(y).toBeGreaterThan(x);
      }),
      { numRuns: 300 },
    );
  });

  it('adding in two steps equals adding at once (second step ≥ 1 minute)', () => {
    fc.assert(
      fc.property(schedule, instant, minutes, fc.integer({ min: 1, max: 3000 }), ([, s], start, a, b) => {
        const once = addWorkingMinutes(s, start, a + b);
        const twice = addWorkingMinutes(s, addWorkingMinutes(s, start, a), b);
        expect(twice.toISOString()).toBe(once.toISOString());
      }),
      { numRuns: 200 },
    );
  });

  it('working minutes never exceed elapsed minutes and are additive over a split point', () => {
    fc.assert(
      fc.property(schedule, instant, instant, instant, ([, s], p, q, r) => {
        const [a, b, c] = [p, q, r].sort((x, y) => x.getTime() - y.getTime());
        const ac = workingMinutesBetween(s, a, c);
        expect(ac).toBeLessThanOrEqual((c.getTime() - a.getTime()) / 60000);
        expect(workingMinutesBetween(s, a, b) + workingMinutesBetween(s, b, c)).toBeCloseTo(ac, 6);
      }),
      { numRuns: 100 },
    );
  });
});

describe('brute-force oracle (minute by minute, luxon wall clock)', () => {
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const range = (start: string, end: string): [number, number] => {
    const [s, e] = [toMin(start), toMin(end)];
    return [s, e <= s ? e + 1440 : e];
  };
  /** Counts working minutes by asking luxon for the wall clock of every minute in [from, to). */
  function oracle(s: Extract<Schedule, { kind: 'business' }>, from: number, to: number): number {
    let n = 0;
    for (let t = from; t < to; t += 60_000) {
      const dt = DateTime.fromMillis(t, { zone: s.timezone });
      const m = dt.hour * 60 + dt.minute;
      const prev = dt.minus({ days: 1 });
      const hit = (r: [number, number], shift: number) => r[0] <= m + shift && m + shift < r[1];
      const inSpan = (d: DateTime, shift: number) =>
        s.spans.some((sp) => sp.weekday === d.weekday && sp.start !== sp.end && hit(range(sp.start, sp.end), shift));
      const off = (d: DateTime, shift: number) =>
        s.holidays.some((h) => h.date === d.toISODate() && hit(range(h.start ?? '00:00', h.end ?? '24:00'), shift));
      if ((inSpan(dt, 0) || inSpan(prev, 1440)) && !off(dt, 0) && !off(prev, 1440)) n++;
    }
    return n;
  }

  const hhmm = fc.integer({ min: 0, max: 47 }).map((h) => `${String(Math.floor(h / 2)).padStart(2, '0')}:${h % 2 ? '30' : '00'}`);
  const span = fc.record({ weekday: fc.integer({ min: 1, max: 7 }), start: hhmm, end: fc.oneof(hhmm, fc.constant('24:00')) });
  const transitions: Array<[string, string]> = [
    ['America/New_York', '2025-03-09'], ['America/New_York', '2025-11-02'],
    ['Europe/Berlin', '2025-03-30'], ['Europe/Berlin', '2025-10-26'],
    ['Australia/Lord_Howe', '2025-04-06'], ['Australia/Lord_Howe', '2025-10-05'], // 30-minute shifts
  ];

  it('workingMinutesBetween matches a per-minute count around DST changes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...transitions),
        fc.array(span, { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ offset: fc.integer({ min: -1, max: 1 }), start: fc.option(hhmm), end: fc.option(hhmm) }), { maxLength: 2 }),
        fc.integer({ min: -36 * 60, max: 12 * 60 }),
        fc.integer({ min: 0, max: 36 * 60 }),
        ([zone, date], sp, hol, startMin, lengthMin) => {
          const base = DateTime.fromISO(date, { zone });
          const holidays = hol
            // A zero-length holiday (a missing start is 00:00, a missing end 24:00) is refused by
            // validateSchedule and never stored: start null + end 00:00 is one (found by seed -369767559).
            .filter((h) => (h.start ?? '00:00') !== (h.end ?? '24:00'))
            .map((h) => ({ date: base.plus({ days: h.offset }).toISODate()!, start: h.start, end: h.end }));
          const s = { kind: 'business' as const, timezone: zone, spans: sp, holidays };
          const from = base.toMillis() + startMin * 60_000;
          const to = from + lengthMin * 60_000;
          expect(workingMinutesBetween(s, new Date(from), new Date(to))).toBe(oracle(s, from, to));
        },
      ),
      { numRuns: 60 },
    );
  });
});
