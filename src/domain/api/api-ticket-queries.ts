/**
 * Read side of the JSON API (/api/v1): one ticket with its thread, and a filtered list with cursor
 * pagination. Only keys that may manage tickets read them; they see every ticket, as an admin does.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, isSqlite, toDbDate, whereEqualsNotIndexed } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { listAttachments, type AttachmentInfo } from '../tickets/attachment-service.ts';
import { collaboratorsColumn, collaboratorsFrom } from '../tickets/ticket-collaborator-list.ts';
import { loadTicketFor } from '../tickets/ticket-policy.ts';
import { apiFieldValues, fieldValuesColumn, fieldValuesFrom, ticketFieldDefs } from '../fields/ticket-field-values.ts';
import { getSettings } from '../settings/settings-service.ts';
import { STATUSES, SOURCES } from '../tickets/ticket-status.ts';
import { optionalId, parseInput } from '../validation.ts';
import { assertApiKeyMay } from './api-ticket-service.ts';

type Ref = { id: number; name: string } | null;

export interface ApiTicket {
  id: number;
  number: string;
  subject: string;
  status: string;
  state: string;
  source: string;
  user: { id: number; name: string; email: string };
  department: Ref;
  topic: Ref;
  priority: Ref;
  slaPlan: Ref;
  assignee: Ref;
  team: Ref;
  dueAt: string | null;
  /** The SLA plan's first-response target for this ticket (null: none) and the first agent response. */
  firstResponseDueAt: string | null;
  firstResponseAt: string | null;
  nextResponseDueAt: string | null;
  /** Waiting on the requester since (status pending); whether that stopped the SLA clock. */
  waitingSince: string | null;
  slaPaused: boolean;
  isOverdue: boolean;
  isAnswered: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  closedAt: string | null;
  version: number;
  extra: Record<string, unknown> | null;
}

export interface ApiThreadEntry {
  id: number;
  kind: 'message' | 'response' | 'note';
  poster: string | null;
  body: string;
  source: string;
  createdAt: string | null;
  /** When its text was last edited (null: never). */
  editedAt: string | null;
  attachments: Omit<AttachmentInfo, 'entryId'>[];
}

const iso = (v: unknown) => dbDate(v)?.toISOString() ?? null;
const ref = (id: unknown, name: unknown): Ref => (id ? { id: Number(id), name: String(name ?? '') } : null);

function parseExtra(v: unknown): Record<string, unknown> | null {
  if (!v) return null;
  try {
    const x = JSON.parse(String(v));
    return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
  } catch {
    return null;
  }
}

/**
 * Tickets with the names they refer to; `page` (a select of ticket ids, ordered and limited) chooses
 * which, as a derived table: the page is chosen from `tickets` alone and the names are joined to its
 * rows only. (Joined first, MariaDB started from users and sorted every ticket of the desk for a page
 * of 25: 45–61 s at 1M tickets.)
 */
function ticketQuery(db: Knex | Knex.Transaction, page?: Knex.QueryBuilder) {
  // The page first, then its tickets by key (SQLite otherwise scanned every ticket and probed the page).
  // sql-safe: two fixed texts; the page is a bound query, every name a bound identifier.
  const inOrder = isSqlite(db) ? '? as ?? cross join ?? as ?? on ?? = ??' : '? as ?? straight_join ?? as ?? on ?? = ??';
  const from: Knex.QueryBuilder = page ? db.from(db.raw(inOrder, [page, 'pg', 'tickets', 't', 't.id', 'pg.id'])) : db('tickets as t');
  return from
    .join('users as u', 'u.id', 't.user_id')
    .leftJoin('departments as d', 'd.id', 't.department_id')
    .leftJoin('help_topics as h', 'h.id', 't.topic_id')
    .leftJoin('priorities as p', 'p.id', 't.priority_id')
    .leftJoin('sla_plans as s', 's.id', 't.sla_plan_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_agent_id')
    .leftJoin('teams as tm', 'tm.id', 't.team_id')
    .select('t.*', 'u.name as user_name', 'u.email as user_email', 'd.name as dept_name', 'h.name as topic_name', 'p.name as prio_name', 's.name as sla_name', 'a.name as agent_name', 'tm.name as team_name');
}

function toApiTicket(r: any): ApiTicket {
  return {
    id: r.id, number: r.number, subject: r.subject, status: r.status, state: r.state, source: r.source,
    user: { id: r.user_id, name: r.user_name, email: r.user_email },
    department: ref(r.department_id, r.dept_name), topic: ref(r.topic_id, r.topic_name), priority: ref(r.priority_id, r.prio_name),
    slaPlan: ref(r.sla_plan_id, r.sla_name), assignee: ref(r.assignee_agent_id, r.agent_name), team: ref(r.team_id, r.team_name),
    dueAt: iso(r.due_at), firstResponseDueAt: iso(r.first_response_due_at), firstResponseAt: iso(r.first_response_at), nextResponseDueAt: iso(r.next_response_due_at), waitingSince: iso(r.waiting_since), slaPaused: !!r.sla_paused_at, isOverdue: dbBool(r.is_overdue), isAnswered: dbBool(r.is_answered),
    createdAt: iso(r.created_at), updatedAt: iso(r.updated_at), closedAt: iso(r.closed_at), version: Number(r.version), extra: parseExtra(r.extra),
  };
}

/** A ticket by its row id, as the API shows it (no thread), for the system's own use (webhook payloads); null when it is gone. */
export async function getApiTicketById(db: Knex | Knex.Transaction, ticketId: number): Promise<ApiTicket | null> {
  const row = await ticketQuery(db).where('t.id', ticketId).first();
  return row ? toApiTicket(row) : null;
}

