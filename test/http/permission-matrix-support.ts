/**
 * The permission matrix harness: lists every route the Express app registers, signs in one client
 * per kind of actor, and calls a route as each of them. The expectations live in
 * permission-matrix.routes.ts; the test is permission-matrix.test.ts.
 */
import type express from 'express';
import * as cheerio from 'cheerio';
import { createAccessToken } from '../../src/domain/auth/access-tokens.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, buildUser, TEST_PASSWORD } from '../factories/index.ts';
import { client, loginAsAgent, type Client } from '../support/http.ts';
import type { TestApp } from '../support/test-app.ts';

export const ACTORS = ['anonymous', 'user', 'otherUser', 'otherDeptAgent', 'agent', 'admin'] as const;
export type ActorName = (typeof ACTORS)[number];

export interface RegisteredRoute {
  method: string;
  path: string;
}

type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown; name?: string };

function joinPath(prefix: string, p: string): string {
  const joined = `${prefix}/${p}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/**
 * Every (method, path) the app answers through a route, found by walking app.router's stack
 * recursively (Express 5 / router 2: `layer.route` for routes, `layer.handle.stack` for mounted
 * routers, whose mount path is `layer.rawPath`). A router mounted on a RegExp or a path list cannot be
 * named, so it fails loudly here rather than being skipped.
 */
export function listRoutes(app: express.Application): RegisteredRoute[] {
  const out: RegisteredRoute[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = ([] as string[]).concat(layer.route.path);
        const methods = Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m]).map((m) => (m === '_all' ? 'ALL' : m.toUpperCase()));
        for (const p of paths) for (const method of methods) out.push({ method, path: joinPath(prefix, p) });
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== 'string') throw new Error(`a router is mounted on a path the matrix cannot read (${String(layer.rawPath)}); mount it on a string path`);
        walk(layer.handle.stack, joinPath(prefix, layer.rawPath));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  const seen = new Set<string>();
  return out.filter((r) => (seen.has(routeKey(r)) ? false : (seen.add(routeKey(r)), true)));
}

export function routeKey(r: RegisteredRoute): string {
  return `${r.method} ${r.path}`;
}

/** What the rows may refer to when they build URLs and bodies. */
export interface MatrixFixtures {
  /** The agent's department; `ticket` is in it and belongs to `user`. */
  departmentId: number;
  otherDepartmentId: number;
  ticket: { id: number; number: string };
  /** A ticket of `otherUser` (also in the agent's department). */
  otherTicket: { id: number; number: string };
  agentId: number;
  adminId: number;
  userId: number;
}

export interface MatrixActors {
  fixtures: MatrixFixtures;
  /** A client signed in as `actor` (a new session each call when `fresh`). */
  clientFor: (actor: ActorName, fresh?: boolean) => Promise<Client>;
}

/** Opens the ticket page from a real portal access link, so the session is the portal's own. */
async function portalClient(t: TestApp, userId: number, ticketId: number): Promise<Client> {
  const token = await createAccessToken(t.db, { kind: 'portal_access', userId, ticketId, ttlMinutes: 60 }, t.clock());
  const c = client(t.app);
  const res = await c.get(`/tickets/access?token=${encodeURIComponent(token)}`);
  if (res.status >= 400) throw new Error(`portal access link refused (${res.status}): the matrix needs GET /tickets/access`);
  return c;
}

/** Builds the people and tickets of the matrix and a way to get a signed-in client for each actor. */
export async function setUpActors(t: TestApp): Promise<MatrixActors> {
  const departmentId = await buildDepartment(t.db);
  const otherDepartmentId = await buildDepartment(t.db);
  const user = await buildUser(t.db);
  const otherUser = await buildUser(t.db);
  const ticket = await buildTicket(t.db, { user_id: user.id, department_id: departmentId });
  const otherTicket = await buildTicket(t.db, { user_id: otherUser.id, department_id: departmentId });
  const agent = await buildAgent(t.db, { department_id: departmentId });
  const otherDeptAgent = await buildAgent(t.db, { department_id: otherDepartmentId });
  const admin = await buildAdmin(t.db);
  const fixtures: MatrixFixtures = { departmentId, otherDepartmentId, ticket, otherTicket, agentId: agent.id, adminId: admin.id, userId: user.id };
  const make: Record<ActorName, () => Promise<Client>> = {
    anonymous: async () => client(t.app),
    user: () => portalClient(t, user.id, ticket.id),
    otherUser: () => portalClient(t, otherUser.id, otherTicket.id),
    otherDeptAgent: () => loginAsAgent(t.app, otherDeptAgent.username, TEST_PASSWORD),
    agent: () => loginAsAgent(t.app, agent.username, TEST_PASSWORD),
    admin: () => loginAsAgent(t.app, admin.username, TEST_PASSWORD),
  };
  const cache = new Map<ActorName, Client>();
  return {
    fixtures,
    clientFor: async (actor, fresh = false) => {
      await t.db('rate_limits').delete(); // signing in many times from one IP is the harness, not an attack
      if (fresh) return make[actor]();
      if (!cache.has(actor)) cache.set(actor, await make[actor]());
      return cache.get(actor)!;
    },
  };
}

/** A page in each area that shows a form, to take the session's CSRF token from. */
const TOKEN_PAGES: Record<'scp' | 'portal', string> = { scp: '/scp/password/forgot', portal: '/tickets/status' };

function areaOf(path: string): 'scp' | 'portal' | null {
  if (path.startsWith('/scp')) return 'scp';
  if (path.startsWith('/api') || ['/healthz', '/readyz', '/csp-report'].includes(path)) return null;
  return 'portal';
}

const tokens = new WeakMap<Client, Record<string, string>>();

async function csrfTokenFor(c: Client, area: 'scp' | 'portal'): Promise<string> {
  const known = tokens.get(c) ?? {};
  if (known[area]) return known[area];
  const res = await c.get(TOKEN_PAGES[area]);
  const token = cheerio.load(res.text)('input[name=_csrf]').first().val();
  if (typeof token !== 'string') throw new Error(`no CSRF token on ${TOKEN_PAGES[area]} (${res.status})`);
  tokens.set(c, { ...known, [area]: token });
  return token;
}

export interface CallResult {
  status: number;
  location?: string;
}

/**
 * Calls `url` with `method` on the client, with the session's CSRF token on state-changing requests
 * (as the browser's form would send it), and a form or JSON body.
 */
export async function callAs(c: Client, method: string, url: string, body?: Record<string, string> | { json: unknown }): Promise<CallResult> {
  const path = url.split('?')[0];
  const m = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  const area = areaOf(path);
  // Fetch the token first: the client attaches its cookies when the request is created.
  const token = m !== 'get' && area ? await csrfTokenFor(c, area) : undefined;
  let req = c[m](url).redirects(0);
  if (token) req = req.set('x-csrf-token', token);
  if (body && 'json' in body) req = req.set('Content-Type', 'application/json').send(JSON.stringify(body.json));
  else if (m !== 'get') req = req.type('form').send(body ?? {});
  const res = await req;
  const location = res.headers.location ? String(res.headers.location).split('?')[0] : undefined;
  return { status: res.status, location };
}
