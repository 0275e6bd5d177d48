/**
 * CSV for exports (RFC 4180), safe to open in a spreadsheet: a cell that starts with = + - @ or a
 * tab / carriage return is prefixed with a single quote so it is shown as text, never run as a
 * formula (CVE-2019-14749, OWASP "CSV injection"). Every cell is quoted; quotes are doubled.
 */
import type { Response } from 'express';

export type CsvCell = string | number | boolean | Date | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell as CSV text: neutralised, quoted. Dates become ISO 8601 (UTC); null/undefined empty. */
export function csvCell(v: CsvCell): string {
  let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  // Numbers are data, not formulas (-5 stays -5); text that looks like a formula is neutralised.
  if (typeof v !== 'number' && FORMULA_START.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** Rows (the first is usually the header) → CSV text with CRLF line ends and a trailing CRLF. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + (rows.length ? '\r\n' : '');
}

/**
 * Sends CSV text as a download, never cached. It starts with a UTF-8 byte-order mark: without it
 * Excel reads the file as the system's legacy code page and garbles non-ASCII ("1–4 hours").
 */
export function sendCsv(res: Response, filename: string, csv: string): void {
  res.attachment(filename).type('text/csv; charset=utf-8').set('Cache-Control', 'private, no-store').send('\ufeff' + csv);
}
