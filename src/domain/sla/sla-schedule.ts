/**
 * Pure working-time arithmetic for SLA schedules (no I/O).
 *
 * Model: an instant is *working time* when its local wall-clock reading (date + time in the
 * schedule's zone) lies inside a weekly span and not inside a holiday. Spans and holidays are
 * first combined as wall-clock ranges, then mapped back to real instants ("pre-image" of the
 * wall clock), one UTC-offset regime at a time. Consequences on daylight-saving days:
 * - a span clear of the change (e.g. 09:00–17:00) keeps its nominal length;
 * - spring forward: wall times that do not exist (e.g. 02:00–03:00) contribute nothing, so a
 *   span covering them is shorter by that hour;
 * - fall back: wall times that occur twice (e.g. 01:00–02:00) count twice — a 00:00–06:00 span
 *   is 7 real hours, and a 01:00–02:00 span is 2 real hours. Holidays follow the same rule, so
 *   a holiday covering a repeated hour removes both occurrences.
 * Intervals are half-open [start, end): a 09:00–17:00 span ends at 17:00 (17:00 itself is off).
 */
import { IANAZone } from 'luxon';

/** ISO weekday: 1 = Monday … 7 = Sunday. Times are 'HH:MM' wall-clock in the schedule's time zone. end <= start means an overnight span that runs into the next day (e.g. 22:00–06:00). end '24:00' is allowed and means midnight at the end of the day. start === end is a zero-length span (rejected by validateSchedule, ignored at run time); use 00:00–24:00 for a whole day. */
export type WeeklySpan = { weekday: number; start: string; end: string };
/** A holiday: the whole day when start/end are null, else only that part of the day is off. date is 'YYYY-MM-DD' in the schedule's zone. A missing start means 00:00, a missing end means 24:00; end < start runs past midnight like a span. */
export type Holiday = { date: string; start?: string | null; end?: string | null; name?: string };
/** A working-time calendar: round the clock, or weekly spans minus holidays in one IANA time zone. */
export type Schedule =
  | { kind: '24x7' }
  | { kind: 'business'; timezone: string; spans: WeeklySpan[]; holidays: Holiday[] };

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Largest UTC offset in use (+14:00, Line Islands): an instant is never earlier than wall − 14 h. */
const MAX_OFFSET = 14 * HOUR;
/** Offsets are sampled on this grid; a DST transition is located by bisection inside one cell. */
const CELL = 12 * HOUR;
/** Give up when no working time is found for this many consecutive days (3 years). */
const HORIZON_DAYS = 3 * 366;
const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

type Range = [number, number];
type Compiled = {
  zone: IANAZone;
  /** Per ISO weekday: [startMinute, endMinute) relative to that day's midnight; end may exceed 1440. */
  spans: Range[][];
  /** Per local day number: wall-clock ranges (in minutes relative to that day's midnight). */
  holidays: Map<number, Range[]>;
} & ZoneMemo;
/** Offsets at grid points and transition instants of one zone; shared across calls (tz facts are fixed). */
type ZoneMemo = { offsets: Map<number, number>; transitions: Map<number, number> };
const memos = new Map<string, ZoneMemo>();

function zoneMemo(name: string): ZoneMemo {
  let m = memos.get(name);
  if (m && m.offsets.size < 100_000) return m;
  if (memos.size > 100) memos.clear();
  memos.set(name, (m = { offsets: new Map(), transitions: new Map() }));
  return m;
}

/** 'HH:MM' → minutes after midnight; '24:00' only when allow24. Returns null when malformed. */
function parseTime(value: unknown, allow24 = false): number | null {
  if (typeof value !== 'string') return null;
  if (value === '24:00') return allow24 ? 1440 : null;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** 'YYYY-MM-DD' → days since 1970-01-01 (a civil day number), or null when not a real date. */
function parseDate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / DAY;
}

