/**
 * The permission matrix: for every route the app registers, what each kind of actor gets.
 * permission-matrix.test.ts fails on a route without a row here (and on a row whose route is gone).
 *
 * Adding a route? Add a row: `method` and `path` exactly as registered (e.g. '/scp/tickets/:id'),
 * `url` to fill in the parameters from the fixtures (see MatrixFixtures), a `body` for POSTs (the
 * CSRF token is added for you), and `expect` with one outcome per actor. An outcome is the status,
 * and for a redirect the target path without its query: '200', '404', '303 /scp/login'.
 * Prefer a body that would be *accepted* by an allowed actor (so the row proves the refusal of the
 * others is about permission, not input), unless that changes state other rows depend on: then set
 * `fresh: true` (a new session for that call) or send input the service refuses (422).
 */
import { ACTORS, type ActorName, type MatrixFixtures } from './permission-matrix-support.ts';

export type Outcome = string;

export interface MatrixRow {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ALL';
  path: string;
  url?: (f: MatrixFixtures) => string;
  body?: (f: MatrixFixtures) => Record<string, string> | { json: unknown };
  /** Sign in anew for this call (for routes that end or change the session). */
  fresh?: boolean;
  expect: Record<ActorName, Outcome>;
  /** Why the outcome is what it is, when it is not obvious. */
  why?: string;
}

export const OK = '200';
export const NO_CONTENT = '204';
export const FORBIDDEN = '403';
export const NOT_FOUND = '404';
export const INVALID = '422';
/** Sent to the agent sign-in page (the agent panel's guard). */
export const SCP_LOGIN = '303 /scp/login';

/** The same outcome for every actor. */
export function everyone(o: Outcome): Record<ActorName, Outcome> {
  return Object.fromEntries(ACTORS.map((a) => [a, o])) as Record<ActorName, Outcome>;
}

/** Agent panel pages: people without an agent session go to sign in; agents get `o` (overridable). */
export function agentsOnly(o: Outcome, overrides: Partial<Record<ActorName, Outcome>> = {}): Record<ActorName, Outcome> {
  return { anonymous: SCP_LOGIN, user: SCP_LOGIN, otherUser: SCP_LOGIN, otherDeptAgent: o, agent: o, admin: o, ...overrides };
}

/** Admin pages: non-admin agents get 403. */
export function adminsOnly(o: Outcome): Record<ActorName, Outcome> {
  return agentsOnly(FORBIDDEN, { admin: o });
}

const WRONG = 'not the password';

