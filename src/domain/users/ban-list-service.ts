/**
 * The ban list (osTicket's "Banned emails", Zendesk's suspended users): addresses, or whole domains
 * ('@example.com'), whose tickets and messages are refused — on the portal, by mail and through the
 * API (checkSender, isBanned in user-service.ts) — and who are never added as CCs. Admins keep it;
 * a single user can also be banned from their page (user-directory-service.ts setUserBanned).
 */
import { z } from 'zod';
import { toDbDate, whereLike } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict } from '../errors.ts';
import { email, optionalText } from '../validation.ts';
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
