/**
 * Admin: outgoing webhooks (create, edit, enable/disable, delete, rotate the signing secret). A
 * webhook POSTs a signed JSON payload to its URL for each ticket event it subscribes to (see
 * docs/WEBHOOKS.md). Admins only; every change is audited — never with the secret in it — and writes
 * a new `webhooks_version` into the settings in its transaction, so that each process reads the
 * active webhooks again (webhook-enqueue.ts).
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { getSettings, writeSettings } from '../settings/settings-service.ts';
import { checkbox, id, parseInput, requiredText } from '../validation.ts';
import {
  assertAdmin, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';
import { webhookUrlRefusal } from './webhook-address.ts';
import { WEBHOOK_EVENT_NAMES, isWebhookEvent } from './webhook-events.ts';
import { newWebhookSecret, toWebhook, toWebhookWithSecret, type Webhook, type WebhookWithSecret } from './webhook-store.ts';

type Db = Knex | Knex.Transaction;

/** The longest target URL (the column's length). */
export const URL_MAX = 2000;

export const webhookSpec: CatalogSpec<Webhook> = { table: 'webhooks', entity: 'webhook', label: 'webhook', toDomain: toWebhook, usedBy: [] };

/** Whether `s` is an absolute http:// or https:// URL with a host and no user name or password in it. */
function isTargetUrl(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname && !u.username && !u.password;
}

const targetUrl = z.string({ error: 'URL: enter an http:// or https:// address' }).trim()
  .min(1, 'URL is required').max(URL_MAX, `URL: at most ${URL_MAX} characters`)
  .refine(isTargetUrl, 'URL: enter a full http:// or https:// address (no user name or password in it)');

/** Event checkboxes: absent → none, one → [one]; each a known ticket event; at least one. */
const eventList = z.preprocess(
  (v) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]),
  z.array(z.string({ error: 'Events: choose from the list' }).refine(isWebhookEvent, 'Events: choose from the list'), { error: 'Events: choose from the list' })
    .min(1, 'Choose at least one event').max(WEBHOOK_EVENT_NAMES.length * 2, 'Events: choose from the list')
    .transform((a) => WEBHOOK_EVENT_NAMES.filter((e) => a.includes(e))),
);

export const WebhookInput = z.object({
  name: requiredText(120, 'Name'),
  url: targetUrl,
  events: eventList,
  isActive: checkbox,
});
export type WebhookInput = FormInput<typeof WebhookInput>;
type Parsed = z.output<typeof WebhookInput>;

function validate(ctx: ServiceContext, raw: WebhookInput, exceptId?: number): Promise<Parsed> {
  return validateForm(WebhookInput, raw, (v) => [() => assertUnique(ctx.db, webhookSpec, 'name', v.name, exceptId), () => assertReachable(ctx, v.url)]);
}

/**
 * An IP address in the URL (or localhost) that deliveries may not reach is refused on the form; a host
 * name is checked at each delivery, on what it resolves to then (webhook-address.ts). @throws ValidationFailed
 */
async function assertReachable(ctx: ServiceContext, url: string | undefined): Promise<void> {
  if (!url) return;
  const refusal = webhookUrlRefusal(url, (await getSettings(ctx.db)).webhooks_allow_local_network);
  if (refusal) throw new ValidationFailed({ url: `URL: ${refusal}` });
}

/** What the audit log keeps of a webhook (never the secret). */
const snapshot = (v: Pick<Parsed, 'name' | 'url' | 'events' | 'isActive'>) => ({ name: v.name, url: v.url, events: v.events, isActive: v.isActive });

/** Every webhook change tells every process to read the active webhooks again (see the module comment). */
async function webhooksChanged(trx: Db, now: Date): Promise<void> {
  await writeSettings(trx, { webhooks_version: crypto.randomUUID() }, now);
}

export interface WebhookListItem extends Webhook {
  /** The status of its latest delivery, if any. */
  lastStatus: string | null;
}

/** Every webhook by name, with its latest delivery's status. @throws Forbidden */
export async function listWebhooks(ctx: ServiceContext): Promise<WebhookListItem[]> {
  assertAdmin(ctx);
  const last = ctx.db('webhook_deliveries as d').where('d.webhook_id', ctx.db.ref('w.id')).orderBy('d.id', 'desc').limit(1).select('d.status').as('last_status');
  const rows = await ctx.db('webhooks as w').select('w.*', last).orderBy('w.name').orderBy('w.id');
  return rows.map((r: any) => ({ ...toWebhook(r), lastStatus: r.last_status ?? null }));
}

