/** Small middleware shared by the HTML areas. */
import type { NextFunction, Request, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { TooManyRequests } from '../../domain/errors.ts';
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

/** A per-IP limiter shared by all processes; over the limit it renders the area's 429 page. */
export function limitPerIp(d: AppDeps, name: string, limit: number, windowMs: number) {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new KnexRateLimitStore(d.db, name, d.clock),
    handler: (_req, _res, next) => next(new TooManyRequests()),
  });
}

/** Reads a single string from a form or query field; arrays and objects become undefined. */
export function single(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A safe local redirect target (only paths under `prefix`, never another host). */
export function safeNext(v: unknown, prefix: string, fallback: string): string {
  const s = single(v);
  if (!s || !s.startsWith(prefix) || s.startsWith('//') || s.includes('\\')) return fallback;
  return s;
}
