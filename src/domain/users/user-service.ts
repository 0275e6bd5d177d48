/** End users (requesters), known by email. */
import type { Knex } from 'knex';
import { dbBool, fromOneRow, isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import { requestMemo } from '../request-memo.ts';

export interface User {
  id: number;
  email: string;
  name: string;
  phone: string | null;
}

/** The organization a sender belongs to (their own, or for a new address the one claiming its domain). */
export interface SenderOrganization {
  id: number;
  /** Who of its members are copied on a member's new ticket (organization-service.ts). */
  autoCc: 'none' | 'primary' | 'all';
  /** The account manager given a member's unassigned new tickets. */
  managerAgentId: number | null;
}

/** What is known about a sender before a ticket is opened: banned or not, the user of that address if any, and their organization. */
export interface Sender {
  banned: boolean;
  user: User | null;
  organization: SenderOrganization | null;
}

const normalise = (email: string) => email.trim().toLowerCase();
/** The domain of an address (lower case, without '@'). */
export const domainOf = (email: string) => normalise(email).split('@')[1] ?? '';

/**
 * Finds the user by email (lower-cased), or creates them. A known user's name is kept; an empty phone
 * is filled in. Safe against two requests creating the same user at once.
 * `known` is the user as `checkSender` read it (null: there was none), so it is not read twice;
 * without it the user is looked up here.
 */
export async function findOrCreateUser(trx: Knex | Knex.Transaction, input: { email: string; name: string; phone?: string | null; organizationId?: number | null }, now: Date, known?: User | null): Promise<User> {
  const email = normalise(input.email);
  const existing = known === undefined ? toUser(await trx('users').where({ email }).first()) : known;
  if (existing) {
    if (input.phone && !existing.phone) await trx('users').where({ id: existing.id }).update({ phone: input.phone, updated_at: toDbDate(now) });
    return { ...existing, phone: existing.phone ?? input.phone ?? null };
  }
  try {
    // A new address joins the (active) organization that claims its domain: the caller's, read with
    // the sender (Sender.organization), or else read here as part of the same INSERT.
    const organizationId = input.organizationId !== undefined ? input.organizationId : trx.raw('(select od.organization_id from organization_domains od join organizations o on o.id = od.organization_id and o.is_active = ? where od.domain = ?)', [true, domainOf(email)]);
    const [id] = await trx('users').insert({ email, name: input.name, phone: input.phone ?? null, is_banned: false, organization_id: organizationId, created_at: toDbDate(now), updated_at: toDbDate(now) });
    return { id, email, name: input.name, phone: input.phone ?? null };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Created meanwhile by another request. A locking read sees the committed row even inside a
    // MySQL transaction whose snapshot predates it (a plain read would not).
    return toUser(await trx('users').where({ email }).forShare().first())!;
  }
}

function toUser(row: any): User | null {
  return row?.id ? { id: row.id, email: row.email, name: row.name, phone: row.phone ?? null } : null;
}

/**
 * Adds the sender check of `email` to a query over one row (see fromOneRow), so that it costs no
 * statement of its own: a ban pattern that matches (exact address or '@domain'), the user of that
 * address, and their organization (a known user's own; for a new address, the active one claiming its
 * domain), as `sender_*` columns. Read them back with senderFrom.
 */
export function withSender(db: Knex | Knex.Transaction, qb: Knex.QueryBuilder, email: string): Knex.QueryBuilder {
  const e = normalise(email);
  const domain = domainOf(e);
  return qb
    .leftJoin('users as su', 'su.email', db.raw('?', [e]))
    .leftJoin('organization_domains as sod', 'sod.domain', db.raw('?', [domain]))
    .leftJoin('organizations as so', (j) => j.on('so.id', db.raw('case when su.id is null then sod.organization_id else su.organization_id end')).andOn('so.is_active', db.raw('?', [true])))
    .select(
      db('bans').whereIn('pattern', [e, '@' + domain]).select('id').limit(1).as('sender_ban_id'),
      'su.id as sender_id', 'su.email as sender_email', 'su.name as sender_name', 'su.phone as sender_phone', 'su.is_banned as sender_is_banned',
      'so.id as sender_org_id', 'so.auto_cc as sender_org_auto_cc', 'so.manager_agent_id as sender_org_manager_id',
    );
}

/** The sender from a row read with withSender: a matching ban pattern or the user's own ban flag makes them banned. */
export function senderFrom(row: Record<string, unknown> | undefined): Sender {
  const user = toUser(row && { id: row.sender_id, email: row.sender_email, name: row.sender_name, phone: row.sender_phone });
  const organization: SenderOrganization | null = row?.sender_org_id
    ? { id: Number(row.sender_org_id), autoCc: (['primary', 'all'].includes(String(row.sender_org_auto_cc)) ? row.sender_org_auto_cc : 'none') as SenderOrganization['autoCc'], managerAgentId: row.sender_org_manager_id ? Number(row.sender_org_manager_id) : null }
    : null;
  return { banned: Boolean(row?.sender_ban_id) || dbBool(row?.sender_is_banned), user, organization };
}

/** The ban check and the user of that address, in one statement (see withSender). */
export async function checkSender(db: Knex | Knex.Transaction, email: string): Promise<Sender> {
  return senderFrom(await withSender(db, fromOneRow(db), email).first());
}

/** True when `email` matches the ban list (exact address or '@domain'), or its user is banned. */
export async function isBanned(db: Knex | Knex.Transaction, email: string): Promise<boolean> {
  return (await checkSender(db, email)).banned;
}

/** What a portal request knows of its signed-in user. */
export type SessionUser = Pick<User, 'id' | 'email' | 'name'>;

/**
 * Adds the user of a session row (`userIdColumn`) to the statement that reads the session, as `pu_*`
 * columns, so a portal request's user costs no statement of its own (primeSessionUser, loadSessionUser).
 */
export function withSessionUser(qb: Knex.QueryBuilder, userIdColumn: string): Knex.QueryBuilder {
  return qb.leftJoin('users as pu', 'pu.id', userIdColumn).select('pu.id as pu_id', 'pu.email as pu_email', 'pu.name as pu_name');
}

/** Keeps the user read with withSessionUser (its `pu_*` columns) for this request's first loadSessionUser of that id. */
export function primeSessionUser(row: Record<string, unknown> | undefined): void {
  const memo = requestMemo();
  if (!memo || !row?.pu_id) return;
  (memo.users ??= new Map()).set(Number(row.pu_id), { id: Number(row.pu_id), email: String(row.pu_email), name: String(row.pu_name) });
}

/** The user `id` of a portal session: read along with the session (once), or one statement. */
export async function loadSessionUser(db: Knex | Knex.Transaction, id: number): Promise<SessionUser | null> {
  const primed = requestMemo()?.users;
  if (primed?.has(id)) {
    const u = primed.get(id) as SessionUser;
    primed.delete(id);
    return u;
  }
  const row = await db('users').where({ id }).first('id', 'email', 'name');
  return row ? { id: row.id, email: row.email, name: row.name } : null;
}