/** A ticket by its public number, with its whole thread (internal notes included). @throws Forbidden, NotFound */
export async function getTicketForApi(ctx: ServiceContext, number: string): Promise<ApiTicket & { ccs: { name: string; email: string }[]; fields: Record<string, string | number | boolean>; mergedInto: string | null; thread: ApiThreadEntry[] }> {
  assertApiKeyMay(ctx.actor, 'manage');
  const t = await loadTicketFor(ctx.db, ctx.actor, { number: String(number).slice(0, 20) });
  const mergedInto = ctx.db('tickets as mt').where('mt.id', ctx.db.ref('t.merged_into_id')).select('mt.number').as('merged_into_number');
  const row = await ticketQuery(ctx.db).where('t.id', t.id).first(collaboratorsColumn(ctx.db, ctx.db.ref('t.id')), fieldValuesColumn(ctx.db, ctx.db.ref('t.id')), mergedInto);
  const fields = apiFieldValues(await ticketFieldDefs(ctx.db, await getSettings(ctx.db)), fieldValuesFrom(row.field_values));
  const entries = await ctx.db('thread_entries').where({ ticket_id: t.id }).orderBy('id');
  const files = await listAttachments(ctx.db, t.id);
  const thread = entries.map((e: any) => ({
    id: e.id, kind: e.kind, poster: e.poster_name ?? null, body: e.body, source: e.source, createdAt: iso(e.created_at), editedAt: iso(e.edited_at),
    attachments: (files.get(e.id) ?? []).map(({ entryId: _e, ...a }) => a),
  }));
  return { ...toApiTicket(row), ccs: collaboratorsFrom(row.collaborators).map(({ name, email }) => ({ name, email })), fields, mergedInto: row.merged_into_number ?? null, thread };
}

export const ListTicketsForApiInput = z.object({
  status: z.enum(STATUSES, { error: `Must be one of: ${STATUSES.join(', ')}` }).optional(),
  state: z.enum(['open', 'closed'], { error: 'Must be open or closed' }).optional(),
  source: z.enum(SOURCES, { error: `Must be one of: ${SOURCES.join(', ')}` }).optional(),
  departmentId: optionalId,
  priorityId: optionalId,
  topicId: optionalId,
  assigneeId: z.union([z.literal('none'), optionalId]).optional(),
  email: z.string().trim().toLowerCase().max(191).optional(),
  updatedSince: z.iso.datetime({ offset: true, error: 'Must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' }).optional(),
  limit: z.coerce.number({ error: 'Must be a number' }).int().min(1).max(100).default(25),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'Invalid cursor').optional(),
});
export type ListTicketsForApiInput = z.input<typeof ListTicketsForApiInput>;

const encodeCursor = (id: number) => Buffer.from(`id:${id}`).toString('base64url');
function decodeCursor(c: string): number {
  const m = /^id:(\d{1,12})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw new ValidationFailed({ cursor: 'Invalid cursor' });
  return Number(m[1]);
}

/**
 * Tickets, newest first, filtered; `nextCursor` continues after the last one (null at the end).
 * Keyset pagination on the id, so pages stay stable while tickets are added. @throws Forbidden, ValidationFailed
 */
export async function listTicketsForApi(ctx: ServiceContext, raw: ListTicketsForApiInput): Promise<{ data: ApiTicket[]; nextCursor: string | null }> {
  assertApiKeyMay(ctx.actor, 'manage');
  const input = parseInput(ListTicketsForApiInput, raw);
  const q = ctx.db('tickets as t').select('t.id').orderBy('t.id', 'desc').limit(input.limit + 1);
  if (input.cursor) q.where('t.id', '<', decodeCursor(input.cursor));
  // NOTE(dialect): SQLite, without statistics, took tickets_status_queue for any status and sorted all
  // of its tickets by id (80,000 closed at 100k); walked by id it stops at the page (whereEqualsNotIndexed).
  if (input.status) whereEqualsNotIndexed(ctx.db, q, 't.status', input.status);
  if (input.state) q.where('t.state', input.state);
  if (input.source) whereEqualsNotIndexed(ctx.db, q, 't.source', input.source);
  if (input.departmentId) q.where('t.department_id', input.departmentId);
  if (input.priorityId) q.where('t.priority_id', input.priorityId);
  if (input.topicId) q.where('t.topic_id', input.topicId);
  if (input.assigneeId === 'none') q.whereNull('t.assignee_agent_id');
  else if (input.assigneeId) q.where('t.assignee_agent_id', input.assigneeId);
  if (input.email) q.whereIn('t.user_id', ctx.db('users').where('email', input.email).select('id'));
  if (input.updatedSince) {
    // Every ticket is open or closed: with the state named, the changed tickets are a range of each
    // state's (state, updated_at) entries (tickets_queue_scope_sort_flags), which the planner reads
    // when few changed (an integration's "since my last call") instead of walking every ticket by
    // id to the end (1.2 s at 1M tickets for none).
    if (!input.state) q.whereIn('t.state', ['open', 'closed']);
    q.where('t.updated_at', '>=', toDbDate(new Date(input.updatedSince)));
  }
  const rows = await ticketQuery(ctx.db, q).orderBy('t.id', 'desc');
  const page = rows.slice(0, input.limit).map(toApiTicket);
  return { data: page, nextCursor: rows.length > input.limit ? encodeCursor(page[page.length - 1].id) : null };
}
