/**
 * The permission matrix: for every route the app registers, what each kind of actor gets.
 * permission-matrix.test.ts fails on a route without a row here (and on a row whose route is gone).
 *
 * Adding a route? Add a row: `method` and `path` exactly as registered (e.g. '/scp/tickets/:id'),
 * `url` to fill in the parameters from the fixtures (see MatrixFixtures), a `body` for POSTs (the
 * CSRF token is added for you), and `expect` with one outcome per actor. An outcome is the status,
 * and for a redirect the target path without its query: '200', '404', '303 /scp/login'; a `*` in
 * an expected redirect stands for one path segment (an id the call itself creates).
 * Prefer a body that would be *accepted* by an allowed actor (so the row proves the refusal of the
 * others is about permission, not input). When the allowed call changes state the next actor would
 * trip over, put it back with `setup` (run before every actor's call); for a session-changing
 * route set `fresh: true` (a new session for that call). `unchanged` snapshots the rows a refused
 * call must not touch: the test compares it before and after every refused call (refused actors
 * are called first, so they meet the untouched data).
 */
import type { Knex } from 'knex';
import { defaultPriorityId, unique } from '../factories/index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { ACTORS, ADMIN_ENTITIES, type ActorName, type AdminEntity, type Body, type MatrixFixtures, type TicketAction } from './permission-matrix-support.ts';

export type Outcome = string;
export type Expectation = Record<ActorName, Outcome>;

export interface MatrixRow {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ALL';
  path: string;
  url?: (f: MatrixFixtures) => string;
  body?: (f: MatrixFixtures) => Body;
  /** Sign in anew for this call (for routes that end or change the session). */
  fresh?: boolean;
  expect: Expectation | ((f: MatrixFixtures) => Expectation);
  /** Puts the data back before each actor's call (after an allowed actor changed it). */
  setup?: (db: Knex, f: MatrixFixtures) => Promise<void>;
  /** What a refused call must leave as it was (compared before and after each refused call). */
  unchanged?: (db: Knex, f: MatrixFixtures) => Promise<unknown>;
  /** Why the outcome is what it is, when it is not obvious. */
  why?: string;
}

export const OK = '200';
export const CREATED = '201';
export const NO_CONTENT = '204';
export const UNAUTHENTICATED = '401';
export const FORBIDDEN = '403';
export const NOT_FOUND = '404';
export const INVALID = '422';
/** Sent to the agent sign-in page (the agent panel's guard). */
export const SCP_LOGIN = '303 /scp/login';
/** Sent to the portal's "check ticket status" form (a ticket page without a portal session). */
export const PORTAL_STATUS = '303 /tickets/status';

/** Outcomes that refuse the caller: nothing may change in the database. */
export function isRefusal(o: Outcome): boolean {
  return Number(o.split(' ')[0]) >= 400 || o === SCP_LOGIN || o === PORTAL_STATUS;
}

/** The same outcome for every actor. */
export function everyone(o: Outcome): Expectation {
  return Object.fromEntries(ACTORS.map((a) => [a, o])) as Expectation;
}

/** The actors without an agent session: visitors, portal users and API clients. */
function visitors(o: Outcome): Pick<Expectation, 'anonymous' | 'user' | 'otherUser' | 'apiCreateKey' | 'apiManageKey'> {
  return { anonymous: o, user: o, otherUser: o, apiCreateKey: o, apiManageKey: o };
}

/** Agent panel pages: people without an agent session go to sign in; agents get `o` (overridable). */
export function agentsOnly(o: Outcome, overrides: Partial<Expectation> = {}): Expectation {
  return { ...visitors(SCP_LOGIN), otherDeptAgent: o, agent: o, admin: o, ...overrides };
}

/** Admin pages: non-admin agents get 403. */
export function adminsOnly(o: Outcome): Expectation {
  return agentsOnly(FORBIDDEN, { admin: o });
}

/** A ticket of the agent's department: its agents and admins get `o`, another department's agent 404 (existence hidden). */
export function ticketStaff(o: Outcome, overrides: Partial<Expectation> = {}): Expectation {
  return agentsOnly(o, { otherDeptAgent: NOT_FOUND, ...overrides });
}

/** A portal ticket page of `user`: only that user's session gets `o`; everybody else `others`. */
export function ownerOnly(o: Outcome, others: Outcome = NOT_FOUND): Expectation {
  return { ...everyone(others), user: o };
}

/** An API route: no key 401; the key with the permission `o`; the key without it `refused`. */
export function apiKeyOnly(key: 'apiCreateKey' | 'apiManageKey', o: Outcome, refused: Outcome): Expectation {
  return { ...everyone(UNAUTHENTICATED), apiCreateKey: key === 'apiCreateKey' ? o : refused, apiManageKey: key === 'apiManageKey' ? o : refused };
}

const WRONG = 'not the password';
const NEW_PASSWORD = 'matrix passphrase 7f3k2q';

