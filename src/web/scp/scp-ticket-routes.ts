/** Agent panel: queues, the ticket page, triage and ticket actions, new ticket on behalf of a user. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';

export function scpTicketRoutes(_d: AppDeps): Router {
  const router = Router();
  return router;
}
