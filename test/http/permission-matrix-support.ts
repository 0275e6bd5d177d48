/**
 * The permission matrix harness: lists every route the Express app registers, builds the data the
 * routes' parameters name (tickets, an attachment, admin entities, mail, API keys), signs in one
 * client per kind of actor, and calls a route as each of them. The expectations live in
 * permission-matrix.routes.ts; the test is permission-matrix.test.ts.
 */
import type express from 'express';
import type { Knex } from 'knex';
import * as cheerio from 'cheerio';
import { toDbDate } from '../../src/db/dialect.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { createAccessToken } from '../../src/domain/auth/access-tokens.ts';
import { getSettingsForm } from '../../src/domain/settings/settings-admin-service.ts';
import { storeAttachments } from '../../src/domain/tickets/attachment-service.ts';
import {
  buildAdmin, buildAgent, buildDepartment, buildPriority, buildRole, buildSlaPlan, buildTicket, buildTopic, buildUser, TEST_PASSWORD, unique,
} from '../factories/index.ts';
import { client, loginAsAgent, type Client } from '../support/http.ts';
import type { TestApp } from '../support/test-app.ts';

/**
 * The kinds of caller. `apiCreateKey` and `apiManageKey` are clients without a session that send an
 * X-API-Key: one may only create tickets, the other only manage them (so each is the "key without
 * the permission" on the other's routes).
 */
export const ACTORS = ['anonymous', 'user', 'otherUser', 'otherDeptAgent', 'agent', 'admin', 'apiCreateKey', 'apiManageKey'] as const;
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

/** The admin sections with an id in the URL (the shared CRUD pattern). */
export const ADMIN_ENTITIES = ['roles', 'departments', 'sla-plans', 'schedules', 'help-topics', 'priorities', 'teams', 'agents', 'api-keys', 'canned-responses', 'filters', 'ticket-fields', 'organizations', 'bans', 'kb-categories', 'webhooks'] as const;
export type AdminEntity = (typeof ADMIN_ENTITIES)[number];

/** The agent ticket actions (POST /scp/tickets/:id/<action>). */
export const TICKET_ACTIONS = ['reply', 'note', 'assign', 'claim', 'release', 'transfer', 'priority', 'sla', 'due', 'status', 'edit', 'cc', 'uncc', 'requester', 'merge', 'task', 'taskset', 'fields'] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

type TicketRef = { id: number; number: string };