/** A ticket row, its thread and its events: what a refused ticket call must leave alone. */
async function ticketSnapshot(db: Knex, ticketId: number) {
  const [ticket, entries, events, attachments, ccs, tasks, fieldValues] = await Promise.all([
    db('tickets').where({ id: ticketId }).first(),
    db('thread_entries').where({ ticket_id: ticketId }).orderBy('id').select('id', 'kind', 'body'),
    db('ticket_events').where({ ticket_id: ticketId }).orderBy('id').select('id', 'event'),
    db('attachments').where({ ticket_id: ticketId }).orderBy('id').select('id'),
    db('ticket_collaborators').where({ ticket_id: ticketId }).orderBy('user_id').pluck('user_id'),
    db('ticket_tasks').where({ ticket_id: ticketId }).orderBy('id').select('id', 'is_done'),
    db('ticket_field_values').where({ ticket_id: ticketId }).orderBy('field_id').select('field_id', 'value'),
  ]);
  return { ticket, entries, events, attachments, ccs, tasks, fieldValues };
}

const reopen = (id: (f: MatrixFixtures) => number) => async (db: Knex, f: MatrixFixtures) => {
  await db('tickets').where({ id: id(f) }).update({ status: 'open', state: 'open', closed_at: null });
};

// ## Agent ticket actions: body, and the state every actor meets (an allowed call changes it).
const ACTION_ROWS: Record<TicketAction, { body: (f: MatrixFixtures) => Record<string, string>; setup?: (db: Knex, id: number, f: MatrixFixtures) => Promise<unknown>; expect?: (f: MatrixFixtures) => Expectation }> = {
  reply: { body: () => ({ message: 'A reply from the matrix' }) },
  note: { body: () => ({ note: 'A note from the matrix' }) },
  assign: { body: (f) => ({ assignee: `agent:${f.agentId}` }), setup: (db, id) => db('tickets').where({ id }).update({ assignee_agent_id: null }) },
  claim: { body: () => ({}), setup: (db, id) => db('tickets').where({ id }).update({ assignee_agent_id: null }) },
  release: { body: () => ({}), setup: (db, id, f) => db('tickets').where({ id }).update({ assignee_agent_id: f.agentId }) },
  transfer: {
    body: (f) => ({ departmentId: String(f.otherDepartmentId) }),
    setup: (db, id, f) => db('tickets').where({ id }).update({ department_id: f.departmentId, sla_plan_id: null }),
    // The agent moved the ticket out of their own department: back to the queue.
    expect: (f) => ticketStaff(`303 /scp/tickets/${f.actionTickets.transfer.id}`, { agent: '303 /scp/tickets' }),
  },
  priority: { body: (f) => ({ priorityId: String(f.priorityId) }), setup: async (db, id) => db('tickets').where({ id }).update({ priority_id: await defaultPriorityId(db) }) },
  sla: { body: (f) => ({ slaPlanId: String(f.slaPlanId) }), setup: (db, id) => db('tickets').where({ id }).update({ sla_plan_id: null }) },
  due: { body: () => ({ dueAt: '2099-01-01T10:00' }), setup: (db, id) => db('tickets').where({ id }).update({ manual_due_at: null, due_at: null }) },
  status: { body: () => ({ status: 'closed' }), setup: (db, id) => db('tickets').where({ id }).update({ status: 'open', state: 'open', closed_at: null }) },
  edit: { body: () => ({ subject: 'Edited by the matrix' }), setup: (db, id) => db('tickets').where({ id }).update({ subject: 'Matrix ticket' }) },
  // Merged into the fixture ticket (same department); put back before each call. The allowed call lands on the target.
  merge: {
    body: (f) => ({ target: f.ticket.number }),
    setup: (db, id) => db('tickets').where({ id }).update({ merged_into_id: null, status: 'open', state: 'open', closed_at: null }),
    expect: (f) => ticketStaff(`303 /scp/tickets/${f.ticket.id}`),
  },
  task: { body: () => ({ title: 'A task from the matrix' }), setup: (db, id) => db('ticket_tasks').where({ ticket_id: id }).del() },
  // One open task, ticked off by the allowed call; put back before each call.
  taskset: {
    body: () => ({ taskId: '999001', to: 'done' }),
    setup: async (db, id) => {
      await db('ticket_tasks').where({ id: 999001 }).del();
      await db('ticket_tasks').insert({ id: 999001, ticket_id: id, title: 'Matrix task', is_done: false, created_at: '2026-01-01 00:00:00.000', updated_at: '2026-01-01 00:00:00.000' });
    },
  },
  // A custom field every ticket has (for every topic); the allowed call answers it.
  fields: {
    body: () => ({ cf_matrix_ref: 'Set by the matrix' }),
    setup: async (db, id) => {
      if (!(await db('ticket_fields').where({ name: 'matrix_ref' }).first())) {
        await db('ticket_fields').insert({ label: 'Matrix ref', name: 'matrix_ref', type: 'text', created_at: '2026-01-01 00:00:00.000', updated_at: '2026-01-01 00:00:00.000' });
        await writeSettings(db, { fields_version: `matrix-${Date.now()}` }, new Date());
      }
      await db('ticket_field_values').where({ ticket_id: id }).del();
    },
  },
  cc: { body: () => ({ email: 'matrix-cc@example.com', name: 'Matrix CC' }), setup: (db, id) => db('ticket_collaborators').where({ ticket_id: id }).del() },
  // Handed to another person; put back before each call (the fixture user is the requester).
  requester: {
    body: () => ({ email: 'matrix-new-requester@example.com', name: 'New Requester' }),
    setup: async (db, id, f) => void (await db('tickets').where({ id }).update({ user_id: f.userId })),
  },
  // The fixture user stands in for a CC (the table does not care whose ticket it is).
  uncc: {
    body: (f) => ({ userId: String(f.userId) }),
    setup: async (db, id, f) => {
      await db('ticket_collaborators').where({ ticket_id: id }).del();
      await db('ticket_collaborators').insert({ ticket_id: id, user_id: f.userId, created_at: '2026-01-01 00:00:00.000' });
    },
  },
};