/** Converts start/end minutes into a range, turning end <= start into an overnight range. */
function toRange(start: number, end: number): Range | null {
  if (start === end) return null;
  return [start, end < start ? end + 1440 : end];
}

/** ISO weekday of a civil day number (day 0 = Thursday 1970-01-01). */
const weekdayOf = (day: number): number => ((((day + 3) % 7) + 7) % 7) + 1;

function compile(schedule: Extract<Schedule, { kind: 'business' }>): Compiled {
  const zone = IANAZone.create(schedule.timezone);
  if (!zone.isValid) throw new RangeError(`unknown time zone "${schedule.timezone}"`);
  const spans: Range[][] = Array.from({ length: 8 }, () => []);
  for (const span of schedule.spans ?? []) {
    const s = parseTime(span.start);
    const e = parseTime(span.end, true);
    if (!Number.isInteger(span.weekday) || span.weekday < 1 || span.weekday > 7 || s === null || e === null) {
      throw new RangeError(`invalid span ${JSON.stringify(span)}`);
    }
    const r = toRange(s, e);
    if (r) spans[span.weekday].push(r);
  }
  const holidays = new Map<number, Range[]>();
  for (const h of schedule.holidays ?? []) {
    const day = parseDate(h.date);
    const s = h.start == null ? 0 : parseTime(h.start);
    const e = h.end == null ? 1440 : parseTime(h.end, true);
    if (day === null || s === null || e === null) throw new RangeError(`invalid holiday ${JSON.stringify(h)}`);
    const r = toRange(s, e);
    if (r) holidays.set(day, [...(holidays.get(day) ?? []), r]);
  }
  return { zone, spans, holidays, ...zoneMemo(schedule.timezone) };
}

/** UTC offset in ms at an instant. */
function offsetAt(c: Compiled, t: number): number {
  return Math.round(c.zone.offset(t) * MIN);
}

/** Offset at a grid point k * CELL, memoised. */
function gridOffset(c: Compiled, k: number): number {
  let off = c.offsets.get(k);
  if (off === undefined) c.offsets.set(k, (off = offsetAt(c, k * CELL)));
  return off;
}

/** First instant in grid cell k whose offset differs from the cell's start (the cell must contain a change). */
function transitionIn(c: Compiled, k: number): number {
  const known = c.transitions.get(k);
  if (known !== undefined) return known;
  const before = gridOffset(c, k);
  let [lo, hi] = [k * CELL, (k + 1) * CELL];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    [lo, hi] = offsetAt(c, mid) === before ? [mid, hi] : [lo, mid];
  }
  c.transitions.set(k, hi);
  return hi;
}

/** Offset regimes covering [lo, hi) (lo is rounded down to the grid): [from, to, offsetMs] pieces. */
function regimes(c: Compiled, lo: number, hi: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const first = Math.floor(lo / CELL);
  let from = first * CELL;
  let cur = gridOffset(c, first);
  for (let k = first; k * CELL < hi; k++) {
    if (gridOffset(c, k) === gridOffset(c, k + 1)) continue;
    const t = transitionIn(c, k);
    if (t < hi) {
      out.push([from, t, cur]);
      [from, cur] = [t, gridOffset(c, k + 1)];
    }
  }
  out.push([from, hi, cur]);
  return out;
}

/** Subtracts every range in `cut` from every range in `base` (all half-open). */
function subtract(base: Range[], cut: Range[]): Range[] {
  return cut.reduce<Range[]>(
    (acc, [cs, ce]) =>
      acc.flatMap(([s, e]): Range[] => (ce <= s || cs >= e ? [[s, e]] : ([[s, cs], [ce, e]] as Range[]).filter(([a, b]) => b > a))),
    base,
  );
}

