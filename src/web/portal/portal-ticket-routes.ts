/** Portal: open a ticket, check status, the user's ticket page, replies, attachments. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';

export function portalTicketRoutes(_d: AppDeps): Router {
  const router = Router();
  return router;
}
