/** The end-user portal at /: its own session cookie, layout and error pages. */
import express, { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import type { KnexSessionStore } from '../shared/session-store.ts';
import { sessionFor } from '../shared/session.ts';
import { csrfProtection } from '../shared/csrf.ts';
import { useLayout } from '../shared/area.ts';
import { htmlErrorHandler, notFoundHandler } from '../shared/error-handler.ts';
import { render } from '../shared/render.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { portalTicketRoutes } from './portal-ticket-routes.ts';

export function portalRouter(d: AppDeps, store: KnexSessionStore): Router {
  const router = Router();
  router.use(useLayout('portal'));
  router.use(express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 200 }));
  router.use(sessionFor('portal', d, store));
  router.use(csrfProtection);
  router.use(async (_req, res, next) => {
    res.locals.settings = await getSettings(d.db);
    next();
  });
  // ## Home
  router.get('/', async (req, res) => {
    await render(req, res, 'portal/home', {}, { title: 'Help Center' });
  });
  router.use(portalTicketRoutes(d));
  router.use(notFoundHandler());
  router.use(htmlErrorHandler());
  return router;
}
