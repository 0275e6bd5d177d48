/**
 * The ban list (osTicket's "Banned emails", Zendesk's suspended users): addresses, or whole domains
 * ('@example.com'), whose tickets and messages are refused — on the portal, by mail and through the
 * API (checkSender, isBanned in user-service.ts) — and who are never added as CCs. Admins keep it;
 * a single user can also be banned from their page (user-directory-service.ts setUserBanned).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { isUniqueViolation, toDbDate, whereLike } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict } from '../errors.ts';
import { systemAddresses } from '../mail/system-addresses.ts';
import type { Settings } from '../settings/settings-service.ts';
import { email, optionalText } from '../validation.ts';
import { domainOf } from './user-service.ts';
import {
  assertAdmin, assertUnique, changes, deleteCatalogRow, loadRow, paginate, validateForm, writeOrConflict, type CatalogSpec, type FormInput, type Page,
} from '../admin/admin-support.ts';

export interface Ban {
  id: number;
  pattern: string;
  note: string | null;
  createdAt: Date;
}

const toBan = (r: any): Ban => ({ id: r.id, pattern: r.pattern, note: r.note ?? null, createdAt: new Date(r.created_at) });

export const banSpec: CatalogSpec<Ban> = { table: 'bans', entity: 'ban', label: 'ban', usedBy: [], toDomain: toBan };

const DOMAIN = /^@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** An address, or '@' and a domain: lower case, as the sender check compares them. */
const pattern = z.string({ error: 'Enter an email address or @domain' }).trim().toLowerCase().min(1, 'Enter an email address or @domain').max(191, 'At most 191 characters')
  .refine((v) => (v.startsWith('@') ? DOMAIN.test(v) : email.safeParse(v).success), 'Enter an email address (ann@example.com) or a domain after @ (@example.com)');

export const BanInput = z.object({ pattern, note: optionalText(255, 'Note') });
export type BanInput = FormInput<typeof BanInput>;
type Parsed = z.output<typeof BanInput>;

const ALREADY = 'This address or domain is on the ban list already.';
const taken = () => new Conflict(ALREADY, 'NAME_TAKEN', { fields: { pattern: ALREADY } });

function validate(ctx: ServiceContext, raw: BanInput, exceptId?: number): Promise<Parsed> {
  return validateForm(BanInput, raw, (v) => [() => assertUnique(ctx.db, banSpec, 'pattern', v.pattern, exceptId, 'pattern').catch((err: unknown) => Promise.reject(err instanceof Conflict ? taken() : err))]);
}

/** The ban list, newest first; `q`: patterns containing it. @throws Forbidden */
export async function listBans(ctx: ServiceContext, query: { q?: string; page?: string } = {}): Promise<Page<Ban>> {
  assertAdmin(ctx);
  const q = ctx.db('bans').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).select('*');
  const term = query.q?.trim().toLowerCase();
  if (term) whereLike(q, 'pattern', term);
  return paginate(ctx.db, q, query.page, 50, toBan);
}

/** @throws Forbidden, NotFound */
export async function getBan(ctx: ServiceContext, banId: number): Promise<Ban> {
  assertAdmin(ctx);
  return toBan(await loadRow(ctx.db, banSpec, banId));
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN (already on the list) */
export async function createBan(ctx: ServiceContext, raw: BanInput): Promise<Ban> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    const now = ctx.clock();
    const [banId] = await trx('bans').insert({ pattern: input.pattern, note: input.note ?? null, created_at: toDbDate(now) });
    const ban = { id: banId, pattern: input.pattern, note: input.note ?? null, createdAt: now };
    await recordAudit(ctx, trx, { action: 'ban.create', entity: 'ban', entityId: banId, after: { pattern: ban.pattern, note: ban.note } });
    return ban;
  }), taken);
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateBan(ctx: ServiceContext, banId: number, raw: BanInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, banId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    const before = toBan(await loadRow(trx, banSpec, banId));
    await trx('bans').where({ id: banId }).update({ pattern: input.pattern, note: input.note ?? null });
    await recordAudit(ctx, trx, { action: 'ban.update', entity: 'ban', entityId: banId, ...changes({ pattern: before.pattern, note: before.note }, { pattern: input.pattern, note: input.note ?? null }) });
  }), taken);
}

/** Lifts a ban (the address or domain may write again). @throws Forbidden, NotFound */
export function deleteBan(ctx: ServiceContext, banId: number): Promise<void> {
  return deleteCatalogRow(ctx, banSpec, banId);
}

/**
 * Why the address `address` may not be put on the ban list from a ticket (deleting spam: "also ban
 * the requester"), or null when it may: not an email address; one of the help desk's own addresses
 * (its inbound address, a department's: banning it would refuse the desk's own mail); an agent's
 * address (an agent's test ticket is not spam, and agents are managed in the admin area).
 */
export async function banRefusal(db: Knex | Knex.Transaction, address: string, settings: Pick<Settings, 'inbound_address'>): Promise<string | null> {
  const a = address.trim().toLowerCase();
  if (!pattern.safeParse(a).success || a.startsWith('@')) return 'That is not an email address that can be banned';
  if ((await systemAddresses(db, settings)).has(a)) return 'That is one of the help desk’s own addresses: it cannot be banned';
  if (await db('agents').where({ email: a }).first('id')) return 'That is an agent’s address: it cannot be banned';
  return null;
}

/**
 * Puts `address` on the ban list in the caller's transaction (audited as ban.create), unless the list
 * already bans it (the address itself, or its whole domain): 'already'. The caller has checked it with
 * banRefusal.
 */
export async function banAddress(ctx: ServiceContext, trx: Knex.Transaction, address: string, note: string): Promise<'added' | 'already'> {
  const a = address.trim().toLowerCase();
  if (await trx('bans').whereIn('pattern', [a, `@${domainOf(a)}`]).first('id')) return 'already';
  let banId: number;
  try {
    [banId] = await trx('bans').insert({ pattern: a, note: note.slice(0, 255), created_at: toDbDate(ctx.clock()) });
  } catch (err) {
    // Listed by someone else meanwhile (the unique pattern): banned all the same.
    if (isUniqueViolation(err)) return 'already';
    throw err;
  }
  await recordAudit(ctx, trx, { action: 'ban.create', entity: 'ban', entityId: banId, after: { pattern: a, note: note.slice(0, 255) } });
  return 'added';
}
