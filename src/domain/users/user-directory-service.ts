/**
 * The user directory (osTicket's Users tab, Zendesk's customer list): agents look people up by name or
 * email, see their tickets, correct their name, phone and email, keep notes, put them in an
 * organization, and ban or unban them. Every change is in the audit log.
 * Any agent may use it (osTicket's default roles grant the directory and user edits); the tickets a
 * user page lists are only those the agent may see (whereAgentMaySee).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { caseById, dbBool, isUniqueViolation, toDbDate, whereStartsWith } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { checkbox, email, optionalId, optionalText, parseInput, requiredText } from '../validation.ts';
import { changes, paginate, type Page } from '../admin/admin-support.ts';
import { whereAgentMaySee } from '../tickets/ticket-policy.ts';
import { searchText } from '../tickets/ticket-search-index.ts';
import { requireAgent, type AgentActor } from '../actor.ts';

type Db = Knex | Knex.Transaction;

/** Users on a directory page. */
export const USERS_PAGE_SIZE = 50;
/** Tickets on a user page. */
export const USER_TICKETS_PAGE_SIZE = 25;
export const USER_SORTS = { name: 'Name', email: 'Email', created: 'Newest first' } as const;
export type UserSort = keyof typeof USER_SORTS;

/** Agents only: end users and API keys have no directory. @throws Forbidden */
const assertAgent = (ctx: ServiceContext): AgentActor => requireAgent(ctx.actor, 'Only agents can use the user directory.');

export interface DirectoryUser {
  id: number;
  name: string;
  email: string;
  phone: string | null;
  notes: string | null;
  isBanned: boolean;
  organizationId: number | null;
  organizationName: string | null;
  isPrimaryContact: boolean;
  createdAt: Date;
  openTickets: number;
  tickets: number;
}

const toDirectoryUser = (r: any): DirectoryUser => ({
  id: r.id, name: r.name, email: r.email, phone: r.phone ?? null, notes: r.notes ?? null, isBanned: dbBool(r.is_banned),
  organizationId: r.organization_id ?? null, organizationName: r.organization_name ?? null, isPrimaryContact: dbBool(r.is_primary_contact),
  createdAt: new Date(r.created_at), openTickets: Number(r.open_tickets ?? 0), tickets: Number(r.ticket_count ?? 0),
});

/** The user columns with their organization and ticket counts (the counts read the tickets_user index). */
function withCounts(db: Db, q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q.leftJoin('organizations as o', 'o.id', 'u.organization_id').select(
    'u.id', 'u.name', 'u.email', 'u.phone', 'u.notes', 'u.is_banned', 'u.organization_id', 'u.is_primary_contact', 'u.created_at', 'o.name as organization_name',
    db('tickets').count('*').where('user_id', db.ref('u.id')).as('ticket_count'),
    db('tickets').count('*').where('user_id', db.ref('u.id')).andWhere('state', 'open').as('open_tickets'),
  );
}

export interface UserListQuery {
  q?: string;
  /** Only the members of this organization. */
  org?: string;
  sort?: string;
  page?: string;
}

/**
 * A page of users: whose name or email starts with `q` (case-insensitive), of one organization, by
 * name, email or newest first. @throws Forbidden
 */
export async function listUsers(ctx: ServiceContext, query: UserListQuery = {}): Promise<Page<DirectoryUser> & { sort: UserSort; organization: { id: number; name: string } | null }> {
  assertAgent(ctx);
  const db = ctx.db;
  const q = withCounts(db, db('users as u'));
  const term = query.q?.trim().toLowerCase().slice(0, 100);
  if (term) q.where((w) => void whereStartsWith(w, 'u.name', term).orWhere((o) => whereStartsWith(o, 'u.email', term)));
  const orgId = Number(query.org);
  let organization: { id: number; name: string } | null = null;
  if (Number.isInteger(orgId) && orgId > 0) {
    const org = await db('organizations').where({ id: orgId }).first('id', 'name');
    if (!org) throw new NotFound('That organization does not exist.', 'NOT_FOUND');
    organization = { id: org.id, name: org.name };
    q.where('u.organization_id', orgId);
  }
  const sort: UserSort = query.sort && Object.hasOwn(USER_SORTS, query.sort) ? (query.sort as UserSort) : 'name';
  q.orderBy(sort === 'email' ? [{ column: 'u.email' }] : sort === 'created' ? [{ column: 'u.created_at', order: 'desc' }, { column: 'u.id', order: 'desc' }] : [{ column: 'u.name' }, { column: 'u.id' }]);
  const page = await paginate(db, q, query.page, USERS_PAGE_SIZE, toDirectoryUser);
  return { ...page, sort, organization };
}

export interface UserTicket {
  id: number;
  number: string;
  subject: string;
  status: string;
  state: string;
  department: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** The user is a CC of it, not its requester. */
  asCc: boolean;
}

/**
 * One user with their tickets the agent may see (as requester or CC), newest first, a page at a time.
 * @throws Forbidden, NotFound
 */