/** One webhook with its signing secret (for its admin page). @throws Forbidden, NotFound */
export async function getWebhook(ctx: ServiceContext, webhookId: unknown): Promise<WebhookWithSecret> {
  assertAdmin(ctx);
  return toWebhookWithSecret(await loadRow(ctx.db, webhookSpec, parseInput(id, webhookId)));
}

/** Creates a webhook with a new random signing secret. @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createWebhook(ctx: ServiceContext, raw: WebhookInput): Promise<WebhookWithSecret> {
  assertAdmin(ctx);
  const v = await validate(ctx, raw);
  const now = ctx.clock();
  const row = { name: v.name, url: v.url, secret: newWebhookSecret(), events: JSON.stringify(v.events), is_active: v.isActive, created_at: toDbDate(now), updated_at: toDbDate(now) };
  const newId = await inTransaction(ctx, (trx) => writeOrConflict(async () => {
    await assertUnique(trx, webhookSpec, 'name', v.name);
    const [insertedId] = await trx('webhooks').insert(row);
    await recordAudit(ctx, trx, { action: 'webhook.create', entity: 'webhook', entityId: insertedId, after: snapshot(v) });
    await webhooksChanged(trx, now);
    return insertedId as number;
  }, () => nameTaken('webhook')));
  return toWebhookWithSecret({ ...row, id: newId });
}

/** Changes a webhook's name, URL, events and active flag (not its secret). @throws Forbidden, NotFound, ValidationFailed, Conflict */
export async function updateWebhook(ctx: ServiceContext, webhookId: unknown, raw: WebhookInput): Promise<Webhook> {
  assertAdmin(ctx);
  const before = await getWebhook(ctx, webhookId);
  const v = await validate(ctx, raw, before.id);
  const now = ctx.clock();
  await inTransaction(ctx, (trx) => writeOrConflict(async () => {
    await assertUnique(trx, webhookSpec, 'name', v.name, before.id);
    await trx('webhooks').where({ id: before.id }).update({ name: v.name, url: v.url, events: JSON.stringify(v.events), is_active: v.isActive, updated_at: toDbDate(now) });
    await recordAudit(ctx, trx, { action: 'webhook.update', entity: 'webhook', entityId: before.id, ...changes(snapshot(before), snapshot(v)) });
    await webhooksChanged(trx, now);
  }, () => nameTaken('webhook')));
  return { ...before, name: v.name, url: v.url, events: v.events, isActive: v.isActive, updatedAt: now };
}

/** Enables or disables a webhook (a disabled one gets no new deliveries; queued ones wait). Idempotent. @throws Forbidden, NotFound */
export async function setWebhookActive(ctx: ServiceContext, webhookId: unknown, active: boolean): Promise<void> {
  assertAdmin(ctx);
  const hookId = parseInput(id, webhookId);
  await inTransaction(ctx, async (trx) => {
    const row = await loadRow(trx, webhookSpec, hookId);
    if (dbBool(row.is_active) === active) return;
    await trx('webhooks').where({ id: hookId }).update({ is_active: active, updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: `webhook.${active ? 'enable' : 'disable'}`, entity: 'webhook', entityId: hookId, before: { isActive: !active }, after: { isActive: active } });
    await webhooksChanged(trx, ctx.clock());
  });
}

/** Deletes a webhook and (the foreign key cascades) its deliveries. @throws Forbidden, NotFound */
export async function deleteWebhook(ctx: ServiceContext, webhookId: unknown): Promise<void> {
  await deleteCatalogRow(ctx, webhookSpec, parseInput(id, webhookId), (trx) => webhooksChanged(trx, ctx.clock()));
}

/** Replaces the signing secret with a new random one (the old one stops working at once). @throws Forbidden, NotFound */
export async function rotateWebhookSecret(ctx: ServiceContext, webhookId: unknown): Promise<void> {
  assertAdmin(ctx);
  const hook = await getWebhook(ctx, webhookId);
  await inTransaction(ctx, async (trx) => {
    await trx('webhooks').where({ id: hook.id }).update({ secret: newWebhookSecret(), updated_at: toDbDate(ctx.clock()) });
    // The audit row says that it changed, never what to.
    await recordAudit(ctx, trx, { action: 'webhook.rotate_secret', entity: 'webhook', entityId: hook.id });
  });
}
