/** Pure statistics for reports: percentiles from the rank rows the database returns. */
import type { RankRow } from './report-queries.ts';

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

/** Median and 90th percentile per group from `durationRanks` rows. */
export function percentilesByGroup(rows: RankRow[]): Map<string, Percentiles> {
  const groups = new Map<string, { n: number; byRank: Map<number, number> }>();
  for (const r of rows) {
    const g = groups.get(r.g) ?? { n: r.n, byRank: new Map<number, number>() };
    g.byRank.set(r.rn, r.d);
    groups.set(r.g, g);
  }
  const out = new Map<string, Percentiles>();
  for (const [key, g] of groups) out.set(key, { n: g.n, median: percentileFromRanks(g.byRank, g.n, 5), p90: percentileFromRanks(g.byRank, g.n, 9) });
  return out;
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
