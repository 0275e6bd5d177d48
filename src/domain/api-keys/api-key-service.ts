/** API keys: random, shown once, stored as a SHA-256 hash, restricted to an address or range. */
import crypto from 'node:crypto';
import net from 'node:net';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, toDbDate } from '../../db/dialect.ts';
import { primeSettings, settingsColumn } from '../settings/settings-service.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { isAdmin, type ApiActor } from '../actor.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Forbidden, NotFound, Unauthenticated, ValidationFailed } from '../errors.ts';
import { checkbox, id, optionalText, parseInput } from '../validation.ts';

/** True when `ip` is `allowed` (an address, a CIDR range, or '*' / '0.0.0.0/0' for any). */
export function ipAllowed(allowed: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const addr = ip.replace(/^::ffff:/, '');
  if (allowed === '*') return true;
  const [base, bitsRaw] = allowed.split('/');
  const cleanBase = base.replace(/^::ffff:/, '');
  if (bitsRaw === undefined) return cleanBase === addr;
  const family = net.isIPv4(cleanBase) ? 'ipv4' : 'ipv6';
  if ((family === 'ipv4') !== net.isIPv4(addr)) return false;
  const list = new net.BlockList();
  list.addSubnet(cleanBase, Number(bitsRaw), family);
  return list.check(addr, family);
}

function validIpOrRange(v: string): boolean {
  if (v === '*') return true;
  const [base, bits] = v.split('/');
  const fam = net.isIP(base);
  if (!fam) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (fam === 4 ? 32 : 128);
}

const allowedIp = z.string({ error: 'Enter an IP address or range' }).trim().min(1, 'Enter an IP address or range').max(64).refine(validIpOrRange, 'Enter an IP address (10.0.0.5), a range (10.0.0.0/24) or *');

