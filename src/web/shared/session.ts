/** Session middleware per area: separate cookies for the portal and the agent panel, one DB store. */
import crypto from 'node:crypto';
import session from 'express-session';
import cookieParser from 'cookie-parser';
import type { RequestHandler } from 'express';
import type { AppDeps } from './deps.ts';
import { KnexSessionStore } from './session-store.ts';

declare module 'express-session' {
  interface SessionData {
    agentId?: number;
    userId?: number;
    /** Tickets this portal session may read (email + number check, or an access link). */
    ticketIds?: number[];
    /** The portal user signed in with their email (a link mailed to them): every ticket of theirs, not only `ticketIds`. */
    allTickets?: boolean;
    createdAt?: number;
    pending2fa?: { agentId: number; at: number };
    /** The agent's role when the session id was last issued; a change rotates the id (scp-auth.ts). */
    role?: 'admin' | 'agent';
  }
}

/** The session cookie of an area. */
export function sessionCookieName(area: 'portal' | 'scp'): string {
  return area === 'scp' ? 'tessera_scp' : 'tessera_portal';
}

/**
 * A new session id: 24 random bytes (express-session's own length), base64url. express-session makes
 * one for every request that comes without a session, and most never store it (a page without a form,
 * a crawler), so the bytes are taken from a pool filled 128 ids at a time from the same CSPRNG, as
 * Node's randomUUID does: one call to the generator per 128 requests instead of one each (~4 % of the
 * portal home page's CPU). Each id's bytes are used once and wiped from the pool.
 */
export function newSessionId(): string {
  if (idOffset >= idPool.length) {
    crypto.randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('base64url', idOffset, idOffset + SESSION_ID_BYTES);
  idPool.fill(0, idOffset, idOffset + SESSION_ID_BYTES);
  idOffset += SESSION_ID_BYTES;
  return id;
}
const SESSION_ID_BYTES = 24;
const idPool = Buffer.alloc(SESSION_ID_BYTES * 128);
let idOffset = idPool.length;

/** Builds the session middleware for an area (`portal` cookie on '/', `scp` cookie on '/scp'). */
export function sessionFor(area: 'portal' | 'scp', d: AppDeps, store: KnexSessionStore, idleMinutes = 120): RequestHandler {
  return session({
    name: sessionCookieName(area),
    secret: d.config.sessionSecret,
    genid: newSessionId,
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

/**
 * Reads the area's signed cookies (the flash messages: render.ts) and lets responses set them. Their
 * key is derived from the session secret, so a flash cookie cannot stand in for a session cookie.
 */
export function signedCookies(d: AppDeps): RequestHandler[] {
  const parse = cookieParser(crypto.createHmac('sha256', d.config.sessionSecret).update('tessera signed cookies').digest('base64url'));
  const secure = d.config.publicUrl.startsWith('https://');
  return [parse, (_req, res, next) => ((res.locals.secureCookies = secure), next())];
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
