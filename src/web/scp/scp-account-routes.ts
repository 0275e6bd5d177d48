/** Agent panel: profile, password change, forgotten password, two-factor sign-in. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';

export function scpAccountRoutes(_d: AppDeps): Router {
  const router = Router();
  return router;
}
