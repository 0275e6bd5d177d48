/** API keys: random, shown once, stored as a SHA-256 hash, restricted to an address or range. */
import crypto from 'node:crypto';
import net from 'node:net';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, isSqlite, jsonObject, insertReturning, toDbDate } from '../../db/dialect.ts';
import { windowAssignments, windowEnd } from '../rate-limits/rate-limit-window.ts';
import { getSettings, primeSettings, settingsColumn } from '../settings/settings-service.ts';
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

function toSummary(r: any, lastUsedAt: Date | null): ApiKeySummary {
  return {
    id: r.id, prefix: r.key_prefix, note: r.note ?? null, allowedIp: r.allowed_ip, canCreateTickets: dbBool(r.can_create_tickets),
    canManageTickets: dbBool(r.can_manage_tickets), isActive: dbBool(r.is_active), lastUsedAt, createdAt: dbDate(r.created_at),
  };
}

/**
 * Summaries of `rows` (api_keys rows). A key was last used when its latest rate-limit window began
 * (the first call after the previous window ended: to the minute, as the panel shows it).
 */
async function summaries(db: Knex | Knex.Transaction, rows: any[]): Promise<ApiKeySummary[]> {
  const windows = rows.length ? await db('rate_limits').whereIn('key', rows.map((r) => apiKeyWindowKey(r.id))).select('key', 'reset_at') : [];
  const started = new Map(windows.map((w) => [w.key as string, new Date(dbDate(w.reset_at)!.getTime() - API_KEY_WINDOW_MS)]));
  return rows.map((r) => toSummary(r, started.get(apiKeyWindowKey(r.id)) ?? null));
}

/** Every API key (never the key itself: only its first characters). @throws Forbidden */
export async function listApiKeys(ctx: ServiceContext): Promise<ApiKeySummary[]> {
  assertKeyAdmin(ctx);
  return summaries(ctx.db, await ctx.db('api_keys').orderBy('id'));
}

/** One API key. @throws Forbidden, NotFound */
export async function getApiKey(ctx: ServiceContext, keyId: unknown): Promise<ApiKeySummary> {
  assertKeyAdmin(ctx);
  const row = await ctx.db('api_keys').where({ id: parseInput(id, keyId) }).first();
  if (!row) throw new NotFound('API key not found.', 'API_KEY_NOT_FOUND');
  return (await summaries(ctx.db, [row]))[0];
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
    await trx('rate_limits').where({ key: apiKeyWindowKey(key.id) }).delete();
    await recordAudit(ctx, trx, { action: 'api_key.delete', entity: 'api_key', entityId: key.id, before: { prefix: key.prefix, note: key.note, allowedIp: key.allowedIp } });
  });
}

/** An API key's calls are counted in windows of a minute; the limit per window is the setting api_rate_limit_per_minute. */
export const API_KEY_WINDOW_MS = 60_000;

/**
 * The rate_limits row of a key's window is API_KEY_WINDOW_PREFIX + the key's id (COUNT_CALL_* below
 * write it so). It outlives the window (housekeeping keeps it): it says when the key was last used.
 */
export const API_KEY_WINDOW_PREFIX = 'api:key';
export function apiKeyWindowKey(keyId: number): string {
  return `${API_KEY_WINDOW_PREFIX}${keyId}`;
}

/** An authenticated call: who, and how it stands in its key's rate-limit window. */
export interface ApiKeyCall {
  actor: ApiActor;
  /** Calls in the window so far, this one included. */
  hits: number;
  /** api_rate_limit_per_minute when the call came. */
  limit: number;
  resetAt: Date;
}

