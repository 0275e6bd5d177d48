/**
 * Agent panel: profile, password change, forgotten password, two-factor sign-in.
 * Mounted before the panel's requireAgent (the forgot/reset pages and the 2FA step are for people
 * who are not signed in yet), so every signed-in page here names requireAgent itself.
 */
import { Router, type Request, type Response } from 'express';
import { changeAgentPassword, checkPasswordResetToken, getAgentProfile, requestPasswordReset, resetPassword, updateAgentProfile } from '../../domain/auth/agent-account-service.ts';
import { beginTwoFactorEnrolment, confirmTwoFactorEnrolment, disableTwoFactor, getTwoFactorStatus, mustEnrolTwoFactor, regenerateRecoveryCodes, verifySecondFactor } from '../../domain/auth/two-factor-service.ts';
import { Conflict, Unauthenticated, ValidationFailed } from '../../domain/errors.ts';
import type { Settings } from '../../domain/settings/settings-service.ts';
import { ctxFrom, type AppDeps } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { safeNext, single } from '../shared/area.ts';
import { regenerateSession, saveSession } from '../shared/session.ts';
import { destroyOtherSessions } from '../shared/session-store.ts';
import { requireAgent } from './scp-auth.ts';
import { startAgentSession } from './scp-auth-routes.ts';

/** A password-confirmation step is abandoned after this long (back to the sign-in page). */
const PENDING_2FA_MS = 10 * 60_000;
/** Paths an agent who must enrol in 2FA may still use. */
const ENROLMENT_PATHS = new Set(['/2fa/setup', '/logout']);

/** Form input without any password fields (never sent back to the browser). */
function withoutSecrets(body: unknown): Record<string, unknown> {
  const { password: _a, password_confirm: _b, current_password: _c, code: _d, _csrf: _e, ...rest } = (body ?? {}) as Record<string, unknown>;
  return rest;
}

/** Re-renders a form with its errors when the service refused the input; anything else propagates. */
async function orFormErrors(req: Request, res: Response, fn: () => Promise<void>, view: string, model: () => Promise<Record<string, unknown>>, title: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    await render(req, res, view, { ...(await model()), errors: err.fields, values: withoutSecrets(req.body) }, { status: 422, title });
  }
}

async function profileModel(req: Request, res: Response): Promise<Record<string, unknown>> {
  const ctx = ctxFrom(req, res);
  return { profile: await getAgentProfile(ctx), twoFactor: await getTwoFactorStatus(ctx) };
}

/** Recovery codes are shown once: never cached. */
async function showRecoveryCodes(req: Request, res: Response, codes: string[]): Promise<void> {
  res.setHeader('Cache-Control', 'no-store');
  await render(req, res, 'scp/account/recovery-codes', { codes }, { title: 'Your recovery codes' });
}

/** The pending second-factor step of this session, or null when absent or too old. */
function pendingOf(req: Request, now: Date): { agentId: number; at: number } | null {
  const p = req.session?.pending2fa;
  return p && now.getTime() - p.at < PENDING_2FA_MS ? p : null;
}

