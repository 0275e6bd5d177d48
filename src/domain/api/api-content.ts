/**
 * Content helpers for the osTicket-compatible API: RFC 2397 data URLs, strict base64, and HTML
 * message bodies turned into plain text (tickets store text only; HTML is never kept active).
 */
import { convert } from 'html-to-text';
import { ValidationFailed } from '../errors.ts';

export interface DataUrl {
  /** MIME type, lower case; text/plain when the URL names none (RFC 2397). */
  type: string;
  charset?: string;
  data: Buffer;
}

/**
 * Strict base64 (standard alphabet, optional padding, whitespace ignored as PHP's strict mode does).
 * Returns undefined for anything else, so a damaged file is refused, not stored as garbage.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const s = text.replace(/[\s]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  const unpadded = s.replace(/=+$/, '');
  if (s.length !== unpadded.length && s.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, 'base64');
}

/**
 * Parses `data:[<type>][;charset=<cs>][;base64],<data>`. Like osTicket, the data part of a
 * non-base64 URL is taken as it is (not percent-decoded), so `data:text/html,MESSAGE <b>HERE</b>` works.
 * A value that is not a data URL is plain text. @returns undefined when base64 data is damaged.
 */
export function parseDataUrl(value: string): DataUrl | undefined {
  if (!value.startsWith('data:')) return { type: 'text/plain', data: Buffer.from(value, 'utf8') };
  const comma = value.indexOf(',');
  const meta = comma < 0 ? value.slice(5) : value.slice(5, comma);
  const body = comma < 0 ? '' : value.slice(comma + 1);
  const parts = meta.split(';').map((p) => p.trim());
  const type = (parts[0] || 'text/plain').toLowerCase();
  let charset: string | undefined;
  let base64 = false;
  for (const p of parts.slice(1)) {
    if (p.toLowerCase() === 'base64') base64 = true;
    else if (/^charset=/i.test(p)) charset = p.slice(8).replace(/^"|"$/g, '').toLowerCase();
  }
  if (!base64) return { type, charset, data: Buffer.from(body, 'utf8') };
  const data = decodeBase64Strict(body);
  return data ? { type, charset, data } : undefined;
}

/** Decodes bytes in `charset` (default UTF-8). @throws ValidationFailed for a charset Node does not know */
export function decodeText(data: Buffer, charset: string | undefined, field: string): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(data);
  } catch {
    throw new ValidationFailed({ [field]: `Unknown character set "${String(charset).slice(0, 40)}"` });
  }
}

/**
 * Turns an HTML message into plain text: tags dropped, text of scripts and styles removed, links kept
 * as "text [url]", no line wrapping. The result is stored and always shown escaped.
 */
export function htmlToPlainText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  }).trim();
}

/** A message body from its declared type: HTML becomes text, anything else is text already. */
export function messageText(body: string, type: string | undefined): string {
  return /^text\/html$/i.test((type ?? '').trim()) ? htmlToPlainText(body) : body;
}