export const MATRIX: MatrixRow[] = [
  // ## Probes and CSP reports
  { method: 'GET', path: '/healthz', expect: everyone(OK) },
  { method: 'GET', path: '/readyz', expect: everyone(OK) },
  { method: 'POST', path: '/csp-report', body: () => ({ json: { 'csp-report': { 'violated-directive': 'script-src' } } }), expect: everyone(NO_CONTENT) },

  // ## Portal
  { method: 'GET', path: '/', expect: everyone(OK) },

  // ## Agent panel: setup, sign in and out
  { method: 'GET', path: '/scp/setup', expect: everyone(NOT_FOUND), why: 'setup exists only while no agent exists' },
  { method: 'POST', path: '/scp/setup', body: () => ({ name: 'Mallory', email: 'mallory@example.com', username: 'mallory', password: 'a long enough passphrase' }), expect: everyone(NOT_FOUND) },
  { method: 'GET', path: '/scp/login', expect: agentsOnly('303 /scp', { anonymous: OK, user: OK, otherUser: OK }) },
  { method: 'POST', path: '/scp/login', body: () => ({ login: '', password: '' }), expect: everyone(INVALID) },
  { method: 'POST', path: '/scp/logout', fresh: true, expect: everyone(SCP_LOGIN) },
  { method: 'GET', path: '/scp', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/admin', expect: adminsOnly(OK) },

  // ## Agent account (public part)
  { method: 'GET', path: '/scp/password/forgot', expect: everyone(OK) },
  { method: 'POST', path: '/scp/password/forgot', body: () => ({ login: 'nobody-at-all' }), expect: everyone('303 /scp/password/forgot') },
  { method: 'GET', path: '/scp/password/reset', url: () => '/scp/password/reset?token=not-a-token', expect: everyone(NOT_FOUND) },
  { method: 'POST', path: '/scp/password/reset', body: () => ({ token: 'not-a-token', password: 'a brand new passphrase', password_confirm: 'a brand new passphrase' }), expect: everyone(NOT_FOUND) },
  { method: 'GET', path: '/scp/2fa', expect: everyone(SCP_LOGIN), why: 'only a session whose password step passed may see it' },
  { method: 'POST', path: '/scp/2fa', body: () => ({ code: '123456' }), expect: everyone(SCP_LOGIN) },

  // ## Agent account (signed in)
  { method: 'GET', path: '/scp/profile', expect: agentsOnly(OK) },
  { method: 'POST', path: '/scp/profile', body: () => ({ name: '' }), expect: agentsOnly(INVALID) },
  { method: 'POST', path: '/scp/profile/password', body: () => ({ current_password: WRONG, password: 'a brand new passphrase', password_confirm: 'a brand new passphrase' }), expect: agentsOnly(INVALID) },
  { method: 'GET', path: '/scp/2fa/setup', expect: agentsOnly(OK) },
  { method: 'POST', path: '/scp/2fa/setup', body: () => ({ code: 'abc' }), expect: agentsOnly(INVALID) },
  { method: 'POST', path: '/scp/2fa/recovery-codes', body: () => ({ current_password: WRONG }), expect: agentsOnly(INVALID) },
  { method: 'POST', path: '/scp/2fa/disable', body: () => ({ current_password: WRONG }), expect: agentsOnly(INVALID) },

  // ## Agent panel: list pages every agent may open (rows with their actions: to do, see PENDING)
  { method: 'GET', path: '/scp/tickets', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/reports', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/tickets.csv', expect: agentsOnly(OK), why: 'the export shows only tickets the agent may see (checked by the tickets tests)' },

  // ## Admin area: every page is for admins only (requireAdmin on the router)
  ...['departments', 'sla-plans', 'schedules', 'help-topics', 'priorities', 'teams', 'agents', 'settings', 'audit', 'mail', 'api-keys'].map(
    (entity): MatrixRow => ({ method: 'GET', path: `/scp/admin/${entity}`, expect: adminsOnly(OK) }),
  ),

  // ## Portal: public forms
  { method: 'GET', path: '/tickets/new', expect: everyone(OK) },
  { method: 'GET', path: '/tickets/status', expect: everyone(OK) },
];

/**
 * Routes that exist but whose rows are still to be written (by the lead, once every area has
 * landed). Each is a known gap, listed so the suite says so; the test fails on any route that is in
 * neither MATRIX nor here, and on an entry here that has a row or no longer exists.
 */
export const PENDING: string[] = [
  'GET /api/v1/tickets',
  'POST /api/v1/tickets',
  'GET /api/v1/tickets/:number',
  'POST /api/v1/tickets/:number/:action',
  'POST /api/tickets.:format',
  'POST /api/http.php/tickets.:format',
  'GET /scp/tickets/new',
  'POST /scp/tickets',
  'GET /scp/tickets/:id',
  'POST /scp/tickets/:id/reply',
  'POST /scp/tickets/:id/note',
  'POST /scp/tickets/:id/assign',
  'POST /scp/tickets/:id/claim',
  'POST /scp/tickets/:id/release',
  'POST /scp/tickets/:id/transfer',
  'POST /scp/tickets/:id/priority',
  'POST /scp/tickets/:id/sla',
  'POST /scp/tickets/:id/due',
  'POST /scp/tickets/:id/status',
  'POST /scp/tickets/:id/edit',
  'GET /scp/attachments/:id',
  'GET /scp/reports.csv',
  'GET /scp/admin/departments/new',
  'POST /scp/admin/departments',
  'POST /scp/admin/departments/new',
  'GET /scp/admin/departments/:id',
  'POST /scp/admin/departments/:id',
  'POST /scp/admin/departments/:id/:action',
  'GET /scp/admin/sla-plans/new',
  'POST /scp/admin/sla-plans',
  'POST /scp/admin/sla-plans/new',
  'GET /scp/admin/sla-plans/:id',
  'POST /scp/admin/sla-plans/:id',
  'POST /scp/admin/sla-plans/:id/:action',
  'GET /scp/admin/schedules/new',
  'POST /scp/admin/schedules',
  'POST /scp/admin/schedules/new',
  'GET /scp/admin/schedules/:id',
  'POST /scp/admin/schedules/:id',
  'POST /scp/admin/schedules/:id/:action',
  'GET /scp/admin/help-topics/new',
  'POST /scp/admin/help-topics',
  'POST /scp/admin/help-topics/new',
  'GET /scp/admin/help-topics/:id',
  'POST /scp/admin/help-topics/:id',
  'POST /scp/admin/help-topics/:id/:action',
  'GET /scp/admin/priorities/new',
  'POST /scp/admin/priorities',
  'POST /scp/admin/priorities/new',
  'GET /scp/admin/priorities/:id',
  'POST /scp/admin/priorities/:id',
  'POST /scp/admin/priorities/:id/:action',
  'GET /scp/admin/teams/new',
  'POST /scp/admin/teams',
  'POST /scp/admin/teams/new',
  'GET /scp/admin/teams/:id',
  'POST /scp/admin/teams/:id',
  'POST /scp/admin/teams/:id/:action',
  'GET /scp/admin/agents/new',
  'POST /scp/admin/agents',
  'POST /scp/admin/agents/new',
  'GET /scp/admin/agents/:id',
  'POST /scp/admin/agents/:id',
  'POST /scp/admin/agents/:id/:action',
  'POST /scp/admin/settings',
  'GET /scp/admin/mail/:id',
  'POST /scp/admin/mail/:id/retry',
  'POST /scp/admin/mail/:id/discard',
  'POST /scp/admin/api-keys',
  'POST /scp/admin/api-keys/new',
  'GET /scp/admin/api-keys/new',
  'GET /scp/admin/api-keys/:id',
  'POST /scp/admin/api-keys/:id',
  'POST /scp/admin/api-keys/:id/:action',
  'POST /tickets',
  'POST /tickets/status',
  'GET /tickets/access',
  'GET /tickets/:number/opened',
  'GET /tickets/:number',
  'POST /tickets/:number/reply',
  'POST /tickets/:number/close',
  'GET /attachments/:id',
];
