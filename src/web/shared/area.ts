/** Small middleware shared by the HTML areas. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { parse as parseCookies } from 'cookie';
import { unsign } from 'cookie-signature';
import { requestMemo } from '../../domain/request-memo.ts';
import { NotFound, TooManyRequests } from '../../domain/errors.ts';
import type { AppDeps } from './deps.ts';
import { KnexRateLimitStore } from './rate-limit-store.ts';

/** Chooses the layout views are rendered into (views/layouts/<name>.ejs). */
export function useLayout(name: 'portal' | 'scp') {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.locals.layout = name;
    res.locals.area = name;
    next();
  };
}

/**
 * Per-IP limits on an area's forms (sign in, reset a password, open a ticket…), shared by all
 * processes, counted BEFORE the session is read and by the statement that reads it: mount each
 * (`limits(name, limit, windowMs)`) on its route ahead of the area's session middleware, and
 * refuseIfLimited after it. The hit is one upsert; the session of the area's cookie (`cookieName`,
 * its signature checked as express-session does) and the settings come back with it (RETURNING:
 * sessionAlongColumns), so the session store's read of that id costs no statement (a limited form
 * cost one statement more than its unlimited twin before). Over the limit the request goes on to read
 * its session and is refused then, with the area's usual 429 page; or, `keepsInput`, the route itself
 * answers 429 with its form and what was typed in it (formRateLimited).
 */
export function limitsBeforeSession(d: AppDeps, cookieName: string) {
  return (name: string, limit: number, windowMs: number, opts: { keepsInput?: boolean } = {}): RequestHandler[] => [
    (req, _res, next) => {
      const memo = requestMemo();
      const signed = req.headers.cookie ? parseCookies(req.headers.cookie)[cookieName] : undefined;
      const sid = signed?.startsWith('s:') ? unsign(signed.slice(2), d.config.sessionSecret) : false;
      if (memo && sid) memo.sessionAlong = { sid };
      next();
    },
    rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      store: new KnexRateLimitStore(d.db, name, d.clock),
      handler: (req, res, next) => {
        const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const minutes = Math.max(1, Math.ceil(((reset?.getTime() ?? d.clock().getTime() + windowMs) - d.clock().getTime()) / 60_000));
        res.locals[opts.keepsInput ? 'formRateLimited' : 'rateLimited'] = { minutes } satisfies RateLimited;
        next();
      },
    }),
  ];
}

/** A request its limit counted past the limit, and how long until it may try again. */
export interface RateLimited { minutes: number }

/** What a refused request is told: when to try again. */
export function rateLimitedText(r: RateLimited, what = 'Too many attempts from your network.'): string {
  return `${what} Please try again in ${r.minutes === 1 ? 'a minute' : `${r.minutes} minutes`}.`;
}

/** The limit of a form that keeps what was typed (limitsBeforeSession's `keepsInput`), if it refused this request. */
export function formRateLimited(res: Response): RateLimited | undefined {
  return res.locals.formRateLimited as RateLimited | undefined;
}

/** Refuses a request its limit (limitsBeforeSession) has counted past the limit: the area's 429 page. */
export function refuseIfLimited(_req: Request, res: Response, next: NextFunction): void {
  const limited = res.locals.rateLimited as RateLimited | undefined;
  next(limited ? new TooManyRequests(rateLimitedText(limited)) : undefined);
}

/** Reads a single string from a form or query field; arrays and objects become undefined. */
export function single(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A numeric id from the URL (`:id`, or the parameter `name`): anything else is a page that does not exist. @throws NotFound */
export function idParam(req: Request, name = 'id'): number {
  const raw = String(req.params[name]);
  if (!/^\d{1,10}$/.test(raw) || !Number(raw)) throw new NotFound('We could not find that page.');
  return Number(raw);
}

/** A safe local redirect target (only paths under `prefix`, never another host). */
export function safeNext(v: unknown, prefix: string, fallback: string): string {
  const s = single(v);
  if (!s || !s.startsWith(prefix) || s.startsWith('//') || s.includes('\\')) return fallback;
  return s;
}
