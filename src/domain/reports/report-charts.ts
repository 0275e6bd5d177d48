/**
 * Server-rendered SVG charts (pure functions returning markup), so reports work without JavaScript
 * and under a CSP that forbids inline scripts and style attributes. Safety rules:
 * - every piece of text (titles, labels, legend) goes through `escapeXml`;
 * - numbers are written with `num()` (finite, fixed precision), ids are reduced to [a-z0-9-];
 * - colours come from classes in public/css/app.css (`.chart …`), never `style=""`; no <script>,
 *   no event attributes, no links, no foreign objects.
 * Views include the result with `<%- %>` and a comment naming this file.
 * Scales are linear with "nice" round tick steps, a dozen lines instead of a d3 dependency.
 */

/** Escapes text for XML/HTML text and attribute values. */
export function escapeXml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const num = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0');
const safeId = (s: string): string => s.toLowerCase().replace(/[^a-z0-9-]/g, '') || 'chart';
const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);

/**
 * A round step (1, 2, 5 × 10^k) giving about `count` ticks up to at least `max`. `whole`: the values are
 * counts, so the step is at least 1 (2 tickets opened gives ticks 0, 1, 2, not 0, 0.5, … 2).
 */
export function niceTicks(max: number, count = 5, whole = false): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(whole ? 1 : 0, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

function open(id: string, title: string, desc: string, width: number, height: number): string {
  const i = safeId(id);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${i}-t ${i}-d" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${i}-t">${escapeXml(title)}</title><desc id="${i}-d">${escapeXml(desc)}</desc>`;
}

export interface Series {
  name: string;
  /** CSS class for the bars (e.g. 'bar-opened'): colours live in app.css */
  cls: string;
  values: number[];
}

/** Vertical grouped bars: one group per category (e.g. per day), one bar per series. */
export function groupedBarChart(o: { id: string; title: string; desc: string; categories: string[]; series: Series[]; width?: number; height?: number }): string {
  const width = o.width ?? 720;
  const height = o.height ?? 260;
  const m = { top: 28, right: 12, bottom: 36, left: 44 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const values = o.series.flatMap((s) => s.values);
  const ticks = niceTicks(Math.max(0, ...values), 5, values.every(Number.isInteger));
  const top = ticks[ticks.length - 1];
  const y = (v: number) => m.top + plotH - (v / top) * plotH;
  const n = Math.max(1, o.categories.length);
  const band = plotW / n;
  const barW = Math.max(1, (band * 0.8) / Math.max(1, o.series.length));
  const every = Math.ceil(n / 12);
  let svg = open(o.id, o.title, o.desc, width, height);
  svg += `<g class="axis">`;
  for (const t of ticks) svg += `<line x1="${m.left}" x2="${width - m.right}" y1="${num(y(t))}" y2="${num(y(t))}"/><text x="${m.left - 6}" y="${num(y(t) + 4)}" text-anchor="end">${num(t)}</text>`;
  o.categories.forEach((c, i) => {
    if (i % every === 0) svg += `<text x="${num(m.left + band * i + band / 2)}" y="${height - m.bottom + 16}" text-anchor="middle">${escapeXml(clip(c, 12))}</text>`;
  });
  svg += `</g>`;
  o.series.forEach((s, si) => {
    svg += `<g class="${escapeXml(safeId(s.cls))}">`;
    s.values.forEach((v, i) => {
      const x = m.left + band * i + band * 0.1 + barW * si;
      svg += `<rect x="${num(x)}" y="${num(y(v))}" width="${num(barW)}" height="${num(m.top + plotH - y(v))}"><title>${escapeXml(`${o.categories[i]} · ${s.name}: ${v}`)}</title></rect>`;
    });
    svg += `</g>`;
  });
  o.series.forEach((s, si) => {
    const x = m.left + si * 120;
    svg += `<g class="legend ${escapeXml(safeId(s.cls))}"><rect x="${x}" y="6" width="12" height="12"/><text x="${x + 16}" y="16">${escapeXml(clip(s.name, 14))}</text></g>`;
  });
  return svg + `</svg>`;
}

export interface BarItem {
  label: string;
  value: number;
  /** text shown at the end of the bar (defaults to the value) */
  display?: string;
}

/** Horizontal bars, one row per item; `max` fixes the scale (100 for percentages). */
export function horizontalBarChart(o: { id: string; title: string; desc: string; items: BarItem[]; cls: string; max?: number; width?: number }): string {
  const width = o.width ?? 720;
  const rowH = 26;
  const m = { top: 8, right: 64, bottom: 8, left: 170 };
  const height = m.top + m.bottom + Math.max(1, o.items.length) * rowH;
  const top = o.max ?? niceTicks(Math.max(0, ...o.items.map((i) => i.value))).at(-1)!;
  const plotW = width - m.left - m.right;
  let svg = open(o.id, o.title, o.desc, width, height);
  svg += `<g class="${escapeXml(safeId(o.cls))}">`;
  o.items.forEach((item, i) => {
    const y = m.top + i * rowH;
    const w = top > 0 ? (Math.max(0, item.value) / top) * plotW : 0;
    svg += `<text class="label" x="${m.left - 8}" y="${y + 17}" text-anchor="end">${escapeXml(clip(item.label, 26))}</text>`;
    svg += `<rect class="track" x="${m.left}" y="${y + 4}" width="${num(plotW)}" height="${rowH - 8}"/>`;
    svg += `<rect x="${m.left}" y="${y + 4}" width="${num(w)}" height="${rowH - 8}"><title>${escapeXml(`${item.label}: ${item.display ?? item.value}`)}</title></rect>`;
    svg += `<text class="value" x="${num(m.left + w + 6)}" y="${y + 17}">${escapeXml(item.display ?? String(item.value))}</text>`;
  });
  return svg + `</g></svg>`;
}
