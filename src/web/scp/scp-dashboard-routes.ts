/** The panel's landing page: the agent's dashboard. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { ctxFrom } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { getAgentDashboard } from '../../domain/reports/dashboard-service.ts';

export function scpDashboardRoutes(_d: AppDeps): Router {
  const router = Router();
  // ## Dashboard
  router.get('/', async (req, res) => {
    const dashboard = await getAgentDashboard(ctxFrom(req, res));
    await render(req, res, 'scp/dashboard', { dashboard }, { title: 'Dashboard' });
  });
  return router;
}
