/** Admin: API keys. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';

export function adminApiKeyRoutes(_d: AppDeps): Router {
  const router = Router();
  return router;
}
