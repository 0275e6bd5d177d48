/** First-run setup, sign in and sign out of the agent panel. */
import { Router } from 'express';
import { createFirstAdmin, needsSetup, signInAgent } from '../../domain/auth/agent-auth-service.ts';
import { ValidationFailed, NotFound } from '../../domain/errors.ts';
import { destroyOtherSessions } from '../shared/session-store.ts';
import { ctxFrom, deps, type AppDeps } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { safeNext } from '../shared/area.ts';
import { regenerateSession, saveSession, destroySession } from '../shared/session.ts';
import type { AgentActor } from '../../domain/actor.ts';
import { secondFactorStep } from '../../domain/auth/two-factor-service.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';

type Req = Parameters<Parameters<Router['get']>[1]>[0];

/** Starts a fresh session for an agent (new id: no session fixation), idle timeout from the settings. */
export async function startAgentSession(req: Req, agent: AgentActor, now: Date): Promise<void> {
  await regenerateSession(req);
  req.session.agentId = agent.id;
  req.session.createdAt = now.getTime();
  req.session.role = agent.role;
  req.session.cookie.maxAge = (await getSettings(deps(req).db)).session_idle_minutes * 60_000;
  await saveSession(req);
}

/** Password accepted, code still needed: a new session that is not signed in yet (see scp-account-routes). */
async function startPendingTwoFactor(req: Req, agent: AgentActor, now: Date): Promise<void> {
  await regenerateSession(req);
  req.session.pending2fa = { agentId: agent.id, at: now.getTime() };
  await saveSession(req);
}

export function scpAuthRoutes(d: AppDeps): Router {
  const router = Router();

  // ## Setup (only while no agent exists). Setup and sign-in POSTs are limited per IP: scp-routes.ts.
  router.get('/setup', async (req, res) => {
    if (!(await needsSetup(ctxFrom(req, res)))) throw new NotFound('Setup has already been completed.', 'SETUP_DONE');
    await render(req, res, 'scp/auth/setup', {}, { title: 'Set up Tessera' });
  });
  router.post('/setup', async (req, res) => {
    try {
      const agent = await createFirstAdmin(ctxFrom(req, res), req.body);
      await startAgentSession(req, agent, deps(req).clock());
      flash(req, 'success', 'Welcome! Your administrator account is ready.');
      await saveSession(req);
      res.redirect(303, '/scp');
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const { password: _p, ...values } = req.body ?? {};
      await render(req, res, 'scp/auth/setup', { errors: err.fields, values }, { status: 422, title: 'Set up Tessera' });
    }
  });

  // ## Sign in / out
  router.get('/login', async (req, res) => {
    if (await needsSetup(ctxFrom(req, res))) return res.redirect(303, '/scp/setup');
    if (res.locals.actor?.kind === 'agent') return res.redirect(303, safeNext(req.query.next, '/scp', '/scp'));
    await render(req, res, 'scp/auth/login', { next: safeNext(req.query.next, '/scp', '') }, { title: 'Sign in' });
  });
  router.post('/login', async (req, res) => {
    try {
      const agent = await signInAgent(ctxFrom(req, res), req.body);
      const step = await secondFactorStep(ctxFrom(req, res), agent);
      const next = safeNext(req.body?.next, '/scp', '/scp');
      if (step === 'verify') {
        await startPendingTwoFactor(req, agent, deps(req).clock());
        return res.redirect(303, `/scp/2fa?next=${encodeURIComponent(next)}`);
      }
      await startAgentSession(req, agent, deps(req).clock());
      res.redirect(303, step === 'enrol' ? '/scp/2fa/setup' : next);
    } catch (err) {
      const e = err as { status?: number; fields?: Record<string, string>; message?: string };
      if (e.status !== 401 && e.status !== 422) throw err;
      await render(req, res, 'scp/auth/login', {
        values: { login: typeof req.body?.login === 'string' ? req.body.login : '' },
        errors: e.fields ?? {},
        error: e.status === 401 ? e.message : undefined,
        next: safeNext(req.body?.next, '/scp', ''),
      }, { status: e.status, title: 'Sign in' });
    }
  });
  router.post('/logout', async (req, res) => {
    const agentId = req.session?.agentId;
    if (agentId && req.body?.everywhere === '1') await destroyOtherSessions(deps(req).db, { agentId }, req.sessionID);
    await destroySession(req);
    res.clearCookie('tessera_scp', { path: '/scp' });
    res.redirect(303, '/scp/login');
  });
  return router;
}
