/** Renders a page into its area's layout, with flash messages, CSRF token and the current actor. */
import type { Request, Response } from 'express';
import type { FieldErrors } from '../../domain/errors.ts';

export type Flash = { type: 'success' | 'error' | 'info'; message: string };

/** At most this many messages wait for the next page (the newest). */
export const FLASH_MAX = 5;

/** How long a message waits for the page it was meant for (the redirect's target loads at once). */
const FLASH_MAX_AGE_MS = 5 * 60_000;

/** Each area's flash cookie, on the area's path (as its session cookie). */
function flashCookie(res: Response): { name: string; path: string } {
  return res.locals.area === 'scp' ? { name: 'tessera_scp_flash', path: '/scp' } : { name: 'tessera_portal_flash', path: '/' };
}

/** The messages waiting for this response: queued in this request, else those the request's signed cookie carries. */
function waitingFlash(req: Request, res: Response): Flash[] {
  if (res.locals.flashQueued) return res.locals.flashQueued as Flash[];
  const raw = (req.signedCookies as Record<string, unknown> | undefined)?.[flashCookie(res).name];
  if (typeof raw !== 'string') return [];
  try {
    const list = JSON.parse(raw);
    return Array.isArray(list) ? list.filter((f) => f && ['success', 'error', 'info'].includes(f.type) && typeof f.message === 'string').slice(-FLASH_MAX) : [];
  } catch {
    return [];
  }
}

/** Sets (or, for an empty list, clears) the flash cookie, replacing one set earlier in this response. */
function writeFlash(res: Response, list: Flash[]): void {
  const { name, path } = flashCookie(res);
  const prev = res.getHeader('Set-Cookie');
  const others = (Array.isArray(prev) ? prev : prev === undefined ? [] : [String(prev)]).filter((c) => !c.startsWith(`${name}=`));
  res.setHeader('Set-Cookie', others);
  res.locals.flashQueued = list;
  const options = { path, httpOnly: true, sameSite: 'lax' as const, secure: Boolean(res.locals.secureCookies) };
  if (list.length) res.cookie(name, JSON.stringify(list), { ...options, signed: true, maxAge: FLASH_MAX_AGE_MS });
  else res.clearCookie(name, options);
}

/**
 * Queues a message shown on the next page rendered for this browser. It travels in a signed cookie
 * of the area (HttpOnly, a few minutes), not in the session: showing it costs no session write,
 * and a visitor without a session (signed out, a bad link) gets none for it. A message already
 * waiting is not repeated, and only the newest FLASH_MAX wait: a client that posts without loading
 * the page it is sent to (a script, a form sent again and again) must not grow the cookie.
 */
export function flash(req: Request, type: Flash['type'], message: string): void {
  const res = req.res;
  if (!res) return;
  const waiting = waitingFlash(req, res).filter((f) => f.type !== type || f.message !== message);
  writeFlash(res, [...waiting, { type, message }].slice(-FLASH_MAX));
}

/** The waiting messages, taken: the cookie is cleared with this response. */
function takeFlash(req: Request, res: Response): Flash[] {
  const messages = waitingFlash(req, res);
  const hadCookie = (req.signedCookies as Record<string, unknown> | undefined)?.[flashCookie(res).name] !== undefined;
  if (messages.length || hadCookie || res.locals.flashQueued) writeFlash(res, []);
  return messages;
}

export interface RenderOptions {
  status?: number;
  title?: string;
}

/**
 * Renders views/<view>.ejs with `model`, then the area layout (res.locals.layout) around it.
 * Every view gets: csrfToken() (call it: the token is made on first use), actor, errors (field map),
 * values (the user's input), flash.
 */
export async function render(req: Request, res: Response, view: string, model: Record<string, unknown> = {}, opts: RenderOptions = {}): Promise<void> {
  const locals = {
    errors: {} as FieldErrors,
    values: {} as Record<string, unknown>,
    ...model,
    flash: takeFlash(req, res),
    title: opts.title ?? (model.title as string | undefined) ?? '',
  };
  const body = await renderFile(res, view, locals);
  const layout = (res.locals.layout as string | undefined) ?? 'portal';
  const html = await renderFile(res, `layouts/${layout}`, { ...locals, body });
  res.status(opts.status ?? 200).type('html').send(html);
}

function renderFile(res: Response, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    res.app.render(view, { ...res.locals, ...locals }, (err: Error | null, html?: string) => (err ? reject(err) : resolve(html ?? '')));
  });
}
