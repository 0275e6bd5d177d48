/** The panel's landing page. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { render } from '../shared/render.ts';

export function scpDashboardRoutes(_d: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    await render(req, res, 'scp/dashboard', {}, { title: 'Dashboard' });
  });
  return router;
}
