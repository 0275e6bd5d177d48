/** The admin area at /scp/admin: admins only. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { requireAdmin } from '../scp/scp-auth.ts';
import { adminMailRoutes } from './admin-mail-routes.ts';
import { adminApiKeyRoutes } from './admin-api-key-routes.ts';

export function adminRouter(d: AppDeps): Router {
  const router = Router();
  router.use(requireAdmin);
  router.get('/', async (req, res) => {
    await render(req, res, 'admin/index', {}, { title: 'Admin' });
  });
  router.use(adminMailRoutes(d));
  router.use(adminApiKeyRoutes(d));
  return router;
}
