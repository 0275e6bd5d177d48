/**
 * Report periods in the help desk's time zone (pure; luxon only).
 *
 * A "day" is the help desk's calendar day (settings.timezone). The period's bounds are the local
 * midnights converted to UTC with the offset valid at that instant, so a period that crosses a DST
 * change is still exactly its local days. Inside the period, rows are counted per UTC hour in SQL
 * and every hour is mapped to its local day/hour/weekday here, with the offset of that very hour —
 * never one offset for the whole period. Zones whose offset is not a whole number of hours (India,
 * Nepal) work because the SQL hour is shifted by the offset's minutes (`hourShiftMinutes`).
 */
import { DateTime } from 'luxon';

export const PERIODS = ['today', '7d', '30d', 'custom'] as const;
export type PeriodName = (typeof PERIODS)[number];

/** Longest custom period, in days (keeps the hourly buckets bounded: at most 24 × 366 rows). */
export const MAX_PERIOD_DAYS = 366;

export interface ReportPeriod {
  name: PeriodName;
  timezone: string;
  /** First and last local day, 'YYYY-MM-DD', inclusive. */
  from: string;
  to: string;
  /** UTC instants: [start, end). */
  start: Date;
  end: Date;
  /** Every local day of the period, in order. */
  days: string[];
  /** Minutes added to UTC before truncating to the hour, so SQL hours align with local hours. */
  hourShiftMinutes: number;
}

/** A valid IANA zone, or UTC when the setting is unusable. */
export function safeZone(tz: string): string {
  return DateTime.now().setZone(tz).isValid ? tz : 'UTC';
}

/** Is `s` a real calendar date written 'YYYY-MM-DD'? */
export function isIsoDate(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && DateTime.fromISO(s, { zone: 'UTC' }).isValid;
}

/** The local day range for a named period ending today (in `zone`), or the custom from/to. */
export function resolvePeriod(name: PeriodName, zone: string, now: Date, from?: string, to?: string): ReportPeriod {
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  let first = today;
  let last = today;
  if (name === '7d') first = today.minus({ days: 6 });
  else if (name === '30d') first = today.minus({ days: 29 });
  else if (name === 'custom') {
    first = DateTime.fromISO(from!, { zone }).startOf('day');
    last = DateTime.fromISO(to!, { zone }).startOf('day');
  }
  const days: string[] = [];
  for (let d = first; d <= last; d = d.plus({ days: 1 })) days.push(d.toISODate()!);
  return {
    name,
    timezone: zone,
    from: first.toISODate()!,
    to: last.toISODate()!,
    start: first.toJSDate(),
    end: last.plus({ days: 1 }).startOf('day').toJSDate(),
    days,
    hourShiftMinutes: hourShift(first),
  };
}

/**
 * The offset's minutes past the hour (0 for most zones, 30 for India, 45 for Nepal). If it changes
 * inside the period (only Lord Howe Island, whose DST moves by 30 minutes), the first one is used and
 * tickets within 30 minutes of a local hour boundary may land in the neighbouring hour.
 */
function hourShift(first: DateTime): number {
  return ((first.offset % 60) + 60) % 60;
}

export interface LocalHour {
  day: string;
  /** 0–23 local */
  hour: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday */
  weekday: number;
}

/** Maps an SQL hour bucket (whole hours since 1970 of UTC + shift: sqlHourOf) to the local day, hour and weekday. */
export function localHourOf(hour: number, period: Pick<ReportPeriod, 'timezone' | 'hourShiftMinutes'>): LocalHour {
  const utcMillis = hour * 3_600_000 - period.hourShiftMinutes * 60_000;
  const local = DateTime.fromMillis(utcMillis, { zone: period.timezone });
  return { day: local.toISODate()!, hour: local.hour, weekday: local.weekday };
}
