/** Session middleware per area: separate cookies for the portal and the agent panel, one DB store. */
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { AppDeps } from './deps.ts';
import { KnexSessionStore } from './session-store.ts';

declare module 'express-session' {
  interface SessionData {
    agentId?: number;
    userId?: number;
    /** Tickets this portal session may read (email + number check, or an access link). */
    ticketIds?: number[];
    createdAt?: number;
    flash?: { type: string; message: string }[];
    pending2fa?: { agentId: number; at: number };
    /** The agent's role when the session id was last issued; a change rotates the id (scp-auth.ts). */
    role?: 'admin' | 'agent';
  }
}

/** Builds the session middleware for an area (`portal` cookie on '/', `scp` cookie on '/scp'). */
export function sessionFor(area: 'portal' | 'scp', d: AppDeps, store: KnexSessionStore, idleMinutes = 120): RequestHandler {
  return session({
    name: area === 'scp' ? 'tessera_scp' : 'tessera_portal',
    secret: d.config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: d.config.trustProxy !== undefined,
    cookie: {
      path: area === 'scp' ? '/scp' : '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: d.config.publicUrl.startsWith('https://'),
      maxAge: idleMinutes * 60_000,
    },
  });
}

/** Regenerates the session id (login, privilege change), keeping nothing from before. */
export function regenerateSession(req: Parameters<RequestHandler>[0]): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

/** Saves the session now (before a redirect that depends on it). */
export function saveSession(req: Parameters<RequestHandler>[0]): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

export function destroySession(req: Parameters<RequestHandler>[0]): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
}
