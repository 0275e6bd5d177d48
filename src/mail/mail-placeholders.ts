/**
 * The placeholder syntax of the mail templates admins edit: `{{ticket.number}}`, `{{recipient.name}}`…
 * An admin's text is never evaluated (no EJS, no expressions): it is cut into literal text and
 * placeholder names, each name checked against the notification's list, and each placeholder
 * replaced by its value as plain text. In the HTML part every piece is escaped; only the links the
 * help desk makes (a placeholder listed as a link) and http(s) addresses typed by the admin become
 * `<a href>` — never anything inside a value that came from a user (a ticket's subject, a message).
 *
 * Syntax: `{{` name `}}`, spaces inside the braces allowed; a name is lower-case words joined by dots
 * (`ticket.url`). A single `{` or `}` is plain text; `{{` always opens a placeholder, so an unclosed
 * `{{`, a stray `}}` or anything but a name inside is refused.
 */

/** A piece of a parsed template: literal text, or a placeholder to fill. */
export type Segment = { text: string } | { key: string };

const NAME = /^[a-z][a-z_]*(\.[a-z][a-z_]*)*$/;

/** A parse result: the segments, or a message for the admin (what is wrong and where). */
export type Parsed = { ok: true; segments: Segment[] } | { ok: false; error: string };

/** A few characters around a position, for messages ("…near “Dear {{na”…"). */
function near(text: string, at: number): string {
  const s = text.slice(Math.max(0, at - 12), at + 16).replace(/\s+/g, ' ');
  return `“${s}”`;
}

/**
 * Cuts `text` into literal text and placeholders, refusing malformed braces and names not in
 * `allowed`. Every unknown name is listed in one message.
 */
export function parsePlaceholders(text: string, allowed: ReadonlySet<string>): Parsed {
  const segments: Segment[] = [];
  const unknown: string[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    const stray = text.indexOf('}}', i);
    if (stray !== -1 && (open === -1 || stray < open)) return { ok: false, error: `A “}}” without its “{{” near ${near(text, stray)}. Placeholders are written {{name}}.` };
    if (open === -1) {
      segments.push({ text: text.slice(i) });
      break;
    }
    if (open > i) segments.push({ text: text.slice(i, open) });
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return { ok: false, error: `A “{{” is not closed near ${near(text, open)}. Placeholders are written {{name}}.` };
    const name = text.slice(open + 2, close).trim();
    if (!NAME.test(name)) return { ok: false, error: `“${text.slice(open, close + 2).slice(0, 40)}” is not a placeholder: write a name from the list between {{ and }}, such as {{ticket.number}}.` };
    if (!allowed.has(name)) unknown.push(`{{${name}}}`);
    segments.push({ key: name });
    i = close + 2;
  }
  if (unknown.length) {
    const list = [...new Set(unknown)];
    return { ok: false, error: `${list.length > 1 ? 'Unknown placeholders' : 'Unknown placeholder'} ${list.join(', ')}: this notification can use ${[...allowed].map((k) => `{{${k}}}`).join(', ')}.` };
  }
  return { ok: true, segments };
}

/** The placeholder names a parsed text uses. */
export function usedKeys(segments: Segment[]): Set<string> {
  return new Set(segments.flatMap((s) => ('key' in s ? [s.key] : [])));
}

/** The text with every placeholder replaced by its value (missing values: empty), as plain text. */
export function fillText(segments: Segment[], values: Record<string, string>): string {
  return segments.map((s) => ('key' in s ? values[s.key] ?? '' : s.text)).join('');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
/** Escaped text, line breaks kept as <br>. */
const escapedLines = (s: string) => escapeHtml(s).replace(/\r?\n/g, '<br>\n');
const anchor = (url: string) => `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
/** An http(s) address in the admin's own text (trailing punctuation is not part of it). */
const URL_IN_TEXT = /https?:\/\/[^\s<>"'{}]+[^\s<>"'{}.,;:!?)\]]/g;

function literalHtml(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    out += escapedLines(text.slice(last, m.index)) + anchor(m[0]);
    last = m.index + m[0].length;
  }
  return out + escapedLines(text.slice(last));
}

/**
 * The HTML body: every piece escaped, line breaks kept as <br>; the values of `links` (addresses
 * the help desk made: access, sign-in and reset links) and http(s) addresses in the admin's own
 * text are made clickable. Values are never scanned for addresses: they may come from anyone.
 */
export function fillHtml(segments: Segment[], values: Record<string, string>, links: ReadonlySet<string>): string {
  return segments.map((s) => {
    if (!('key' in s)) return literalHtml(s.text);
    const v = values[s.key] ?? '';
    return links.has(s.key) && /^https?:\/\/\S+$/.test(v) ? anchor(v) : escapedLines(v);
  }).join('');
}
