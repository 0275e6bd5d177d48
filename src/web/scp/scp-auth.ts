/** Loads the signed-in agent for /scp requests and guards the panel. */
import type { NextFunction, Request, Response } from 'express';
import { loadAgentActor } from '../../domain/agents/agent-queries.ts';
import { isAdmin } from '../../domain/actor.ts';
import { Forbidden } from '../../domain/errors.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { deps } from '../shared/deps.ts';
import { destroySession, regenerateSession } from '../shared/session.ts';

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
  if (req.session.role !== actor.role) await reissueSession(req, actor.role);
  res.locals.actor = actor;
  res.locals.settings = settings;
  // Idle timeout from the settings (the store expires the row; `rolling` renews it on every request).
  req.session.cookie.maxAge = settings.session_idle_minutes * 60_000;
  next();
}

/**
 * Privilege change (an admin changed this agent's role): the same session data (sign-in, CSRF token)
 * under a new session id, so an id known from before cannot carry the new rights.
 */
async function reissueSession(req: Request, role: 'admin' | 'agent'): Promise<void> {
  const { cookie: _cookie, ...data } = req.session;
  await regenerateSession(req);
  Object.assign(req.session, data, { role });
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
