import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../src/web/shared/csv.ts';

describe('toCsv', () => {
  it('quotes every cell, doubles quotes and ends lines with CRLF', () => {
    expect(toCsv([['Number', 'Subject'], ['123456', 'He said "hi", then left']])).toBe('"Number","Subject"\r\n"123456","He said ""hi"", then left"\r\n');
  });

  it('keeps commas and line breaks inside a quoted cell', () => {
    expect(toCsv([['a,b', 'line 1\nline 2']])).toBe('"a,b","line 1\nline 2"\r\n');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+cmd|\' /C calc\'!A0', `"'+1+cmd|' /C calc'!A0"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1:A2)', `"'@SUM(A1:A2)"`],
    ['\t=1+1', `"'\t=1+1"`],
    ['\r=1+1', `"'\r=1+1"`],
  ])('neutralises a formula: %s', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('leaves ordinary text, numbers and formula characters later in the cell alone', () => {
    expect(csvCell('Printer on floor 2')).toBe('"Printer on floor 2"');
    expect(csvCell('a=b')).toBe('"a=b"');
    expect(csvCell(-5)).toBe('"-5"');
    expect(csvCell(42)).toBe('"42"');
  });

  it('writes dates as UTC ISO 8601, and null / undefined / booleans plainly', () => {
    expect(csvCell(new Date('2026-03-02T10:00:00Z'))).toBe('"2026-03-02T10:00:00.000Z"');
    expect(toCsv([[null, undefined, true, false]])).toBe('"","","true","false"\r\n');
  });

  it('gives an empty string for no rows', () => {
    expect(toCsv([])).toBe('');
  });
});