/** What the rows may refer to when they build URLs and bodies. */
export interface MatrixFixtures {
  /** The agent's department; `ticket` is in it and belongs to `user`. */
  departmentId: number;
  otherDepartmentId: number;
  ticket: TicketRef;
  /** A ticket of `otherUser` (also in the agent's department). */
  otherTicket: TicketRef;
  /** One ticket per agent action (in the agent's department, of `user`), so actions do not disturb each other. */
  actionTickets: Record<TicketAction, TicketRef>;
  /** Tickets to delete (in the agent's department, of `user`): from its page, over the API. */
  deleteTickets: { page: TicketRef; api: TicketRef };
  /** A ticket of `user` (in the agent's department) and its requester's message, to edit (admins only). */
  entryEdit: { ticketId: number; messageId: number };
  /** An attachment on the first message of `ticket` (the user may download it). */
  attachmentId: number;
  agentId: number;
  adminId: number;
  userId: number;
  userEmail: string;
  /** A saved view of the ticket's agent (others get 404). */
  agentView: number;
  /** A view the ticket's agent shares with every agent (others see it; only they and admins change it). */
  sharedView: number;
  /** A user of the directory with no tickets (edited, banned and unbanned by the user-page rows). */
  directoryUser: { id: number; email: string };
  /** Values for ticket actions: a priority, an SLA plan and a help topic other than the ticket's. */
  priorityId: number;
  slaPlanId: number;
  topicId: number;
  /** Admin entities to open and edit, and others (unused, so deletable) for POST /:id/:action. */
  edit: Record<AdminEntity, number>;
  remove: Record<AdminEntity, number>;
  /** Outbox rows: one to show, one to retry, one to discard (all 'failed'). */
  mail: { show: number; retry: number; discard: number };
  /** A delivery of the webhook `edit.webhooks` (its log's rows: shown, redelivered). */
  webhookDelivery: number;
  /** Knowledge base: categories and articles (an internal one, one to edit, one to delete). */
  kb: { publicCategoryId: number; internalCategoryId: number; publicArticleId: number; internalArticleId: number; editArticleId: number; removeArticleId: number };
  /** The settings form as it stands (saving it changes nothing). */
  settingsForm: Record<string, string>;
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

/** A client without a session that sends `key` with every request. */
function apiClient(t: TestApp, key: string): Client {
  return client(t.app).set('X-API-Key', key) as unknown as Client;
}

async function attach(t: TestApp, ticketId: number, filename: string): Promise<number> {
  const entry = await t.db('thread_entries').where({ ticket_id: ticketId, kind: 'message' }).orderBy('id').first('id');
  const [id] = await t.db.transaction((trx) => storeAttachments(trx, ticketId, entry.id, [{ filename, contentType: 'text/plain', data: Buffer.from('hello') }], t.clock()));
  return id;
}

async function entryToEdit(t: TestApp, userId: number, departmentId: number): Promise<{ ticketId: number; messageId: number }> {
  const ticket = await buildTicket(t.db, { user_id: userId, department_id: departmentId });
  const entry = await t.db('thread_entries').where({ ticket_id: ticket.id, kind: 'message' }).orderBy('id').first('id');
  return { ticketId: ticket.id, messageId: Number(entry.id) };
}

async function buildOutbox(db: Knex, now: Date): Promise<number> {
  const ts = toDbDate(now);
  const [id] = await db('outbox').insert({
    template: 'ticket_opened', to_address: `${unique('to')}@customers.test`, subject: 'Matrix mail', text_body: 'Hello',
    message_id: `<${unique('m')}@helpdesk.test>`, status: 'failed', attempts: 3, next_attempt_at: ts, last_error: 'refused', created_at: ts,
  });
  return id;
}

/** A failed delivery of webhook `webhookId`. */
async function buildWebhookDelivery(db: Knex, webhookId: number, now: Date): Promise<number> {
  const ts = toDbDate(now);
  const [id] = await db('webhook_deliveries').insert({
    webhook_id: webhookId, event: 'created', actor: '{"kind":"system","id":null}', data: '{}', occurred_at: ts, payload: '{"id":0}',
    status: 'failed', attempts: 8, next_attempt_at: ts, last_status_code: 500, last_error: 'HTTP 500', finished_at: ts, created_at: ts,
  });
  return id;
}

/** One of each admin entity, unused by anything else. */
async function buildAdminEntities(t: TestApp): Promise<Record<AdminEntity, number>> {
  const ts = toDbDate(t.clock());
  const [scheduleId] = await t.db('schedules').insert({ name: unique('Schedule '), kind: '24x7', timezone: 'UTC', is_active: true, created_at: ts, updated_at: ts });
  const [teamId] = await t.db('teams').insert({ name: unique('Team '), is_active: true, created_at: ts, updated_at: ts });
  const key = await createApiKey(t.ctx(), { allowedIp: '10.0.0.1', note: 'matrix', canCreateTickets: true });
  return {
    roles: await buildRole(t.db, ['ticket.reply']),
    departments: await buildDepartment(t.db),
    'sla-plans': await buildSlaPlan(t.db),
    schedules: scheduleId,
    'help-topics': await buildTopic(t.db),
    priorities: await buildPriority(t.db),
    teams: teamId,
    agents: (await buildAgent(t.db, { department_id: await buildDepartment(t.db) })).id,
    'api-keys': key.id,
    'canned-responses': (await t.db('canned_responses').insert({ title: unique('Canned '), body: 'Hello %{user.name}', department_id: null, is_active: true, created_at: ts, updated_at: ts }))[0],
    'ticket-fields': (await t.db('ticket_fields').insert({ label: 'Matrix field', name: unique('matrix_').toLowerCase().replace(/[^a-z0-9_]/g, '_'), type: 'text', created_at: ts, updated_at: ts }))[0],
    filters: (await t.db('ticket_filters').insert({ name: unique('Filter '), rules: JSON.stringify([{ field: 'email', op: 'ends', value: '@matrix.test' }]), no_autoresponse: true, created_at: ts, updated_at: ts }))[0],
    organizations: (await t.db('organizations').insert({ name: unique('Org '), auto_cc: 'none', is_active: true, created_at: ts, updated_at: ts }))[0],
    bans: (await t.db('bans').insert({ pattern: `${unique('banned')}@matrix.test`.toLowerCase(), created_at: ts }))[0],
    'kb-categories': (await t.db('kb_categories').insert({ name: unique('Category '), is_public: true, sort_order: 0, created_at: ts, updated_at: ts }))[0],
    webhooks: (await t.db('webhooks').insert({ name: unique('Webhook '), url: 'https://hooks.matrix.test/in', secret: `whsec_${unique('matrix')}`, events: '["created"]', is_active: true, created_at: ts, updated_at: ts }))[0],
  };
}

/** Knowledge base rows: an internal category and article (hidden from the portal), articles to edit and delete. */
async function buildKb(t: TestApp, agentId: number): Promise<MatrixFixtures['kb']> {
  const ts = toDbDate(t.clock());
  const category = async (is_public: boolean) => (await t.db('kb_categories').insert({ name: unique('KB '), is_public, sort_order: 0, created_at: ts, updated_at: ts }))[0];
  const publicCategoryId = await category(true);
  const internalCategoryId = await category(false);
  const article = async (category_id: number, visibility: string) =>
    (await t.db('kb_articles').insert({ category_id, title: unique('Matrix question '), body: 'Matrix answer', visibility, updated_by_agent_id: agentId, created_at: ts, updated_at: ts }))[0];
  return {
    publicCategoryId, internalCategoryId,
    publicArticleId: await article(publicCategoryId, 'public'),
    internalArticleId: await article(publicCategoryId, 'internal'),
    editArticleId: await article(publicCategoryId, 'public'),
    removeArticleId: await article(publicCategoryId, 'public'),
  };
}

/** Form fields as a browser sends them: checkboxes 'on' when ticked and absent otherwise. */
function asForm(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === true) out[k] = 'on';
    else if (v === false || v === null || v === undefined) continue;
    else out[k] = String(v);
  }
  return out;
}

