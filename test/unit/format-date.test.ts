/** formatDate (cached Intl.DateTimeFormat) prints what luxon's 'yyyy-MM-dd HH:mm ZZZZ' printed, in every zone. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { formatDate } from '../../src/domain/tickets/ticket-presenters.ts';

const ZONES = ['UTC', 'Etc/UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/St_Johns', 'America/Sao_Paulo', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo', 'Australia/Adelaide', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Africa/Casablanca'];
const luxon = (d: Date, zone: string) => DateTime.fromJSDate(d, { zone }).setLocale('en-US').toFormat('yyyy-MM-dd HH:mm ZZZZ');

describe('formatDate', () => {
  it('matches luxon for any instant in any zone (DST changes, half-hour and 45-minute offsets, midnight)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), fc.constantFrom(...ZONES), (d, zone) => {
        expect(formatDate(d, zone)).toBe(luxon(d, zone));
      }),
      { numRuns: 3000 },
    );
  });

  it('prints the hours around a DST change and midnight as luxon does', () => {
    const instants = ['2026-03-29T00:59:00Z', '2026-03-29T01:00:00Z', '2026-10-25T00:59:00Z', '2026-10-25T01:00:00Z', '2026-03-08T06:59:00Z', '2026-03-08T07:00:00Z', '2026-11-01T05:59:00Z', '2026-11-01T06:00:00Z', '2026-12-31T23:59:00Z'];
    for (const zone of ZONES) for (const iso of instants) expect(formatDate(new Date(iso), zone), `${zone} ${iso}`).toBe(luxon(new Date(iso), zone));
    expect(formatDate(new Date('2026-03-02T11:00:00Z'), 'UTC')).toBe('2026-03-02 11:00 UTC');
    expect(formatDate(new Date('2026-07-01T00:30:00Z'), 'America/New_York')).toBe('2026-06-30 20:30 EDT');
  });

  it('prints every minute of the hours around each DST change as luxon does (the offset is read once per hour, so an hour in which it changes must not be cached)', () => {
    // Each zone's changes in 2026 (the hour after each: found in hourly steps), and Monrovia's last offset with seconds
    // (-0:44:30, until 1972-01-07).
    const changes: [string, number][] = [['Africa/Monrovia', Date.parse('1972-01-07T00:00:00Z')]];
    for (const zone of ZONES) {
      const z = IANAZone.create(zone);
      for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2027-01-01T00:00:00Z'); t += 3_600_000) {
        if (z.offset(t) !== z.offset(t - 3_600_000)) changes.push([zone, t]);
      }
    }
    expect(changes.length).toBeGreaterThan(10);
    for (const [zone, at] of changes) {
      for (let t = at - 2 * 3_600_000; t <= at + 3_600_000; t += 60_000) {
        for (const s of [0, 30_000]) {
          const d = new Date(t + s);
          if (formatDate(d, zone) !== luxon(d, zone)) expect(formatDate(d, zone), `${zone} ${d.toISOString()}`).toBe(luxon(d, zone));
        }
      }
    }
  });

  it('says nothing for no date, and what luxon says for a zone it does not know', () => {
    expect(formatDate(null, 'UTC')).toBe('');
    expect(formatDate(undefined, 'UTC')).toBe('');
    expect(formatDate(new Date('2026-03-02T11:00:00Z'), 'Not/AZone')).toBe(luxon(new Date('2026-03-02T11:00:00Z'), 'Not/AZone'));
  });
});
