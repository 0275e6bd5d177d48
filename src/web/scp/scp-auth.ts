/** Loads the signed-in agent for /scp requests and guards the panel. */
import type { NextFunction, Request, Response } from 'express';
import { loadAgentActor } from '../../domain/agents/agent-queries.ts';
import { isAdmin } from '../../domain/actor.ts';
import { Forbidden } from '../../domain/errors.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { deps } from '../shared/deps.ts';
import { destroySession } from '../shared/session.ts';

/** Sets res.locals.actor from the session; ends sessions of deactivated agents and past the absolute timeout. */
export async function loadAgent(req: Request, res: Response, next: NextFunction): Promise<void> {
  const id = req.session?.agentId;
  if (!id) return next();
  const d = deps(req);
  const settings = await getSettings(d.db);
  const created = req.session.createdAt ?? 0;
  const expired = d.clock().getTime() - created > settings.session_absolute_hours * 3600_000;
  const actor = expired ? null : await loadAgentActor(d.db, id);
  if (!actor) {
    await destroySession(req);
    return next();
  }
  res.locals.actor = actor;
  res.locals.settings = settings;
  next();
}

/** Anonymous visitors are sent to the sign-in page (which leads to setup while no agent exists). */
export function requireAgent(req: Request, res: Response, next: NextFunction): void {
  if (res.locals.actor?.kind === 'agent') return next();
  const target = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(303, `/scp/login${target}`);
}

/** Admin pages: a signed-in non-admin agent gets 403. */
export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (isAdmin(res.locals.actor)) return next();
  next(new Forbidden('Only administrators can open this page.', 'ADMIN_ONLY'));
}
