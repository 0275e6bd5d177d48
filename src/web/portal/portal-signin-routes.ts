/** Portal sign-in with an email link: every ticket of the user (and of their organization when it shares them), without a password. Rules in ticket-portal-service.ts. */
import { Router, type Request, type Response } from 'express';
import { actorOf, ctxFrom, type AppDeps } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { formRateLimited, rateLimitedText, single } from '../shared/area.ts';
import { regenerateSession, saveSession } from '../shared/session.ts';
import { ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import * as portal from '../../domain/tickets/ticket-portal-service.ts';

async function renderSignIn(req: Request, res: Response, model: { errors?: FieldErrors; values?: Record<string, unknown> } = {}, status = 200): Promise<void> {
  const actor = actorOf(res);
  const signedIn = actor.kind === 'user' && actor.ticketIds === undefined ? { email: actor.email, name: actor.name } : null;
  await render(req, res, 'portal/signin', { ...model, signedIn, validMinutes: portal.SIGNIN_LINK_TTL_MINUTES }, { status, title: 'Sign in' });
}

function invalidLink(req: Request, res: Response): void {
  flash(req, 'error', 'That sign-in link is not valid: it was used already or has expired. Ask for a new one below.');
  res.redirect(303, '/signin');
}

export function portalSignInRoutes(_d: AppDeps): Router {
  const router = Router();
  router.get('/signin', (req, res) => renderSignIn(req, res));
  router.post('/signin', async (req, res) => {
    const email = typeof req.body?.email === 'string' ? req.body.email.slice(0, 191) : '';
    const limited = formRateLimited(res);
    if (limited) return renderSignIn(req, res, { errors: { _: rateLimitedText(limited, 'Too many sign-in requests from your network.') }, values: { email } }, 429);
    try {
      await portal.requestSignInLink(ctxFrom(req, res), { email });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      return renderSignIn(req, res, { errors: err.fields, values: { email } }, 422);
    }
    flash(req, 'info', `If we know ${email.trim().toLowerCase()}, we have emailed it a link to sign in. Check your inbox (and spam folder); the link works once, for ${portal.SIGNIN_LINK_TTL_MINUTES} minutes.`);
    res.redirect(303, '/signin');
  });
  // The link from the mail: a page with a button (a mail scanner that opens links does not spend it)…
  router.get('/signin/link', async (req, res) => {
    const token = single(req.query.token);
    const signIn = await portal.useSignInLink(ctxFrom(req, res), token, false);
    if (!signIn) return invalidLink(req, res);
    await render(req, res, 'portal/signin-confirm', { email: signIn.email, token }, { title: 'Sign in' });
  });
  // …whose POST uses it up: a new session for every ticket of that user.
  router.post('/signin/link', async (req, res) => {
    const signIn = await portal.useSignInLink(ctxFrom(req, res), typeof req.body?.token === 'string' ? req.body.token : undefined, true);
    if (!signIn) return invalidLink(req, res);
    await regenerateSession(req);
    req.session.userId = signIn.userId;
    req.session.ticketIds = [];
    req.session.allTickets = true;
    await saveSession(req);
    flash(req, 'success', 'You are signed in: here are all your tickets.');
    res.redirect(303, '/tickets');
  });
  return router;
}