const ticketActionRows: MatrixRow[] = (Object.keys(ACTION_ROWS) as TicketAction[]).map((name) => {
  const a = ACTION_ROWS[name];
  return {
    method: 'POST', path: `/scp/tickets/:id/${name}`,
    url: (f) => `/scp/tickets/${f.actionTickets[name].id}/${name}`,
    body: a.body,
    setup: a.setup ? async (db, f) => void (await a.setup!(db, f.actionTickets[name].id, f)) : undefined,
    unchanged: (db, f) => ticketSnapshot(db, f.actionTickets[name].id),
    expect: a.expect ?? ((f) => ticketStaff(`303 /scp/tickets/${f.actionTickets[name].id}`)),
  };
});

// ## Admin entities: the table behind each section, and bodies a create or an edit accepts.
const TABLES: Record<AdminEntity, string> = {
  roles: 'roles',
  departments: 'departments', 'sla-plans': 'sla_plans', schedules: 'schedules', 'help-topics': 'help_topics',
  priorities: 'priorities', teams: 'teams', agents: 'agents', 'api-keys': 'api_keys', 'canned-responses': 'canned_responses', filters: 'ticket_filters',
  'ticket-fields': 'ticket_fields',
  organizations: 'organizations', bans: 'bans',
  'kb-categories': 'kb_categories',
  webhooks: 'webhooks',
};

const ENTITY_BODIES: Record<AdminEntity, (f: MatrixFixtures) => Record<string, string>> = {
  roles: () => ({ name: unique('Matrix role '), permissions: 'ticket.reply', notes: 'matrix' }),
  departments: () => ({ name: unique('Matrix dept '), isPublic: 'on' }),
  'sla-plans': () => ({ name: unique('Matrix SLA '), grace: '8', alertsEnabled: 'on' }),
  schedules: () => ({ name: unique('Matrix schedule '), kind: '24x7', timezone: 'UTC' }),
  'help-topics': () => ({ name: unique('Matrix topic '), isPublic: 'on' }),
  priorities: () => ({ name: unique('Matrix prio '), urgency: '4', color: '#AABBCC' }),
  teams: () => ({ name: unique('Matrix team ') }),
  agents: (f) => {
    const username = unique('matrix');
    return { name: 'Matrix Agent', username, email: `${username}@agents.test`, role: 'agent', departmentId: String(f.departmentId), password: NEW_PASSWORD };
  },
  'api-keys': () => ({ allowedIp: '10.0.0.9', note: 'matrix', canCreateTickets: 'on' }),
  'canned-responses': () => ({ title: unique('Matrix canned '), body: 'Hello %{user.name}' }),
  filters: () => ({ name: unique('Matrix filter '), rule1Field: 'email', rule1Op: 'ends', rule1Value: '@matrix.test', noAutoresponse: 'on' }),
  'ticket-fields': () => ({ label: 'Matrix question', name: unique('mq_').toLowerCase().replace(/[^a-z0-9_]/g, '_'), type: 'text' }),
  organizations: () => ({ name: unique('Matrix org '), domains: `${unique('org').toLowerCase()}.matrix.test`, autoCc: 'primary' }),
  bans: () => ({ pattern: `@${unique('ban').toLowerCase()}.matrix.test`, note: 'matrix' }),
  'kb-categories': () => ({ name: unique('Matrix category '), visibility: 'public', sortOrder: '3' }),
  webhooks: () => ({ name: unique('Matrix webhook '), url: 'https://hooks.matrix.test/in', events: 'created', isActive: 'on' }),
};

const kbArticleBody = (f: MatrixFixtures) => ({ title: unique('Matrix question '), body: 'Matrix answer', categoryId: String(f.kb.publicCategoryId), visibility: 'public' });
const kbRow = (db: Knex, id: number) => db('kb_articles').where({ id }).first();

