/** The REST API at /api: key-authenticated, plain-text (osTicket-compatible) and JSON answers. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { classifyError } from '../shared/error-handler.ts';

export function apiRouter(_d: AppDeps): Router {
  const router = Router();
  router.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  router.use((err: unknown, req: any, res: any, _next: any) => {
    const c = classifyError(err);
    if (c.internal) req.log?.error({ err }, 'api error');
    res.status(c.status).type('text').send(c.message);
  });
  return router;
}
