/** The end-user portal at /: its own session cookie, layout and error pages. */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import type { KnexSessionStore } from '../shared/session-store.ts';
import { destroySession, sessionCookieName, sessionFor, signedCookies } from '../shared/session.ts';
import { csrfProtection } from '../shared/csrf.ts';
import { limitsBeforeSession, refuseIfLimited, useLayout } from '../shared/area.ts';
import { htmlErrorHandler, notFoundHandler } from '../shared/error-handler.ts';
import { flash, render } from '../shared/render.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { loadPortalActor } from '../../domain/tickets/ticket-portal-service.ts';
import { portalTicketRoutes } from './portal-ticket-routes.ts';
import { portalSignInRoutes } from './portal-signin-routes.ts';
import { portalKbRoutes } from './portal-kb-routes.ts';
import { featuredKbArticles } from '../../domain/kb/kb-queries.ts';

/** The portal actor: the session's user, limited to the tickets this browser was given (every page: the layout shows "My tickets"). */
function loadPortalUser(d: AppDeps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const actor = req.session ? await loadPortalActor(d.db, req.session) : null;
    if (actor) res.locals.actor = actor;
    next();
  };
}

export function portalRouter(d: AppDeps, store: KnexSessionStore): Router {
  const router = Router();
  router.use(useLayout('portal'));
  router.use(express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 200 }));
  // Per-IP limits, counted by the statement that reads the session (limitsBeforeSession).
  const limit = limitsBeforeSession(d, sessionCookieName('portal'));
  router.post('/tickets', limit('portal-open', 10, 60 * 60_000, { keepsInput: true }));
  router.post('/tickets/status', limit('portal-status', 10, 15 * 60_000, { keepsInput: true }));
  router.get('/tickets/access', limit('portal-access', 30, 15 * 60_000));
  router.post('/signin', limit('portal-signin', 10, 15 * 60_000, { keepsInput: true }));
  router.get('/signin/link', limit('portal-access', 30, 15 * 60_000));
  router.post('/signin/link', limit('portal-access', 30, 15 * 60_000));
  router.use(sessionFor('portal', d, store));
  router.use(signedCookies(d));
  router.use(csrfProtection);
  router.use(async (_req, res, next) => {
    res.locals.settings = await getSettings(d.db);
    next();
  });
  router.use(loadPortalUser(d));
  router.use(refuseIfLimited);
  // ## Home
  router.get('/', async (req, res) => {
    // The featured articles are kept per process until the knowledge base changes: no statement of their own.
    const featured = await featuredKbArticles(d.db, res.locals.settings);
    await render(req, res, 'portal/home', { featured }, { title: 'Help Center' });
  });
  // ## Sign out: the session (and every ticket it was granted) is gone; the message travels in its cookie
  router.post('/logout', async (req, res) => {
    await destroySession(req);
    res.clearCookie('tessera_portal', { path: '/' });
    flash(req, 'success', 'You have signed out.');
    res.redirect(303, '/');
  });
  router.use(portalSignInRoutes(d));
  router.use(portalTicketRoutes(d));
  router.use(portalKbRoutes(d));
  router.use(notFoundHandler());
  router.use(htmlErrorHandler());
  return router;
}
