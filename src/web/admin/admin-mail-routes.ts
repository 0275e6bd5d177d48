/** Admin: the mail log (outbox) with retry and discard. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';

export function adminMailRoutes(_d: AppDeps): Router {
  const router = Router();
  return router;
}
