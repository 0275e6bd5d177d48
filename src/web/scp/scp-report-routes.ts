/** Agent panel: reports and CSV exports. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';

export function scpReportRoutes(_d: AppDeps): Router {
  const router = Router();
  return router;
}