/** Working instants contributed by the spans of local day `day`, holidays removed, unsorted. */
function dayIntervals(c: Compiled, day: number): Range[] {
  const spans = c.spans[weekdayOf(day)];
  if (spans.length === 0) return [];
  const base = day * DAY;
  const toWall = (d: number) => (r: Range): Range => [d * DAY + r[0] * MIN, d * DAY + r[1] * MIN];
  const cut = [day - 1, day, day + 1].flatMap((d) => (c.holidays.get(d) ?? []).map(toWall(d)));
  const walls = subtract(spans.map(toWall(day)), cut);
  if (walls.length === 0) return [];
  const out: Range[] = [];
  for (const [from, to, off] of regimes(c, base - MAX_OFFSET - CELL, base + 2 * DAY + MAX_OFFSET)) {
    for (const [ws, we] of walls) {
      const s = Math.max(from, ws - off);
      const e = Math.min(to, we - off);
      if (e > s) out.push([s, e]);
    }
  }
  return out;
}

/**
 * Lazily yields the schedule's working intervals as sorted, disjoint, merged [start, end) instants,
 * beginning with the spans of local day `fromDay`. Stops once intervals can no longer start before
 * `until`, or (when `horizon`) after HORIZON_DAYS consecutive days without working time.
 */
function* intervals(c: Compiled, fromDay: number, until: number, horizon: boolean): Generator<Range> {
  let pending: Range[] = [];
  let idle = 0;
  for (let day = fromDay; ; day++) {
    const earliestLater = (day + 1) * DAY - MAX_OFFSET; // no later day's interval can start earlier
    const fresh = dayIntervals(c, day);
    idle = fresh.length ? 0 : idle + 1;
    const all = pending.concat(fresh).sort((a, b) => a[0] - b[0]);
    pending = [];
    for (const r of all) {
      const last = pending[pending.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else pending.push([r[0], r[1]]);
    }
    const done = earliestLater >= until || (horizon && idle > HORIZON_DAYS);
    while (pending.length && (done || pending[0][1] < earliestLater)) yield pending.shift()!;
    if (done) return;
  }
}

/** Local civil day number of an instant in the schedule's zone. */
function localDay(c: Compiled, t: number): number {
  return Math.floor((t + offsetAt(c, t)) / DAY);
}

function checkDate(d: Date, name: string): number {
  if (d instanceof Date && Number.isFinite(d.getTime())) return d.getTime();
  throw new RangeError(`${name} is not a valid date`);
}

/** The instant at which `minutes` of working time have elapsed after `start` (start itself may be outside working time: the clock starts at the next working moment). 24x7 → start + minutes. Throws RangeError if the schedule has no working time at all (no spans, or holidays cover everything within a search horizon of 3 years). minutes may be 0 → the first working moment at or after start. When the budget runs out exactly at the end of a working interval, that end is returned (Friday 13:00 + 4 h on 9–17 → Friday 17:00). Also throws RangeError for an invalid date, negative/non-finite minutes or an unusable schedule. */
export function addWorkingMinutes(schedule: Schedule, start: Date, minutes: number): Date {
  const t0 = checkDate(start, 'start');
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`minutes must be a finite number >= 0, got ${minutes}`);
  let remaining = minutes * MIN;
  if (schedule.kind === '24x7') return new Date(t0 + remaining);
  const c = compile(schedule);
  if (c.spans.every((s) => s.length === 0)) throw new RangeError('schedule has no working time (no spans)');
  for (const [a, b] of intervals(c, localDay(c, t0) - 2, Infinity, true)) {
    if (b <= t0) continue;
    const s = Math.max(a, t0);
    if (b - s >= remaining) return new Date(s + remaining);
    remaining -= b - s;
  }
  throw new RangeError(`schedule has no working time within ${HORIZON_DAYS} days`);
}

