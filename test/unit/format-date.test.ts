/** formatDate (cached Intl.DateTimeFormat) prints what luxon's 'yyyy-MM-dd HH:mm ZZZZ' printed, in every zone. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
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

  it('says nothing for no date, and what luxon says for a zone it does not know', () => {
    expect(formatDate(null, 'UTC')).toBe('');
    expect(formatDate(undefined, 'UTC')).toBe('');
    expect(formatDate(new Date('2026-03-02T11:00:00Z'), 'Not/AZone')).toBe(luxon(new Date('2026-03-02T11:00:00Z'), 'Not/AZone'));
  });
});