/** Builds the people, tickets and entities of the matrix and a way to get a signed-in client for each actor. */
export async function setUpActors(t: TestApp): Promise<MatrixActors> {
  const departmentId = await buildDepartment(t.db);
  const otherDepartmentId = await buildDepartment(t.db);
  const user = await buildUser(t.db);
  const otherUser = await buildUser(t.db);
  const ticket = await buildTicket(t.db, { user_id: user.id, department_id: departmentId });
  const otherTicket = await buildTicket(t.db, { user_id: otherUser.id, department_id: departmentId });
  const actionTickets = {} as Record<TicketAction, TicketRef>;
  for (const a of TICKET_ACTIONS) actionTickets[a] = await buildTicket(t.db, { user_id: user.id, department_id: departmentId });
  const agent = await buildAgent(t.db, { department_id: departmentId });
  const otherDeptAgent = await buildAgent(t.db, { department_id: otherDepartmentId });
  const admin = await buildAdmin(t.db);
  const createKey = await createApiKey(t.ctx(), { allowedIp: '*', note: 'matrix: create only', canCreateTickets: true, canManageTickets: false });
  const manageKey = await createApiKey(t.ctx(), { allowedIp: '*', note: 'matrix: manage only', canCreateTickets: false, canManageTickets: true });
  const edit = await buildAdminEntities(t);
  const fixtures: MatrixFixtures = {
    departmentId, otherDepartmentId, ticket, otherTicket, actionTickets,
    deleteTickets: { page: await buildTicket(t.db, { user_id: user.id, department_id: departmentId }), api: await buildTicket(t.db, { user_id: user.id, department_id: departmentId }) },
    attachmentId: await attach(t, ticket.id, 'matrix.txt'),
    entryEdit: await entryToEdit(t, user.id, departmentId),
    agentId: agent.id, adminId: admin.id, userId: user.id, userEmail: user.email,
    directoryUser: await buildUser(t.db),
    agentView: (await t.db('saved_queues').insert({ agent_id: agent.id, name: 'Matrix own view', params: '{"queue":"open"}', created_at: toDbDate(t.clock()) }))[0],
    sharedView: (await t.db('saved_queues').insert({ agent_id: agent.id, name: 'Matrix shared view', params: '{"queue":"open"}', is_shared: true, created_at: toDbDate(t.clock()) }))[0],
    priorityId: await buildPriority(t.db), slaPlanId: await buildSlaPlan(t.db), topicId: await buildTopic(t.db),
    edit,
    webhookDelivery: await buildWebhookDelivery(t.db, edit.webhooks, t.clock()),
    remove: await buildAdminEntities(t),
    mail: { show: await buildOutbox(t.db, t.clock()), retry: await buildOutbox(t.db, t.clock()), discard: await buildOutbox(t.db, t.clock()) },
    settingsForm: asForm(await getSettingsForm(t.ctx(admin.actor))),
    kb: await buildKb(t, admin.id),
  };
  const make: Record<ActorName, () => Promise<Client>> = {
    anonymous: async () => client(t.app),
    user: () => portalClient(t, user.id, ticket.id),
    otherUser: () => portalClient(t, otherUser.id, otherTicket.id),
    otherDeptAgent: () => loginAsAgent(t.app, otherDeptAgent.username, TEST_PASSWORD),
    agent: () => loginAsAgent(t.app, agent.username, TEST_PASSWORD),
    admin: () => loginAsAgent(t.app, admin.username, TEST_PASSWORD),
    apiCreateKey: async () => apiClient(t, createKey.key),
    apiManageKey: async () => apiClient(t, manageKey.key),
  };
  const cache = new Map<ActorName, Client>();
  return {
    fixtures,
    clientFor: async (actor, fresh = false) => {
      await t.db('rate_limits').delete(); // many sign-ins and calls from one IP are the harness, not an attack
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

/** A request body: form fields, JSON, or raw bytes with their content type. */
export type Body = Record<string, string> | { json: unknown } | { raw: string; type: string };

/**
 * Calls `url` with `method` on the client, with the session's CSRF token on state-changing requests
 * (as the browser's form would send it), and a form, JSON or raw body.
 */
export async function callAs(c: Client, method: string, url: string, body?: Body): Promise<CallResult> {
  const path = url.split('?')[0];
  const m = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  const area = areaOf(path);
  // Fetch the token first: the client attaches its cookies when the request is created.
  const token = m !== 'get' && area ? await csrfTokenFor(c, area) : undefined;
  let req = c[m](url).redirects(0);
  if (token) req = req.set('x-csrf-token', token);
  if (body && 'json' in body) req = req.set('Content-Type', 'application/json').send(JSON.stringify(body.json));
  else if (body && 'raw' in body && typeof body.raw === 'string') req = req.set('Content-Type', String(body.type)).send(body.raw);
  else if (m !== 'get') req = req.type('form').send(body ?? {});
  const res = await req;
  const location = res.headers.location ? String(res.headers.location).split('?')[0] : undefined;
  return { status: res.status, location };
}