/** Working minutes between two instants (0 if to <= from). May be fractional when the instants are not on whole minutes. Throws RangeError for invalid dates or an unusable schedule. */
export function workingMinutesBetween(schedule: Schedule, from: Date, to: Date): number {
  const a = checkDate(from, 'from');
  const b = checkDate(to, 'to');
  if (b <= a) return 0;
  if (schedule.kind === '24x7') return (b - a) / MIN;
  const c = compile(schedule);
  let total = 0;
  for (const [s, e] of intervals(c, localDay(c, a) - 2, b, false)) {
    if (s >= b) break;
    total += Math.max(0, Math.min(e, b) - Math.max(s, a));
  }
  return total / MIN;
}

/** Validates a schedule definition; returns a list of human-readable problems (empty when fine): unknown time zone, bad HH:MM, weekday out of range, zero-length span, overlapping spans on the same weekday (an overnight span overlapping the next day's spans counts too), and malformed holidays (bad date, bad time, zero length). */
export function validateSchedule(schedule: Schedule): string[] {
  const problems: string[] = [];
  if (!schedule || typeof schedule !== 'object') return ['schedule must be an object'];
  if (schedule.kind === '24x7') return problems;
  if (schedule.kind !== 'business') return [`unknown schedule kind "${String((schedule as { kind?: unknown }).kind)}"`];
  const tz = schedule.timezone;
  if (typeof tz !== 'string' || !IANAZone.isValidZone(tz)) problems.push(`unknown time zone "${String(tz)}"`);
  if (!Array.isArray(schedule.spans)) problems.push('spans must be a list');
  const week: Array<{ from: number; to: number; i: number; label: string }> = [];
  (Array.isArray(schedule.spans) ? schedule.spans : []).forEach((span, i) => {
    const label = `span #${i + 1} (${WEEKDAYS[span?.weekday] ?? span?.weekday} ${span?.start}–${span?.end})`;
    let ok = true;
    if (!Number.isInteger(span?.weekday) || span.weekday < 1 || span.weekday > 7) {
      problems.push(`${label}: weekday must be an integer from 1 (Monday) to 7 (Sunday)`);
      ok = false;
    }
    const s = parseTime(span?.start);
    const e = parseTime(span?.end, true);
    if (s === null) problems.push(`${label}: start "${span?.start}" is not a valid HH:MM time`);
    if (e === null) problems.push(`${label}: end "${span?.end}" is not a valid HH:MM time (24:00 allowed)`);
    if (!ok || s === null || e === null) return;
    const r = toRange(s, e);
    if (!r) return void problems.push(`${label}: zero-length span (start equals end)`);
    const base = (span.weekday - 1) * 1440;
    const [from, to] = [base + r[0], base + r[1]];
    week.push({ from, to: Math.min(to, 10080), i, label });
    if (to > 10080) week.push({ from: 0, to: to - 10080, i, label }); // Sunday night into Monday
  });
  const overlaps = new Map<string, string>();
  for (const x of week) {
    for (const y of week) {
      if (x.i < y.i && x.from < y.to && y.from < x.to) overlaps.set(`${x.i}|${y.i}`, `${x.label} and ${y.label} overlap`);
    }
  }
  problems.push(...overlaps.values());
  if (!Array.isArray(schedule.holidays)) problems.push('holidays must be a list');
  (Array.isArray(schedule.holidays) ? schedule.holidays : []).forEach((h, i) => {
    const label = `holiday #${i + 1} (${h?.name ?? h?.date})`;
    if (parseDate(h?.date) === null) problems.push(`${label}: date "${h?.date}" is not a valid YYYY-MM-DD date`);
    const s = h?.start == null ? 0 : parseTime(h.start);
    const e = h?.end == null ? 1440 : parseTime(h.end, true);
    if (s === null) problems.push(`${label}: start "${h.start}" is not a valid HH:MM time`);
    if (e === null) problems.push(`${label}: end "${h.end}" is not a valid HH:MM time (24:00 allowed)`);
    if (s !== null && e !== null && s === e) problems.push(`${label}: zero-length holiday (start equals end)`);
  });
  return problems;
}
