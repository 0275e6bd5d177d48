/** The admin area at /scp/admin: admins only. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { requireAdmin } from '../scp/scp-auth.ts';

export function adminRouter(_d: AppDeps): Router {
  const router = Router();
  router.use(requireAdmin);
  router.get('/', async (req, res) => {
    await render(req, res, 'admin/index', {}, { title: 'Admin' });
  });
  return router;
}
