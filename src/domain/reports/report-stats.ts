/**
 * Pure statistics for reports: percentiles from a histogram of durations by bucket and the few
 * durations picked from their buckets (report-queries.ts).
 */

export interface Percentiles {
  /** how many durations */
  n: number;
  /** seconds, null when n = 0 */
  median: number | null;
  p90: number | null;
}

export const NO_DURATIONS: Percentiles = { n: 0, median: null, p90: null };

/**
 * Percentile by linear interpolation between closest ranks (the "R-7" definition used by
 * spreadsheets' PERCENTILE.INC and numpy): h = (n−1)·p, value = x[⌊h⌋] + (h−⌊h⌋)·(x[⌈h⌉] − x[⌊h⌋]),
 * x sorted ascending and 0-based. The median of 1,2,3,4 hours is 2.5 hours; its p90 is 3.7 hours.
 * `byRank` needs the values at ranks ⌊h⌋+1 and ⌈h⌉+1 (1-based) only.
 */
export function percentileFromRanks(byRank: Map<number, number>, n: number, tenths: number): number | null {
  if (n <= 0) return null;
  const scaled = (n - 1) * tenths; // h × 10, exact in integers
  const lo = Math.floor(scaled / 10);
  const hi = Math.ceil(scaled / 10);
  const a = byRank.get(lo + 1);
  const b = byRank.get(hi + 1);
  if (a === undefined || b === undefined) return null;
  return a + ((scaled - lo * 10) / 10) * (b - a);
}

/** A group's durations that fall in one bucket of the histogram (`b` ascending means durations ascending). */
export interface BucketRow {
  g: string;
  b: number;
  n: number;
  /** smallest and largest duration in the bucket, seconds */
  lo: number;
  hi: number;
}

/**
 * A duration the histogram cannot tell: the `offset`-th smallest (1-based) of bucket `b`, among group
 * `g`'s durations, or among every group's (`whole`).
 */
export interface BucketPick {
  whole: boolean;
  g: string;
  b: number;
  offset: number;
}

/** The durations the percentiles need, by their rank (1-based): known from the histogram, or to pick. */
export interface RankedGroup {
  n: number;
  ranks: Map<number, { value: number } | { pick: BucketPick }>;
}

/** The key of a pick, to match it with the duration the database returns for it. */
export const pickKey = (p: BucketPick): string => `${p.whole ? 1 : 0}|${p.g}|${p.b}|${p.offset}`;

/** The 1-based ranks the median and the 90th percentile interpolate between (see percentileFromRanks). */
function wantedRanks(n: number): number[] {
  const out = new Set<number>();
  for (const tenths of [5, 9]) {
    const scaled = (n - 1) * tenths;
    out.add(Math.floor(scaled / 10) + 1);
    out.add(Math.ceil(scaled / 10) + 1);
  }
  return [...out];
}

function locate(g: string, whole: boolean, buckets: Omit<BucketRow, 'g'>[]): RankedGroup {
  const sorted = [...buckets].sort((x, y) => x.b - y.b);
  const n = sorted.reduce((acc, x) => acc + x.n, 0);
  const ranks: RankedGroup['ranks'] = new Map();
  if (n === 0) return { n, ranks };
  for (const rank of wantedRanks(n)) {
    let before = 0;
    const bucket = sorted.find((x) => (before += x.n) >= rank)!;
    const offset = rank - (before - bucket.n);
    // A bucket of one value, or its first or last duration, is known without reading it.
    if (bucket.lo === bucket.hi || offset === 1) ranks.set(rank, { value: bucket.lo });
    else if (offset === bucket.n) ranks.set(rank, { value: bucket.hi });
    else ranks.set(rank, { pick: { whole, g, b: bucket.b, offset } });
  }
  return { n, ranks };
}

/**
 * Where each group's (and the whole period's) median and 90th-percentile ranks fall in a histogram of
 * durations by bucket, and which durations must still be picked from their bucket (`picks`). The whole
 * period's histogram is the groups' summed bucket by bucket.
 */
export function locateRanks(rows: BucketRow[]): { groups: Map<string, RankedGroup>; whole: RankedGroup; picks: BucketPick[] } {
  const byGroup = new Map<string, BucketRow[]>();
  const byBucket = new Map<number, Omit<BucketRow, 'g'>>();
  for (const row of rows) {
    const list = byGroup.get(row.g);
    if (list) list.push(row);
    else byGroup.set(row.g, [row]);
    const w = byBucket.get(row.b);
    byBucket.set(row.b, w ? { b: row.b, n: w.n + row.n, lo: Math.min(w.lo, row.lo), hi: Math.max(w.hi, row.hi) } : { ...row });
  }
  const groups = new Map([...byGroup].map(([g, buckets]) => [g, locate(g, false, buckets)]));
  const whole = locate('', true, [...byBucket.values()]);
  const picks = new Map<string, BucketPick>();
  for (const ranked of [...groups.values(), whole])
    for (const r of ranked.ranks.values()) if ('pick' in r) picks.set(pickKey(r.pick), r.pick);
  return { groups, whole, picks: [...picks.values()] };
}

/** Median and 90th percentile of a located group, given the picked durations by pickKey. */
export function percentilesOf(ranked: RankedGroup | undefined, picked: Map<string, number>): Percentiles {
  if (!ranked || ranked.n === 0) return NO_DURATIONS;
  const byRank = new Map<number, number>();
  for (const [rank, r] of ranked.ranks) {
    const value = 'value' in r ? r.value : picked.get(pickKey(r.pick));
    if (value !== undefined) byRank.set(rank, value);
  }
  return { n: ranked.n, median: percentileFromRanks(byRank, ranked.n, 5), p90: percentileFromRanks(byRank, ranked.n, 9) };
}

/** Same percentile definition over a plain list (used by tests and small in-memory sets). */
export function percentile(values: number[], tenths: number): number | null {
  const sorted = [...values].sort((x, y) => x - y);
  return percentileFromRanks(new Map(sorted.map((v, i) => [i + 1, v])), sorted.length, tenths);
}

/** SLA compliance in percent (met ÷ (met + breached)), null when nothing had a due date. */
export function compliance(met: number, breached: number): number | null {
  const total = met + breached;
  return total === 0 ? null : (met / total) * 100;
}
