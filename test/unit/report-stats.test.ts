/**
 * Percentiles from a histogram of durations (report-stats.ts): the ranks located in their buckets and
 * the picked durations give exactly what sorting every duration gives (`percentile`). The buckets are
 * made here as the SQL makes them (report-queries.ts bucketOf), and the picks answered by sorting the
 * bucket's durations, as the SQL's ROW_NUMBER does.
 */
import { describe, expect, it } from 'vitest';
import { locateRanks, percentile, percentilesOf, pickKey, type BucketRow } from '../../src/domain/reports/report-stats.ts';

const bucketOf = (d: number) => (d < 1 ? -1 : Math.floor(Math.log(d) * 16));

function viaHistogram(groups: Map<string, number[]>) {
  const rows: BucketRow[] = [];
  for (const [g, values] of groups) {
    const byBucket = new Map<number, number[]>();
    for (const v of values) byBucket.set(bucketOf(v), [...(byBucket.get(bucketOf(v)) ?? []), v]);
    for (const [b, vs] of byBucket) rows.push({ g, b, n: vs.length, lo: Math.min(...vs), hi: Math.max(...vs) });
  }
  const located = locateRanks(rows);
  const picked = new Map<string, number>();
  for (const p of located.picks) {
    const pool = (p.whole ? [...groups.values()].flat() : groups.get(p.g)!).filter((v) => bucketOf(v) === p.b).sort((x, y) => x - y);
    picked.set(pickKey(p), pool[p.offset - 1]);
  }
  return { located, picked };
}

const exact = (values: number[]) => ({ n: values.length, median: percentile(values, 5), p90: percentile(values, 9) });

describe('percentiles from a duration histogram', () => {
  it('equals sorting every duration, per group and over all groups, for spread, narrow, tied and tiny durations', () => {
    let seed = 5;
    const next = () => (seed = (seed * 48271) % 2147483647);
    const shapes: ((i: number) => number)[] = [
      () => next() % 2_000_000, // spread over weeks
      () => 3600 + (next() % 200), // narrow: a bucket or two of many values
      () => [0, 60, 1800][next() % 3], // few values, many ties (and zero)
      () => next() % 3, // under and around a second
    ];
    let picks = 0;
    for (const shape of shapes)
      for (let round = 0; round < 25; round++) {
        const groups = new Map<string, number[]>();
        const size = 1 + (next() % 120);
        for (let i = 0; i < size; i++) {
          const g = ['', '1', '2', '3'][next() % 4];
          groups.set(g, [...(groups.get(g) ?? []), shape(i)]);
        }
        const { located, picked } = viaHistogram(groups);
        picks += located.picks.length;
        for (const [g, values] of groups) expect(percentilesOf(located.groups.get(g), picked), `group ${g}`).toEqual(exact(values));
        expect(percentilesOf(located.whole, picked)).toEqual(exact([...groups.values()].flat()));
      }
    expect(picks).toBeGreaterThan(50); // the picks were exercised, not only buckets of one value
  });

  it('asks for no pick where a bucket holds one value or the rank is its first or last', () => {
    const { located } = viaHistogram(new Map([['1', [1800, 1800, 1800, 1800, 1800]], ['2', [10, 100_000]]]));
    expect(located.picks).toEqual([]);
    expect(percentilesOf(located.groups.get('1'), new Map())).toEqual({ n: 5, median: 1800, p90: 1800 });
  });

  it('gives no percentiles for a group without durations', () => {
    expect(percentilesOf(undefined, new Map())).toEqual({ n: 0, median: null, p90: null });
    expect(locateRanks([]).whole.n).toBe(0);
  });
});
