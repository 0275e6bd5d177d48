/** Renders a page into its area's layout, with flash messages, CSRF token and the current actor. */
import type { Request, Response } from 'express';
import type { FieldErrors } from '../../domain/errors.ts';

export type Flash = { type: 'success' | 'error' | 'info'; message: string };

/** At most this many messages wait for the next page (the newest). */
export const FLASH_MAX = 5;

/**
 * Queues a message shown on the next page rendered for this session. A message already waiting is
 * not repeated, and only the newest FLASH_MAX wait: a client that posts without loading the page it
 * is sent to (a script, a form sent again and again) must not grow the session row with each post.
 */
export function flash(req: Request, type: Flash['type'], message: string): void {
  const s = req.session as any;
  if (!s) return;
  const waiting: Flash[] = (s.flash ?? []).filter((f: Flash) => f.type !== type || f.message !== message);
  s.flash = [...waiting, { type, message }].slice(-FLASH_MAX);
}

function takeFlash(req: Request): Flash[] {
  const s = req.session as any;
  const messages: Flash[] = s?.flash ?? [];
  if (s?.flash) delete s.flash;
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
    flash: takeFlash(req),
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
