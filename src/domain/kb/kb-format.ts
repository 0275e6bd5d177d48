/**
 * An article's answer is stored as plain text (never HTML) and shown with light formatting: blank
 * lines separate paragraphs, lines starting with "- " or "* " make a bulleted list, **bold**, and
 * http(s) addresses become links. formatKbBody turns the text into blocks of text runs; the views
 * print every run with `<%=` (views/partials/kb-body.ejs), so no text an author typed is ever output
 * as markup — there is nothing to sanitise.
 */

/** A run of text: plain, bold, or a link (only http: and https: addresses become links). */
export type KbRun = { text: string; bold?: boolean; href?: string };
/** A paragraph is lines of runs (a single line break is kept); a list is items of runs. */
export type KbBlock = { kind: 'p'; lines: KbRun[][] } | { kind: 'ul'; items: KbRun[][] };

const BULLET = /^\s*[-*]\s+/;
const URL = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** Splits one line into runs: **bold** first, then links inside each part. */
export function formatKbLine(line: string): KbRun[] {
  const runs: KbRun[] = [];
  line.split(/\*\*(.+?)\*\*/g).forEach((part, i) => {
    if (!part) return;
    const bold = i % 2 === 1;
    let last = 0;
    for (const m of part.matchAll(URL)) {
      if (m.index > last) runs.push({ text: part.slice(last, m.index), ...(bold ? { bold } : {}) });
      runs.push({ text: m[0], href: m[0], ...(bold ? { bold } : {}) });
      last = m.index + m[0].length;
    }
    if (last < part.length) runs.push({ text: part.slice(last), ...(bold ? { bold } : {}) });
  });
  return runs;
}

/** The answer text as blocks (see the module comment). */
export function formatKbBody(body: string): KbBlock[] {
  const blocks: KbBlock[] = [];
  for (const chunk of body.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const lines = chunk.split('\n').filter((l) => l.trim() !== '');
    let current: KbBlock | null = null;
    for (const line of lines) {
      const bullet = BULLET.test(line);
      const kind = bullet ? 'ul' : 'p';
      if (!current || current.kind !== kind) blocks.push((current = kind === 'ul' ? { kind, items: [] } : { kind, lines: [] }));
      if (current.kind === 'ul') current.items.push(formatKbLine(line.replace(BULLET, '')));
      else current.lines.push(formatKbLine(line.trim()));
    }
  }
  return blocks;
}

/** The first `max` characters of the answer as plain text (lists and bold markers dropped), for lists of articles. */
export function kbExcerpt(body: string, max = 180): string {
  const text = body.replace(/\*\*(.+?)\*\*/g, '$1').replace(/^\s*[-*]\s+/gm, '').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