export const CreateApiKeyInput = z.object({
  allowedIp,
  note: optionalText(255, 'Note'),
  // A checkbox: absent means no (the admin form sends nothing for an unticked box; the CLI passes true).
  canCreateTickets: checkbox.default(false),
  canManageTickets: checkbox.default(false),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Creates an API key (admins, or the system actor for the CLI). Returns the key itself, shown once.
 * @throws ValidationFailed, Forbidden
 */
export async function createApiKey(ctx: ServiceContext, raw: CreateApiKeyInput): Promise<{ id: number; key: string }> {
  assertKeyAdmin(ctx);
  const input = parseInput(CreateApiKeyInput, raw);
  if (!input.canCreateTickets && !input.canManageTickets) throw new ValidationFailed({ canCreateTickets: 'Give the key at least one permission' });
  const key = 'tsk_' + crypto.randomBytes(24).toString('base64url');
  const id = await inTransaction(ctx, async (trx) => {
    const [newId] = await trx('api_keys').insert({
      key_hash: hashApiKey(key),
      key_prefix: key.slice(0, 10),
      note: input.note ?? null,
      allowed_ip: input.allowedIp,
      can_create_tickets: input.canCreateTickets,
      can_manage_tickets: input.canManageTickets,
      is_active: true,
      created_by_agent_id: ctx.actor.kind === 'agent' ? ctx.actor.id : null,
      created_at: toDbDate(ctx.clock()),
    });
    await recordAudit(ctx, trx, { action: 'api_key.create', entity: 'api_key', entityId: newId, after: { allowedIp: input.allowedIp, note: input.note, prefix: key.slice(0, 10) } });
    return newId;
  });
  return { id, key };
}

function assertKeyAdmin(ctx: ServiceContext): void {
  if (!isAdmin(ctx.actor) && ctx.actor.kind !== 'system') throw new Forbidden('Only administrators can manage API keys.', 'ADMIN_ONLY');
}

export interface ApiKeySummary {
  id: number;
  prefix: string;
  note: string | null;
  allowedIp: string;
  canCreateTickets: boolean;
  canManageTickets: boolean;
  isActive: boolean;
  lastUsedAt: Date | null;
  createdAt: Date | null;
}

function toSummary(r: any): ApiKeySummary {
  return {
    id: r.id, prefix: r.key_prefix, note: r.note ?? null, allowedIp: r.allowed_ip, canCreateTickets: dbBool(r.can_create_tickets),
    canManageTickets: dbBool(r.can_manage_tickets), isActive: dbBool(r.is_active), lastUsedAt: dbDate(r.last_used_at), createdAt: dbDate(r.created_at),
  };
}

/** Every API key (never the key itself: only its first characters). @throws Forbidden */
export async function listApiKeys(ctx: ServiceContext): Promise<ApiKeySummary[]> {
  assertKeyAdmin(ctx);
  return (await ctx.db('api_keys').orderBy('id')).map(toSummary);
}

/** One API key. @throws Forbidden, NotFound */
export async function getApiKey(ctx: ServiceContext, keyId: unknown): Promise<ApiKeySummary> {
  assertKeyAdmin(ctx);
  const row = await ctx.db('api_keys').where({ id: parseInput(id, keyId) }).first();
  if (!row) throw new NotFound('API key not found.', 'API_KEY_NOT_FOUND');
  return toSummary(row);
}

export const UpdateApiKeyInput = CreateApiKeyInput.extend({ keyId: id });
export type UpdateApiKeyInput = z.input<typeof UpdateApiKeyInput>;

/** Changes a key's note, allowed address and permissions (the key itself never changes). @throws ValidationFailed, Forbidden, NotFound */
export async function updateApiKey(ctx: ServiceContext, raw: UpdateApiKeyInput): Promise<ApiKeySummary> {
  assertKeyAdmin(ctx);
  const input = parseInput(UpdateApiKeyInput, raw);
  if (!input.canCreateTickets && !input.canManageTickets) throw new ValidationFailed({ canCreateTickets: 'Give the key at least one permission' });
  const before = await getApiKey(ctx, input.keyId);
  const patch = { note: input.note ?? null, allowed_ip: input.allowedIp, can_create_tickets: input.canCreateTickets, can_manage_tickets: input.canManageTickets };
  await inTransaction(ctx, async (trx) => {
    await trx('api_keys').where({ id: input.keyId }).update(patch);
    await recordAudit(ctx, trx, {
      action: 'api_key.update', entity: 'api_key', entityId: input.keyId,
      before: { note: before.note, allowedIp: before.allowedIp, canCreateTickets: before.canCreateTickets, canManageTickets: before.canManageTickets },
      after: { note: patch.note, allowedIp: patch.allowed_ip, canCreateTickets: patch.can_create_tickets, canManageTickets: patch.can_manage_tickets },
    });
  });
  return { ...before, note: patch.note, allowedIp: patch.allowed_ip, canCreateTickets: patch.can_create_tickets, canManageTickets: patch.can_manage_tickets };
}

/** Disables (active=false) or enables a key; a disabled key is refused at once. @throws Forbidden, NotFound */
export async function setApiKeyActive(ctx: ServiceContext, keyId: unknown, active: boolean): Promise<void> {
  assertKeyAdmin(ctx);
  const key = await getApiKey(ctx, keyId);
  await inTransaction(ctx, async (trx) => {
    await trx('api_keys').where({ id: key.id }).update({ is_active: active });
    await recordAudit(ctx, trx, { action: active ? 'api_key.enable' : 'api_key.disable', entity: 'api_key', entityId: key.id, before: { isActive: key.isActive }, after: { isActive: active } });
  });
}

/** Deletes a key for good. @throws Forbidden, NotFound */
export async function deleteApiKey(ctx: ServiceContext, keyId: unknown): Promise<void> {
  assertKeyAdmin(ctx);
  const key = await getApiKey(ctx, keyId);
  await inTransaction(ctx, async (trx) => {
    await trx('api_keys').where({ id: key.id }).delete();
    await recordAudit(ctx, trx, { action: 'api_key.delete', entity: 'api_key', entityId: key.id, before: { prefix: key.prefix, note: key.note, allowedIp: key.allowedIp } });
  });
}

/**
 * Finds the key sent with a request and checks it may be used from `ip`. The key is looked up by its
 * hash, so the stored value never meets the sent one. An empty or whitespace key never matches.
 * @throws Unauthenticated API_KEY_REQUIRED (none, or unknown), API_KEY_REFUSED (disabled, or not from this address)
 */
export async function authenticateApiKey(db: Knex, sent: unknown, ip: string | undefined, now: Date): Promise<ApiActor> {
  const key = typeof sent === 'string' ? sent.trim() : '';
  if (!key || key.length > 200) throw new Unauthenticated('Valid API key required', 'API_KEY_REQUIRED');
  // The request's settings ride along (primeSettings): the rate limit and the handler need them next.
  const row = await db('api_keys').where({ key_hash: hashApiKey(key) }).first('*', settingsColumn(db));
  if (!row) throw new Unauthenticated('Valid API key required', 'API_KEY_REQUIRED');
  primeSettings(row.settings_rows);
  if (!dbBool(row.is_active) || !ipAllowed(row.allowed_ip, ip)) throw new Unauthenticated('API key not found/active or source IP not authorized', 'API_KEY_REFUSED');
  // Written at most once a minute per key: a busy integration must not turn every call into a write.
  const last = dbDate(row.last_used_at);
  if (!last || now.getTime() - last.getTime() > 60_000) await db('api_keys').where({ id: row.id }).update({ last_used_at: toDbDate(now) });
  return { kind: 'api', keyId: row.id, canCreateTickets: dbBool(row.can_create_tickets), canManageTickets: dbBool(row.can_manage_tickets) };
}
