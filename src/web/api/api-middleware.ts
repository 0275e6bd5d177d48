/**
 * Middleware of the /api area: key authentication (X-API-Key, from the key's allowed address),
 * permission, a per-key rate limit shared by all processes, and body readers with size limits.
 * Keys are never logged: pino's redact hides the header, and errors never echo it.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { API_KEY_WINDOW_MS, authenticateApiKey } from '../../domain/api-keys/api-key-service.ts';
import { assertApiKeyMay, type ApiPermission } from '../../domain/api/api-ticket-service.ts';
import { BadRequest, TooManyRequests } from '../../domain/errors.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import type { AppDeps } from '../shared/deps.ts';

/**
 * Authenticates the key, checks it may do `perm` and that it is within api_rate_limit_per_minute
 * calls this minute (else 429); sets res.locals.actor (an ApiActor) and the RateLimit headers
 * (IETF draft 7, as express-rate-limit sends them elsewhere). Finding the key and counting the call
 * are one statement (authenticateApiKey).
 */
export function requireApiKey(d: AppDeps, perm: ApiPermission): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const now = d.clock();
    const call = await authenticateApiKey(d.db, req.get('x-api-key'), req.ip, now);
    res.locals.actor = call.actor;
    assertApiKeyMay(call.actor, perm);
    const reset = Math.max(0, Math.ceil((call.resetAt.getTime() - now.getTime()) / 1000));
    res.set('RateLimit-Policy', `${call.limit};w=${API_KEY_WINDOW_MS / 1000}`);
    res.set('RateLimit', `limit=${call.limit}, remaining=${Math.max(0, call.limit - call.hits)}, reset=${reset}`);
    if (call.hits > call.limit) {
      res.set('Retry-After', String(reset));
      throw new TooManyRequests('Too many requests for this API key. Please slow down.', 'API_RATE_LIMITED');
    }
    next();
  };
}

/**
 * The raw body, whatever its Content-Type (osTicket reads the body regardless of it, and curl's
 * default is form-encoded). Limit: the allowed attachments, base64-encoded, plus 256 KB; beyond → 413.
 */
export function readRawBody(d: AppDeps): RequestHandler {
  return async (req, res, next) => {
    const s = await getSettings(d.db);
    const limit = Math.max(1024 * 1024, Math.ceil((s.attachment_max_bytes * Math.max(1, s.attachment_max_count) * 4) / 3) + 256 * 1024);
    express.raw({ type: () => true, limit })(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (clientGone(req)) return next(requestAborted());
      if (!Buffer.isBuffer(req.body)) req.body = Buffer.alloc(0);
      next();
    });
  };
}

/**
 * Whether the client closed its connection before its body was read. body-parser then skips the
 * request (on-finished counts it as finished) and leaves no body: that is not an empty body, and
 * nobody is left to answer (a client that timed out, or a load generator at the end of its run).
 */
export function clientGone(req: Request): boolean {
  return req.body === undefined && (req.socket.destroyed || !req.socket.writable);
}

/** What a request whose client went away is refused with (code as body-parser's own "request aborted"). */
export const requestAborted = () => new BadRequest('The client closed the connection before its request was read.', 'REQUEST_ABORTED');

/** Logs a refused API call: a client that went away at info (nothing went wrong here), the rest at warn. */
export function logRefusal(req: Request, c: { code: string; status: number }): void {
  if (c.code === 'REQUEST_ABORTED') req.log?.info({ code: c.code }, 'API request aborted by its client');
  else req.log?.warn({ code: c.code, status: c.status }, 'API request refused');
}