const adminEntityRows: MatrixRow[] = ADMIN_ENTITIES.flatMap((e): MatrixRow[] => {
  const base = `/scp/admin/${e}`;
  // API keys answer a create with the key itself, once (201), instead of a redirect.
  const created = e === 'api-keys' ? CREATED : `303 ${base}/*`;
  return [
    { method: 'GET', path: `${base}/new`, expect: adminsOnly(OK) },
    { method: 'POST', path: base, body: ENTITY_BODIES[e], expect: adminsOnly(created) },
    { method: 'POST', path: `${base}/new`, body: ENTITY_BODIES[e], expect: adminsOnly(created) },
    { method: 'GET', path: `${base}/:id`, url: (f) => `${base}/${f.edit[e]}`, expect: adminsOnly(OK) },
    {
      method: 'POST', path: `${base}/:id`, url: (f) => `${base}/${f.edit[e]}`, body: ENTITY_BODIES[e],
      unchanged: (db, f) => db(TABLES[e]).where({ id: f.edit[e] }).first(),
      expect: (f) => adminsOnly(`303 ${base}/${f.edit[e]}`),
    },
    {
      method: 'POST', path: `${base}/:id/:action`, url: (f) => `${base}/${f.remove[e]}/delete`,
      unchanged: (db, f) => db(TABLES[e]).where({ id: f.remove[e] }).first(),
      expect: adminsOnly(`303 ${base}`),
      why: 'delete: a refused call leaves the row (unchanged); the admin deletes it',
    },
  ];
});

const mailRow = (which: 'retry' | 'discard'): MatrixRow => ({
  method: 'POST', path: `/scp/admin/mail/:id/${which}`, url: (f) => `/scp/admin/mail/${f.mail[which]}/${which}`,
  setup: async (db, f) => void (await db('outbox').where({ id: f.mail[which] }).update({ status: 'failed' })),
  unchanged: (db, f) => db('outbox').where({ id: f.mail[which] }).first(),
  expect: (f) => adminsOnly(`303 /scp/admin/mail/${f.mail[which]}`),
});

// An agents' alert nothing else in the matrix sends, so its customised text changes no other row's mail.
const MATRIX_TEMPLATE = 'overdue-alert';
const MATRIX_TEMPLATE_TEXT = { subject: 'Overdue [#{{ticket.number}}]', body: 'Hello {{recipient.name}}, see {{ticket.url}}' };
const mailTemplateRow = (db: Knex) => db('mail_templates').where({ name: MATRIX_TEMPLATE }).first('subject', 'body');

const apiTicket = (f: MatrixFixtures) => ({ name: 'API Caller', email: `${unique('api')}@customers.test`, subject: 'From the matrix', message: 'Hello from the API' });

