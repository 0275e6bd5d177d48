/** The agent panel at /scp: its own session cookie, layout, guard and error pages. */
import express, { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import type { KnexSessionStore } from '../shared/session-store.ts';
import { sessionCookieName, sessionFor, signedCookies } from '../shared/session.ts';
import { csrfProtection } from '../shared/csrf.ts';
import { limitsBeforeSession, refuseIfLimited, useLayout } from '../shared/area.ts';
import { htmlErrorHandler, notFoundHandler } from '../shared/error-handler.ts';
import { loadAgent, requireAgent } from './scp-auth.ts';
import { scpAuthRoutes } from './scp-auth-routes.ts';
import { scpDashboardRoutes } from './scp-dashboard-routes.ts';
import { adminRouter } from '../admin/admin-routes.ts';
import { scpTicketRoutes } from './scp-ticket-routes.ts';
import { scpAccountRoutes } from './scp-account-routes.ts';
import { scpReportRoutes } from './scp-report-routes.ts';
import { scpUserRoutes } from './scp-user-routes.ts';
import { scpPriorityStyleRoutes } from './scp-priority-styles.ts';
import { scpKbRoutes } from './scp-kb-routes.ts';

export function scpRouter(d: AppDeps, store: KnexSessionStore): Router {
  const router = Router();
  router.use(useLayout('scp'));
  router.use(express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 200 }));
  // Per-IP limits, counted by the statement that reads the session (limitsBeforeSession).
  const limit = limitsBeforeSession(d, sessionCookieName('scp'));
  router.post(['/setup', '/login'], limit('scp-login', 30, 15 * 60_000));
  router.post(['/password/forgot', '/password/reset'], limit('scp-reset', 10, 15 * 60_000));
  router.post('/2fa', limit('scp-2fa', 30, 15 * 60_000));
  router.use(sessionFor('scp', d, store));
  router.use(signedCookies(d));
  router.use(csrfProtection);
  router.use(loadAgent);
  router.use(refuseIfLimited);
  router.use(scpAuthRoutes(d));
  // Account routes include the public forgot/reset-password pages; they guard the rest themselves.
  router.use(scpAccountRoutes(d));
  // Everything below is for signed-in agents only.
  router.use(requireAgent);
  router.use(scpPriorityStyleRoutes(d));
  router.use(scpDashboardRoutes(d));
  router.use(scpTicketRoutes(d));
  router.use(scpReportRoutes(d));
  router.use(scpUserRoutes(d));
  router.use(scpKbRoutes(d));
  router.use('/admin', adminRouter(d));
  router.use(notFoundHandler());
  router.use(htmlErrorHandler());
  return router;
}
