/**
 * The colours admins give priorities (Admin → Priorities), as a stylesheet for the agent panel's
 * priority badges (`class="badge prio-<id>"`). The Content-Security-Policy allows no inline styles,
 * so the colours cannot be written into the pages themselves. The response is revalidated on every
 * use (no-cache + ETag): a colour changed by an admin shows on the next page, and an unchanged sheet
 * costs a 304.
 */
import { Router } from 'express';
import { listPriorityColors } from '../../domain/priorities/priority-service.ts';
import { ctxFrom, type AppDeps } from '../shared/deps.ts';

const HEX = /^#[0-9a-fA-F]{6}$/;

/** Black or white text, whichever reads better on `hex` (WCAG relative luminance). */
export function textColorOn(hex: string): '#000' | '#fff' {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05): equal at L ≈ 0.179.
  return luminance > 0.179 ? '#000' : '#fff';
}

/** One rule per priority; a stored value that is not a #RRGGBB colour is left out (the grey badge stays). */
export function priorityCss(colors: { id: number; color: string }[]): string {
  return colors
    .filter((p) => Number.isInteger(p.id) && HEX.test(p.color))
    .map((p) => `.badge.prio-${p.id} { background: ${p.color}; color: ${textColorOn(p.color)}; }`)
    .join('\n') + '\n';
}

export function scpPriorityStyleRoutes(_d: AppDeps): Router {
  const router = Router();
  router.get('/priorities.css', async (req, res) => {
    const css = priorityCss(await listPriorityColors(ctxFrom(req, res)));
    res.type('text/css').set('Cache-Control', 'private, no-cache').send(css);
  });
  return router;
}