// NOTE(dialect): one statement finds the key by its hash and counts the call in the key's window
// (INSERT … SELECT from api_keys: an unknown key inserts and returns nothing), and its RETURNING
// clause carries the key and the settings. The window's assignments are windowAssignments'.
// The window's key is API_KEY_WINDOW_PREFIX + id (the first binding), as apiKeyWindowKey makes it.
const COUNT_CALL_SQLITE = "insert into rate_limits (\"key\", hits, reset_at) select ? || id, 1, ? from api_keys where key_hash = ? on conflict (\"key\") do update set hits = ?, reset_at = ?";
const COUNT_CALL_MYSQL = "insert into rate_limits (`key`, hits, reset_at) select concat(?, id), 1, ? from api_keys where key_hash = ? on duplicate key update hits = ?, reset_at = ?";
const KEY_JSON = "(select json_object('id', id, 'isActive', is_active, 'allowedIp', allowed_ip, 'canCreateTickets', can_create_tickets, 'canManageTickets', can_manage_tickets) from api_keys where key_hash = ?)";

/** Counts a call of the key whose hash is `hash` in its window; undefined when no key has that hash. One statement (two on MySQL 8). */
async function countKeyCall(db: Knex, hash: string, now: Date): Promise<{ hits: unknown; reset_at: unknown; api_key: unknown; settings_rows: unknown } | undefined> {
  const set = windowAssignments(db, now, API_KEY_WINDOW_MS);
  const insert = db.raw(isSqlite(db) ? COUNT_CALL_SQLITE : COUNT_CALL_MYSQL, [API_KEY_WINDOW_PREFIX, windowEnd(now, API_KEY_WINDOW_MS), hash, set.hits, set.reset_at]);
  // sql-safe: KEY_JSON is a constant with one ? binding.
  const returning = db.raw(`hits, reset_at, ${KEY_JSON} as api_key, ?`, [hash, settingsColumn(db)]);
  const rows = await insertReturning<{ hits: unknown; reset_at: unknown; api_key: unknown; settings_rows: unknown }>(db, insert, returning, () =>
    // sql-safe: KEY_JSON is a constant with one ? binding.
    db('rate_limits').whereIn('key', db('api_keys').where({ key_hash: hash }).select(db.raw('concat(?, id)', [API_KEY_WINDOW_PREFIX]))).select('hits', 'reset_at', db.raw(`${KEY_JSON} as api_key`, [hash]), settingsColumn(db)));
  return rows[0];
}

/**
 * Finds the key sent with a request, checks it may be used from `ip` and counts the call in the
 * key's window (one statement, which also reads the settings: primeSettings). The key is looked up by
 * its hash, so the stored value never meets the sent one. An empty or whitespace key never matches.
 * A refused call is not counted (it is taken back), so a key's holder elsewhere cannot use up its limit.
 * The caller answers 429 when `hits` is above `limit`.
 * @throws Unauthenticated API_KEY_REQUIRED (none, or unknown), API_KEY_REFUSED (disabled, or not from this address)
 */
export async function authenticateApiKey(db: Knex, sent: unknown, ip: string | undefined, now: Date): Promise<ApiKeyCall> {
  const key = typeof sent === 'string' ? sent.trim() : '';
  if (!key || key.length > 200) throw new Unauthenticated('Valid API key required', 'API_KEY_REQUIRED');
  const row = await countKeyCall(db, hashApiKey(key), now);
  if (!row) throw new Unauthenticated('Valid API key required', 'API_KEY_REQUIRED');
  primeSettings(row.settings_rows);
  const k = jsonObject(row.api_key);
  const keyId = Number(k.id);
  if (!dbBool(k.isActive) || !ipAllowed(String(k.allowedIp), ip)) {
    await db('rate_limits').where({ key: apiKeyWindowKey(keyId) }).where('hits', '>', 0).decrement('hits', 1);
    throw new Unauthenticated('API key not found/active or source IP not authorized', 'API_KEY_REFUSED');
  }
  return {
    actor: { kind: 'api', keyId, canCreateTickets: dbBool(k.canCreateTickets), canManageTickets: dbBool(k.canManageTickets) },
    hits: Number(row.hits),
    limit: (await getSettings(db)).api_rate_limit_per_minute,
    resetAt: dbDate(row.reset_at)!,
  };
}