export async function getUser(ctx: ServiceContext, userId: number, opts: { page?: string } = {}): Promise<{ user: DirectoryUser; tickets: Page<UserTicket> }> {
  const actor = assertAgent(ctx);
  const db = ctx.db;
  const row = await withCounts(db, db('users as u')).where('u.id', userId).first();
  if (!row) throw new NotFound('That user does not exist.', 'USER_NOT_FOUND');
  const q = whereAgentMaySee(
    db('tickets as t').leftJoin('departments as d', 'd.id', 't.department_id')
      .where((w) => w.where('t.user_id', userId).orWhereIn('t.id', db('ticket_collaborators').where({ user_id: userId }).select('ticket_id'))),
    actor,
  ).select('t.id', 't.number', 't.subject', 't.status', 't.state', 't.user_id', 't.created_at', 't.updated_at', 'd.name as department')
    .orderBy([{ column: 't.created_at', order: 'desc' }, { column: 't.id', order: 'desc' }]);
  const tickets = await paginate(db, q, opts.page, USER_TICKETS_PAGE_SIZE, (r: any): UserTicket => ({
    id: r.id, number: r.number, subject: r.subject, status: r.status, state: r.state, department: r.department ?? null,
    createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at), asCc: Number(r.user_id) !== userId,
  }));
  return { user: toDirectoryUser(row), tickets };
}

export const UpdateUserInput = z.object({
  name: requiredText(120, 'Name'),
  email,
  phone: optionalText(40, 'Phone'),
  notes: optionalText(5000, 'Notes'),
  organizationId: optionalId,
  isPrimaryContact: checkbox.default(false),
});
export type UpdateUserInput = z.input<typeof UpdateUserInput>;

/** How many tickets one statement renames (a CASE over their ids). */
const RENAME_BATCH = 500;

/**
 * Rewrites the requester name kept on a user's tickets (tickets.requester_name, for the queue's sort
 * and search) and their search text, in the caller's transaction, a batch at a time. The quick
 * search's word index follows in the background (search_indexed false; ticket-search-index.ts).
 */
async function renameOnTickets(trx: Knex.Transaction, userId: number, name: string): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await trx('tickets').where('user_id', userId).where('id', '>', after).orderBy('id').limit(RENAME_BATCH).select('id', 'subject');
    if (!rows.length) return;
    await trx('tickets').whereIn('id', rows.map((r: any) => r.id)).update({
      requester_name: name,
      search_text: caseById(trx, 'id', rows.map((r: any): [number, string] => [r.id, searchText(String(r.subject), name)]), 'search_text'),
      search_indexed: false,
    });
    after = rows[rows.length - 1].id;
  }
}

/**
 * An agent corrects a user: name (their tickets follow), email (unique; not an agent's), phone,
 * notes, organization and primary contact. Audited with what changed.
 * @throws Forbidden, NotFound, ValidationFailed
 */
export async function updateUser(ctx: ServiceContext, userId: number, raw: UpdateUserInput): Promise<void> {
  assertAgent(ctx);
  const input = parseInput(UpdateUserInput, raw);
  await inTransaction(ctx, async (trx) => {
    const before = await trx('users').where({ id: userId }).forUpdate().first();
    if (!before) throw new NotFound('That user does not exist.', 'USER_NOT_FOUND');
    const fields: Record<string, string> = {};
    if (input.email !== before.email) {
      if (await trx('users').where({ email: input.email }).whereNot('id', userId).first('id')) fields.email = 'Another user has this email address';
      else if (await trx('agents').where({ email: input.email }).first('id')) fields.email = 'That is an agent’s address';
    }
    if (input.organizationId && !(await trx('organizations').where({ id: input.organizationId }).first('id'))) fields.organizationId = 'Choose from the list';
    if (input.isPrimaryContact && !input.organizationId) fields.isPrimaryContact = 'A primary contact belongs to an organization';
    if (Object.keys(fields).length) throw new ValidationFailed(fields);
    const after = {
      name: input.name, email: input.email, phone: input.phone ?? null, notes: input.notes ?? null,
      organization_id: input.organizationId ?? null, is_primary_contact: input.isPrimaryContact,
    };
    try {
      await trx('users').where({ id: userId }).update({ ...after, updated_at: toDbDate(ctx.clock()) });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ValidationFailed({ email: 'Another user has this email address' });
      throw err;
    }
    if (input.name !== before.name) await renameOnTickets(trx, userId, input.name);
    const b = { name: before.name, email: before.email, phone: before.phone ?? null, notes: before.notes ?? null, organizationId: before.organization_id ?? null, isPrimaryContact: dbBool(before.is_primary_contact) };
    const a = { name: after.name, email: after.email, phone: after.phone, notes: after.notes, organizationId: after.organization_id, isPrimaryContact: after.is_primary_contact };
    const diff = changes(b, a);
    if (Object.keys(diff.after).length) await recordAudit(ctx, trx, { action: 'user.update', entity: 'user', entityId: userId, ...diff });
  });
}

/**
 * Bans a user (no new tickets or messages from their address, by portal, mail or API; they are not
 * added as a CC) or lifts the ban. Idempotent; audited. A ban of their whole domain is on the ban list.
 * @throws Forbidden, NotFound
 */
export async function setUserBanned(ctx: ServiceContext, userId: number, banned: boolean): Promise<void> {
  assertAgent(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await trx('users').where({ id: userId }).forUpdate().first('id', 'email', 'is_banned');
    if (!row) throw new NotFound('That user does not exist.', 'USER_NOT_FOUND');
    if (dbBool(row.is_banned) === banned) return;
    await trx('users').where({ id: userId }).update({ is_banned: banned, updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: banned ? 'user.ban' : 'user.unban', entity: 'user', entityId: userId, before: { email: row.email, isBanned: !banned }, after: { isBanned: banned } });
  });
}