export const MATRIX: MatrixRow[] = [
  // ## Probes and CSP reports
  { method: 'GET', path: '/healthz', expect: everyone(OK) },
  { method: 'GET', path: '/readyz', expect: everyone(OK) },
  { method: 'POST', path: '/csp-report', body: () => ({ json: { 'csp-report': { 'violated-directive': 'script-src' } } }), expect: everyone(NO_CONTENT) },

  // ## Portal: public pages and forms (agents and API clients have no portal session: they are visitors there)
  { method: 'GET', path: '/', expect: everyone(OK) },
  { method: 'POST', path: '/logout', fresh: true, expect: everyone('303 /'), why: 'ends the portal session (and the tickets it was granted)' },
  { method: 'GET', path: '/tickets', expect: everyone(OK), why: "lists only the tickets this session was granted (empty for everyone but the portal users)" },
  { method: 'GET', path: '/tickets/new', expect: everyone(OK) },
  {
    method: 'POST', path: '/tickets', fresh: true,
    body: (f) => ({ email: `${unique('portal')}@customers.test`, name: 'Portal Visitor', subject: 'Opened in the matrix', message: 'Hello', topicId: String(f.topicId) }),
    expect: everyone('303 /tickets/*/opened'), why: 'anyone may open a ticket; the session then reads only it',
  },
  { method: 'GET', path: '/tickets/status', expect: everyone(OK) },
  {
    method: 'POST', path: '/tickets/status', fresh: true, body: (f) => ({ email: f.userEmail, number: f.ticket.number }),
    expect: (f) => everyone(`303 /tickets/${f.ticket.number}`), why: 'the email and number together are the key to a ticket',
  },
  { method: 'GET', path: '/tickets/access', url: () => '/tickets/access?token=not-a-token', expect: everyone(PORTAL_STATUS), why: 'a valid link is how the portal clients sign in (setUpActors)' },
  { method: 'GET', path: '/signin', expect: everyone(OK) },
  { method: 'POST', path: '/signin', body: (f) => ({ email: f.userEmail }), expect: everyone('303 /signin'), why: 'anyone may ask; a link is mailed to the address only (the answer is the same for every address)' },
  { method: 'GET', path: '/signin/link', url: () => '/signin/link?token=not-a-token', expect: everyone('303 /signin'), why: 'only a link from the mail signs in (test/http/portal-signin.test.ts)' },
  { method: 'POST', path: '/signin/link', body: () => ({ token: 'not-a-token' }), expect: everyone('303 /signin'), why: 'the sign-in button: only with a valid link' },

  // ## Portal: the user's ticket (the session reads only the tickets it was opened for)
  {
    method: 'GET', path: '/tickets/:number', url: (f) => `/tickets/${f.ticket.number}`,
    expect: { ...ownerOnly(OK, PORTAL_STATUS), otherUser: NOT_FOUND }, why: 'without a portal session: the status form; another user: 404',
  },
  { method: 'GET', path: '/tickets/:number/opened', url: (f) => `/tickets/${f.ticket.number}/opened`, expect: ownerOnly(OK) },
  {
    method: 'POST', path: '/tickets/:number/reply', url: (f) => `/tickets/${f.ticket.number}/reply`, body: () => ({ message: 'A reply from the portal' }),
    unchanged: (db, f) => ticketSnapshot(db, f.ticket.id), expect: (f) => ownerOnly(`303 /tickets/${f.ticket.number}`),
  },
  // Copying people in from the portal: the requester only, with the setting on (the setup turns it on).
  {
    method: 'POST', path: '/tickets/:number/cc', url: (f) => `/tickets/${f.ticket.number}/cc`, body: () => ({ ccEmail: 'matrix-portal-cc@example.com' }),
    setup: async (db, f) => {
      await writeSettings(db, { portal_allow_cc: true }, new Date());
      await db('ticket_collaborators').where({ ticket_id: f.ticket.id }).del();
    },
    unchanged: (db, f) => db('ticket_collaborators').where({ ticket_id: f.ticket.id }).select('user_id'), expect: (f) => ownerOnly(`303 /tickets/${f.ticket.number}`),
  },
  {
    method: 'POST', path: '/tickets/:number/uncc', url: (f) => `/tickets/${f.ticket.number}/uncc`, body: (f) => ({ userId: String(f.directoryUser.id) }),
    setup: async (db, f) => {
      await writeSettings(db, { portal_allow_cc: true }, new Date());
      await db('ticket_collaborators').where({ ticket_id: f.ticket.id }).del();
      await db('ticket_collaborators').insert({ ticket_id: f.ticket.id, user_id: f.directoryUser.id, created_at: '2026-01-01 00:00:00.000' });
    },
    unchanged: (db, f) => db('ticket_collaborators').where({ ticket_id: f.ticket.id }).select('user_id'), expect: (f) => ownerOnly(`303 /tickets/${f.ticket.number}`),
  },
  {
    method: 'POST', path: '/tickets/:number/close', url: (f) => `/tickets/${f.ticket.number}/close`,
    setup: reopen((f) => f.ticket.id), unchanged: (db, f) => ticketSnapshot(db, f.ticket.id), expect: (f) => ownerOnly(`303 /tickets/${f.ticket.number}`),
  },
  { method: 'GET', path: '/attachments/:id', url: (f) => `/attachments/${f.attachmentId}`, expect: ownerOnly(OK) },

  // ## Portal: the knowledge base (public articles of public categories; the rows check the internal ones are hidden from everyone)
  { method: 'GET', path: '/kb', expect: everyone(OK) },
  { method: 'GET', path: '/kb/c/:id', url: (f) => `/kb/c/${f.kb.internalCategoryId}`, expect: everyone(NOT_FOUND), why: 'an internal category: nobody reads it in the portal (agents read it in /scp/kb)' },
  { method: 'GET', path: '/kb/:id', url: (f) => `/kb/${f.kb.internalArticleId}`, expect: everyone(NOT_FOUND), why: 'an internal article: nobody reads it in the portal' },

  // ## Agent panel: setup, sign in and out
  { method: 'GET', path: '/scp/setup', expect: everyone(NOT_FOUND), why: 'setup exists only while no agent exists' },
  { method: 'POST', path: '/scp/setup', body: () => ({ name: 'Mallory', email: 'mallory@example.com', username: 'mallory', password: 'a long enough passphrase' }), expect: everyone(NOT_FOUND) },
  { method: 'GET', path: '/scp/login', expect: agentsOnly('303 /scp', visitors(OK)) },
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

  // ## Agent panel: queues, exports and reports (scoped to the agent's departments by the services)
  { method: 'GET', path: '/scp/tickets', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/tickets.csv', expect: agentsOnly(OK), why: 'the export shows only tickets the agent may see (checked by the tickets tests)' },
  { method: 'GET', path: '/scp/reports', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/priorities.css', expect: agentsOnly(OK), why: 'the priority badges\' colours: agents only, like the pages that use them' },
  {
    method: 'GET', path: '/scp/reports.csv', url: (f) => `/scp/reports.csv?table=summary&dept=${f.departmentId}`,
    expect: agentsOnly(OK, { otherDeptAgent: FORBIDDEN }), why: "a report of a department the agent does not work in is refused",
  },

  // ## Agent panel: new ticket on behalf of a user, the ticket page, its actions and attachments
  { method: 'GET', path: '/scp/tickets/new', expect: agentsOnly(OK) },
  {
    method: 'POST', path: '/scp/tickets',
    body: (f) => ({ email: `${unique('phone')}@customers.test`, name: 'Caller', subject: 'Phoned in', message: 'By phone', source: 'phone', departmentId: String(f.departmentId) }),
    expect: agentsOnly('303 /scp/tickets/*', { otherDeptAgent: INVALID }), why: 'another department: "Choose one of your departments" (422, nothing created)',
  },
  // ## User directory: every agent (a user page lists only the tickets the agent may see)
  { method: 'GET', path: '/scp/users', url: () => '/scp/users?q=a', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/users/:id', url: (f) => `/scp/users/${f.userId}`, expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/orgs/:id', url: (f) => `/scp/orgs/${f.edit.organizations}`, expect: agentsOnly(OK), why: 'every agent (its tickets listed are only those they may see)' },
  {
    method: 'POST', path: '/scp/users/:id', url: (f) => `/scp/users/${f.directoryUser.id}`, body: (f) => ({ name: 'Renamed in the matrix', email: f.directoryUser.email, phone: '555-0100' }),
    unchanged: (db, f) => db('users').where({ id: f.directoryUser.id }).first(),
    expect: (f) => agentsOnly(`303 /scp/users/${f.directoryUser.id}`),
  },
  ...(['ban', 'unban'] as const).map((action): MatrixRow => ({
    method: 'POST', path: `/scp/users/:id/${action}`, url: (f) => `/scp/users/${f.directoryUser.id}/${action}`,
    setup: async (db, f) => void (await db('users').where({ id: f.directoryUser.id }).update({ is_banned: action === 'unban' })),
    unchanged: (db, f) => db('users').where({ id: f.directoryUser.id }).first(),
    expect: (f) => agentsOnly(`303 /scp/users/${f.directoryUser.id}`),
  })),
  {
    method: 'POST', path: '/scp/tickets/bulk', body: (f) => ({ ids: String(f.ticket.id), do: 'status:open' }),
    unchanged: (db, f) => ticketSnapshot(db, f.ticket.id),
    expect: agentsOnly('303 /scp/tickets'), why: 'bulk actions: each ticket through its own service (one of another department is skipped as not found; the open ticket stays as it is)',
  },
  // ## Saved views: each agent's own (another agent's view is 404, as if missing, admins' too); a shared
  // view is seen by every agent and changed only by its owner or an admin (others 403)
  { method: 'POST', path: '/scp/queues', body: () => ({ name: 'Matrix view', queue: 'open', q: 'matrix' }), expect: agentsOnly('303 /scp/queues/*') },
  { method: 'GET', path: '/scp/queues/:id', url: (f) => `/scp/queues/${f.agentView}`, expect: agentsOnly(NOT_FOUND, { agent: '303 /scp/tickets' }) },
  {
    method: 'POST', path: '/scp/queues/:id', url: (f) => `/scp/queues/${f.sharedView}`, body: () => ({ name: 'Matrix renamed view', shared: '' }),
    setup: async (db, f) => void (await db('saved_queues').where({ id: f.sharedView }).update({ name: 'Matrix shared view', is_shared: true })),
    unchanged: (db, f) => db('saved_queues').where({ id: f.sharedView }).first(),
    expect: (f) => agentsOnly(FORBIDDEN, { agent: `303 /scp/queues/${f.sharedView}`, admin: `303 /scp/queues/${f.sharedView}` }),
    why: 'rename / unshare a shared view: its owner or an admin; another agent who sees it is refused',
  },
  {
    method: 'GET', path: '/scp/queues/:id/delete', url: (f) => `/scp/queues/${f.sharedView}/delete`,
    setup: async (db, f) => void (await db('saved_queues').where({ id: f.sharedView }).update({ name: 'Matrix shared view', is_shared: true })),
    expect: agentsOnly(FORBIDDEN, { agent: OK, admin: OK }), why: 'the confirmation page: those who may delete the shared view',
  },
  {
    method: 'POST', path: '/scp/queues/:id/delete', url: (f) => `/scp/queues/${f.agentView}`.concat('/delete'), body: () => ({ confirm: 'yes' }),
    setup: async (db, f) => void (await db('saved_queues').insert({ id: f.agentView, agent_id: f.agentId, name: 'Matrix own view', params: '{"queue":"open"}', created_at: '2026-01-01 00:00:00.000' }).onConflict('id').ignore()),
    unchanged: (db, f) => db('saved_queues').where({ id: f.agentView }).first(),
    expect: agentsOnly(NOT_FOUND, { agent: '303 /scp/tickets' }),
  },
  { method: 'GET', path: '/scp/search', url: () => '/scp/search?q=matrix', expect: agentsOnly(OK), why: 'search message text: every agent (the results are only tickets they may see)' },
  { method: 'GET', path: '/scp/tickets/:id', url: (f) => `/scp/tickets/${f.ticket.id}`, expect: ticketStaff(OK) },
  { method: 'GET', path: '/scp/tickets/:id/canned/:cannedId', url: (f) => `/scp/tickets/${f.ticket.id}/canned/${f.edit['canned-responses']}`, expect: ticketStaff(OK), why: 'a canned response filled in for the ticket: those who may see the ticket' },
  {
    method: 'GET', path: '/scp/tickets/:id/kb/:articleId', url: (f) => `/scp/tickets/${f.ticket.id}/kb/${f.kb.publicArticleId}`, expect: ticketStaff(OK),
    why: 'a public article\'s link for a reply: those who may see the ticket',
  },
  ...ticketActionRows,
  // ## Deleting tickets: admins; agents only with the setting "Agents may delete tickets" (off here: 403), and only tickets they see (404)
  {
    method: 'GET', path: '/scp/tickets/:id/delete', url: (f) => `/scp/tickets/${f.deleteTickets.page.id}/delete`,
    expect: ticketStaff(FORBIDDEN, { admin: OK }), why: 'the confirmation page: those who may delete the ticket',
  },
  {
    method: 'POST', path: '/scp/tickets/:id/delete', url: (f) => `/scp/tickets/${f.deleteTickets.page.id}/delete`,
    unchanged: (db, f) => ticketSnapshot(db, f.deleteTickets.page.id),
    expect: ticketStaff(FORBIDDEN, { admin: '303 /scp/tickets' }), why: 'the admin deletes it (refused actors first: they meet it whole)',
  },
  {
    method: 'GET', path: '/scp/tickets/delete', url: (f) => `/scp/tickets/delete?ids=${f.ticket.id}`,
    expect: agentsOnly(FORBIDDEN, { admin: OK }), why: 'the confirmation of a bulk delete: refused outright to an agent who may not delete tickets',
  },
  { method: 'GET', path: '/scp/attachments/:id', url: (f) => `/scp/attachments/${f.attachmentId}`, expect: ticketStaff(OK) },

  // ## Editing thread entries: every agent who sees the ticket reads an entry's history; a requester's message only an admin edits
  {
    method: 'GET', path: '/scp/tickets/:id/entries/:entryId/edit', url: (f) => `/scp/tickets/${f.entryEdit.ticketId}/entries/${f.entryEdit.messageId}/edit`,
    expect: ticketStaff(OK), why: 'the editor for those who may edit, else the history alone',
  },
  {
    method: 'POST', path: '/scp/tickets/:id/entries/:entryId/edit', url: (f) => `/scp/tickets/${f.entryEdit.ticketId}/entries/${f.entryEdit.messageId}/edit`,
    body: () => ({ body: 'Redacted by the matrix', redact: 'on' }), unchanged: (db, f) => ticketSnapshot(db, f.entryEdit.ticketId),
    expect: (f) => ticketStaff(FORBIDDEN, { admin: `303 /scp/tickets/${f.entryEdit.ticketId}#entry-${f.entryEdit.messageId}` }),
    why: 'an agent edits only their own replies and notes; an admin any entry',
  },

  // ## Agent panel: the knowledge base (every agent reads, internal articles too; admins write)
  { method: 'GET', path: '/scp/kb', expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/kb/new', expect: adminsOnly(OK) },
  {
    method: 'POST', path: '/scp/kb', body: kbArticleBody, unchanged: (db) => db('kb_articles').count({ n: '*' }).first(),
    expect: adminsOnly('303 /scp/kb/*'),
  },
  { method: 'GET', path: '/scp/kb/:id', url: (f) => `/scp/kb/${f.kb.internalArticleId}`, expect: agentsOnly(OK) },
  { method: 'GET', path: '/scp/kb/:id/edit', url: (f) => `/scp/kb/${f.kb.editArticleId}/edit`, expect: adminsOnly(OK) },
  {
    method: 'POST', path: '/scp/kb/:id', url: (f) => `/scp/kb/${f.kb.editArticleId}`, body: kbArticleBody,
    unchanged: (db, f) => kbRow(db, f.kb.editArticleId), expect: (f) => adminsOnly(`303 /scp/kb/${f.kb.editArticleId}`),
  },
  { method: 'GET', path: '/scp/kb/:id/delete', url: (f) => `/scp/kb/${f.kb.removeArticleId}/delete`, expect: adminsOnly(OK), why: 'the confirmation page' },
  {
    method: 'POST', path: '/scp/kb/:id/delete', url: (f) => `/scp/kb/${f.kb.removeArticleId}/delete`, body: () => ({ confirm: 'yes' }),
    unchanged: (db, f) => kbRow(db, f.kb.removeArticleId), expect: adminsOnly('303 /scp/kb'), why: 'confirmed: a refused call leaves the article; the admin deletes it',
  },

  // ## Admin area: every page is for admins only (requireAdmin on the router; the services check again)
  ...['roles', 'departments', 'sla-plans', 'schedules', 'help-topics', 'priorities', 'teams', 'agents', 'settings', 'audit', 'mail', 'api-keys', 'canned-responses', 'filters', 'ticket-fields', 'organizations', 'bans', 'kb-categories', 'mail-templates', 'webhooks'].map(
    (entity): MatrixRow => ({ method: 'GET', path: `/scp/admin/${entity}`, expect: adminsOnly(OK) }),
  ),
  ...adminEntityRows,
  { method: 'POST', path: '/scp/admin/settings', body: (f) => f.settingsForm, expect: adminsOnly('303 /scp/admin/settings'), why: 'saves the settings as they are' },
  { method: 'GET', path: '/scp/admin/mail/:id', url: (f) => `/scp/admin/mail/${f.mail.show}`, expect: adminsOnly(OK) },
  mailRow('retry'),
  mailRow('discard'),
  { method: 'GET', path: '/scp/admin/mail-templates/:name', url: () => `/scp/admin/mail-templates/${MATRIX_TEMPLATE}`, expect: adminsOnly(OK) },
  {
    method: 'POST', path: '/scp/admin/mail-templates/:name', url: () => `/scp/admin/mail-templates/${MATRIX_TEMPLATE}`, body: () => MATRIX_TEMPLATE_TEXT,
    unchanged: (db) => mailTemplateRow(db), expect: adminsOnly(`303 /scp/admin/mail-templates/${MATRIX_TEMPLATE}`),
  },
  {
    method: 'POST', path: '/scp/admin/mail-templates/:name/preview', url: () => `/scp/admin/mail-templates/${MATRIX_TEMPLATE}/preview`, body: () => MATRIX_TEMPLATE_TEXT,
    unchanged: (db) => mailTemplateRow(db), expect: adminsOnly(OK), why: 'renders the typed text with sample data; saves nothing',
  },
  {
    method: 'POST', path: '/scp/admin/mail-templates/:name/reset', url: () => `/scp/admin/mail-templates/${MATRIX_TEMPLATE}/reset`,
    setup: async (db) => {
      if (!(await mailTemplateRow(db))) await db('mail_templates').insert({ name: MATRIX_TEMPLATE, ...MATRIX_TEMPLATE_TEXT, created_at: toDbDate(new Date()), updated_at: toDbDate(new Date()) });
    },
    unchanged: (db) => mailTemplateRow(db), expect: adminsOnly(`303 /scp/admin/mail-templates/${MATRIX_TEMPLATE}`), why: 'a refused call leaves the customised text; the admin resets it',
  },
  { method: 'GET', path: '/scp/admin/webhooks/:id/deliveries', url: (f) => `/scp/admin/webhooks/${f.edit.webhooks}/deliveries`, expect: adminsOnly(OK) },
  { method: 'GET', path: '/scp/admin/webhooks/:id/deliveries/:deliveryId', url: (f) => `/scp/admin/webhooks/${f.edit.webhooks}/deliveries/${f.webhookDelivery}`, expect: adminsOnly(OK) },
  {
    method: 'POST', path: '/scp/admin/webhooks/:id/deliveries/:deliveryId/redeliver', url: (f) => `/scp/admin/webhooks/${f.edit.webhooks}/deliveries/${f.webhookDelivery}/redeliver`,
    setup: async (db, f) => void (await db('webhook_deliveries').where({ id: f.webhookDelivery }).update({ status: 'failed', attempts: 8 })),
    unchanged: (db, f) => db('webhook_deliveries').where({ id: f.webhookDelivery }).first(),
    expect: (f) => adminsOnly(`303 /scp/admin/webhooks/${f.edit.webhooks}/deliveries/${f.webhookDelivery}`), why: 'queues the delivery again',
  },

  // ## API: keys only (no session, no CSRF); each key is refused where it lacks the permission
  { method: 'GET', path: '/api/v1/tickets', expect: apiKeyOnly('apiManageKey', OK, FORBIDDEN) },
  { method: 'POST', path: '/api/v1/tickets', body: (f) => ({ json: apiTicket(f) }), expect: apiKeyOnly('apiCreateKey', CREATED, FORBIDDEN) },
  { method: 'GET', path: '/api/v1/tickets/:number', url: (f) => `/api/v1/tickets/${f.ticket.number}`, expect: apiKeyOnly('apiManageKey', OK, FORBIDDEN) },
  {
    method: 'DELETE', path: '/api/v1/tickets/:number', url: (f) => `/api/v1/tickets/${f.deleteTickets.api.number}`,
    unchanged: (db, f) => ticketSnapshot(db, f.deleteTickets.api.id),
    expect: apiKeyOnly('apiManageKey', OK, FORBIDDEN), why: 'deletes the ticket (the key that manages tickets, last)',
  },
  {
    method: 'POST', path: '/api/v1/tickets/:number/:action', url: (f) => `/api/v1/tickets/${f.actionTickets.status.number}/status`, body: () => ({ json: { status: 'closed' } }),
    setup: reopen((f) => f.actionTickets.status.id), unchanged: (db, f) => ticketSnapshot(db, f.actionTickets.status.id),
    expect: apiKeyOnly('apiManageKey', OK, FORBIDDEN), why: 'closes the ticket',
  },
  {
    method: 'POST', path: '/api/tickets.:format', url: () => '/api/tickets.json', body: (f) => ({ json: apiTicket(f) }),
    expect: apiKeyOnly('apiCreateKey', CREATED, UNAUTHENTICATED), why: 'osTicket answers a key without the permission with 401 "API key not authorized"',
  },
  {
    method: 'POST', path: '/api/http.php/tickets.:format', url: () => '/api/http.php/tickets.xml',
    body: (f) => {
      const t = apiTicket(f);
      return { raw: `<?xml version="1.0" encoding="UTF-8"?><ticket><name>${t.name}</name><email>${t.email}</email><subject>${t.subject}</subject><message type="text/plain">${t.message}</message></ticket>`, type: 'application/xml' };
    },
    expect: apiKeyOnly('apiCreateKey', CREATED, UNAUTHENTICATED),
  },
];