export function scpAccountRoutes(d: AppDeps): Router {
  const router = Router();

  // ## Agents who must use 2FA but have not set it up are held at the enrolment page.
  router.use(async (req, res, next) => {
    if (res.locals.actor?.kind !== 'agent' || (res.locals.settings as Settings | undefined)?.require_2fa === 'none' || ENROLMENT_PATHS.has(req.path)) return next();
    if (!(await mustEnrolTwoFactor(ctxFrom(req, res)))) return next();
    flash(req, 'info', 'Set up two-factor sign-in to continue.');
    res.redirect(303, '/scp/2fa/setup');
  });

  // ## Forgotten password (public). Its POSTs and the 2FA code POST are limited per IP: scp-routes.ts.
  router.get('/password/forgot', async (req, res) => {
    await render(req, res, 'scp/account/forgot', {}, { title: 'Reset your password' });
  });
  router.post('/password/forgot', async (req, res) => {
    await orFormErrors(req, res, async () => {
      await requestPasswordReset(ctxFrom(req, res), req.body);
      // One answer whether or not the account exists.
      flash(req, 'info', 'If an agent account matches, we have emailed it a link to choose a new password. The link works once, for 60 minutes.');
      res.redirect(303, '/scp/password/forgot');
    }, 'scp/account/forgot', async () => ({}), 'Reset your password');
  });
  router.get('/password/reset', async (req, res) => {
    const token = single(req.query.token);
    await checkPasswordResetToken(ctxFrom(req, res), token);
    await render(req, res, 'scp/account/reset', { token }, { title: 'Choose a new password' });
  });
  router.post('/password/reset', async (req, res) => {
    await orFormErrors(req, res, async () => {
      const { agentId } = await resetPassword(ctxFrom(req, res), req.body);
      await destroyOtherSessions(d.db, { agentId }); // every session of that agent ends
      flash(req, 'success', 'Your password has been changed. Sign in with the new one.');
      res.redirect(303, '/scp/login');
    }, 'scp/account/reset', async () => ({ token: single(req.body?.token) ?? '' }), 'Choose a new password');
  });

  // ## Second step of sign-in (password accepted, code pending)
  router.get('/2fa', async (req, res) => {
    if (!pendingOf(req, d.clock())) return res.redirect(303, '/scp/login');
    await render(req, res, 'scp/account/two-factor-verify', { next: safeNext(req.query.next, '/scp', '') }, { title: 'Two-factor sign-in' });
  });
  router.post('/2fa', async (req, res) => {
    const pending = pendingOf(req, d.clock());
    if (!pending) return res.redirect(303, '/scp/login');
    const next = safeNext(req.body?.next, '/scp', '');
    try {
      const agent = await verifySecondFactor(ctxFrom(req, res), pending.agentId, req.body);
      await startAgentSession(req, agent, d.clock()); // new session id: now fully signed in
      res.redirect(303, next || '/scp');
    } catch (err) {
      if (!(err instanceof Unauthenticated || err instanceof ValidationFailed)) throw err;
      if (err instanceof Unauthenticated && err.code !== 'INVALID_CODE') return backToLogin(req, res, err.message);
      await render(req, res, 'scp/account/two-factor-verify', { next, error: err instanceof Unauthenticated ? err.message : undefined, errors: err instanceof ValidationFailed ? err.fields : {} }, { status: err.status, title: 'Two-factor sign-in' });
    }
  });

  // ## Profile and password
  router.get('/profile', requireAgent, async (req, res) => {
    await render(req, res, 'scp/account/profile', await profileModel(req, res), { title: 'Your profile' });
  });
  router.post('/profile', requireAgent, async (req, res) => {
    await orFormErrors(req, res, async () => {
      await updateAgentProfile(ctxFrom(req, res), req.body);
      flash(req, 'success', 'Profile saved.');
      res.redirect(303, '/scp/profile');
    }, 'scp/account/profile', () => profileModel(req, res), 'Your profile');
  });
  router.post('/profile/password', requireAgent, async (req, res) => {
    await orFormErrors(req, res, async () => {
      const { agentId } = await changeAgentPassword(ctxFrom(req, res), req.body);
      await renewSession(req);
      await destroyOtherSessions(d.db, { agentId }, req.sessionID); // other browsers are signed out
      flash(req, 'success', 'Password changed. Your other sessions have been signed out.');
      res.redirect(303, '/scp/profile');
    }, 'scp/account/profile', () => profileModel(req, res), 'Your profile');
  });

  // ## Two-factor setup
  router.get('/2fa/setup', requireAgent, async (req, res) => {
    try {
      await render(req, res, 'scp/account/two-factor-setup', { enrolment: await beginTwoFactorEnrolment(ctxFrom(req, res)) }, { title: 'Set up two-factor sign-in' });
    } catch (err) {
      if (!(err instanceof Conflict)) throw err;
      flash(req, 'info', err.message);
      res.redirect(303, '/scp/profile');
    }
  });
  router.post('/2fa/setup', requireAgent, async (req, res) => {
    await orFormErrors(req, res, async () => {
      const { recoveryCodes } = await confirmTwoFactorEnrolment(ctxFrom(req, res), req.body);
      await renewSession(req); // a stronger sign-in: new session id
      await showRecoveryCodes(req, res, recoveryCodes);
    }, 'scp/account/two-factor-setup', async () => ({ enrolment: await beginTwoFactorEnrolment(ctxFrom(req, res)) }), 'Set up two-factor sign-in');
  });
  router.post('/2fa/recovery-codes', requireAgent, async (req, res) => {
    await orFormErrors(req, res, async () => {
      const { recoveryCodes } = await regenerateRecoveryCodes(ctxFrom(req, res), req.body);
      await showRecoveryCodes(req, res, recoveryCodes);
    }, 'scp/account/profile', () => profileModel(req, res), 'Your profile');
  });
  router.post('/2fa/disable', requireAgent, async (req, res) => {
    await orFormErrors(req, res, async () => {
      await disableTwoFactor(ctxFrom(req, res), req.body);
      flash(req, 'success', 'Two-factor sign-in is off.');
      res.redirect(303, '/scp/profile');
    }, 'scp/account/profile', () => profileModel(req, res), 'Your profile');
  });
  return router;
}

/** Ends an abandoned or refused second step and sends the visitor back to sign in. */
async function backToLogin(req: Request, res: Response, message: string): Promise<void> {
  delete req.session.pending2fa;
  flash(req, 'error', message);
  await saveSession(req);
  res.redirect(303, '/scp/login');
}

/** New session id for the same signed-in agent (privilege change), keeping its start time. */
async function renewSession(req: Request): Promise<void> {
  const { agentId, createdAt, role } = req.session;
  await regenerateSession(req);
  Object.assign(req.session, { agentId, createdAt, role });
  await saveSession(req);
}
