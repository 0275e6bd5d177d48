/** Liveness and readiness probes, and the CSP violation report sink. */
import express, { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { AppDeps } from './deps.ts';
import { KnexRateLimitStore } from './rate-limit-store.ts';

export function healthRouter(d: AppDeps): Router {
  const router = Router();
  // ## Probes
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await d.db.raw('select 1');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unreachable' });
    }
  });
  // ## CSP reports: logged, rate-limited per IP.
  const limiter = rateLimit({ windowMs: 60_000, limit: 20, standardHeaders: 'draft-7', legacyHeaders: false, store: new KnexRateLimitStore(d.db, 'csp', d.clock) });
  router.post('/csp-report', limiter, express.json({ type: ['application/csp-report', 'application/json', 'application/reports+json'], limit: '16kb' }), (req, res) => {
    d.logger.warn({ cspReport: req.body }, 'CSP violation reported');
    res.status(204).end();
  });
  return router;
}
