/**
 * Middleware of the /api area: key authentication (X-API-Key, from the key's allowed address),
 * permission, a per-key rate limit shared by all processes, and body readers with size limits.
 * Keys are never logged: pino's redact hides the header, and errors never echo it.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { authenticateApiKey } from '../../domain/api-keys/api-key-service.ts';
import { assertApiKeyMay, type ApiPermission } from '../../domain/api/api-ticket-service.ts';
import { TooManyRequests } from '../../domain/errors.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import type { AppDeps } from '../shared/deps.ts';
import { KnexRateLimitStore } from '../shared/rate-limit-store.ts';

/** Authenticates the key and checks it may do `perm`; sets res.locals.actor (an ApiActor). */
export function requireApiKey(d: AppDeps, perm: ApiPermission): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const actor = await authenticateApiKey(d.db, req.get('x-api-key'), req.ip, d.clock());
    res.locals.actor = actor;
    assertApiKeyMay(actor, perm);
    next();
  };
}

/** At most `api_rate_limit_per_minute` requests per key and minute (setting), then 429. */
export function limitPerKey(d: AppDeps): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: async () => (await getSettings(d.db)).api_rate_limit_per_minute,
    keyGenerator: (_req, res) => `key${(res.locals.actor as { keyId: number }).keyId}`,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new KnexRateLimitStore(d.db, 'api', d.clock),
    handler: (_req, _res, next) => next(new TooManyRequests('Too many requests for this API key. Please slow down.', 'API_RATE_LIMITED')),
  });
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
      if (!Buffer.isBuffer(req.body)) req.body = Buffer.alloc(0);
      next();
    });
  };
}
