import { describe, expect, it } from 'vitest';
import * as cheerio from 'cheerio';
import { escapeXml, groupedBarChart, horizontalBarChart, niceTicks } from '../../src/domain/reports/report-charts.ts';
import { resolvePeriod, localHourOf } from '../../src/domain/reports/report-period.ts';

describe('report charts', () => {
  it('escapes every label and uses no inline style or script', () => {
    const evil = '</text><script>alert(1)</script><text style="x">';
    const svg = groupedBarChart({ id: 'x"y', title: evil, desc: evil, categories: [evil], series: [{ name: evil, cls: 'bar-opened" onload="x', values: [3] }] })
      + horizontalBarChart({ id: 'h', title: evil, desc: evil, cls: 'bar-sla', items: [{ label: evil, value: 50, display: evil }], max: 100 });
    const doc = cheerio.load(`<root>${svg}</root>`, { xml: true });
    expect(doc('script').length).toBe(0);
    const attrs = doc('*').toArray().flatMap((el) => Object.keys((el as any).attribs ?? {}));
    expect(attrs.filter((a) => a === 'style' || a.startsWith('on'))).toEqual([]);
    expect(doc('svg').length).toBe(2);
    expect(doc('svg text').toArray().some((el) => doc(el).text().startsWith('</text><script>'))).toBe(true);
    expect(svg).toContain(escapeXml('</text><script>'));
  });

  it('chooses round axis steps', () => {
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(2)).toEqual([0, 0.5, 1, 1.5, 2]); // a measure may be fractional
    expect(niceTicks(2, 5, true)).toEqual([0, 1, 2]); // counts are not
  });

  it('labels the axis of a chart of counts with whole numbers only', () => {
    const svg = groupedBarChart({ id: 'daily', title: 'Tickets per day', desc: 'Opened and closed', categories: ['Mon', 'Tue'], series: [{ name: 'Opened', cls: 'bar-opened', values: [1, 2] }, { name: 'Closed', cls: 'bar-closed', values: [0, 1] }] });
    const labels = [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '1', '2']);
  });
});

describe('report periods', () => {
  it('maps SQL hours to local hours in a zone with a half-hour offset', () => {
    const p = resolvePeriod('custom', 'Asia/Kolkata', new Date('2026-03-12T00:00:00Z'), '2026-03-10', '2026-03-10');
    expect(p.start.toISOString()).toBe('2026-03-09T18:30:00.000Z');
    expect(p.hourShiftMinutes).toBe(30);
    // 2026-03-09 18:30 UTC + 30 min → the SQL hour 2026-03-09 19:00 (in hours since 1970) → local 00:00 on March 10
    expect(localHourOf(Date.parse('2026-03-09T19:00:00Z') / 3_600_000, p)).toEqual({ day: '2026-03-10', hour: 0, weekday: 2 });
  });

  it('keeps a day a local day across the autumn DST change', () => {
    const p = resolvePeriod('custom', 'Europe/Berlin', new Date('2026-11-01T00:00:00Z'), '2026-10-25', '2026-10-25');
    expect(p.start.toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-10-25T23:00:00.000Z'); // a 25-hour day
  });
});
