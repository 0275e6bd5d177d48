/**
 * Admin: a webhook's delivery log (newest first, by status, paginated), one delivery with its request
 * payload and last answer, "Redeliver" (queue it again, now, with a fresh set of attempts) and "Send
 * test ping" (a `ping` delivery). Admins only; redeliver and ping are audited.
 */
import { z } from 'zod';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { paginate, assertAdmin, type Page } from '../admin/admin-support.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { InvalidTransition, NotFound } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { formatDate } from '../tickets/ticket-presenters.ts';
import { id, pageNumber, parseInput } from '../validation.ts';
import { eventLabel, PING_EVENT } from './webhook-events.ts';
import { webhookActor } from './webhook-enqueue.ts';
import { getWebhook } from './webhook-service.ts';

export const DELIVERY_STATUSES = ['queued', 'sending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const PAGE_SIZE = 25;

const ListInput = z.object({
  status: z.preprocess((v) => (v === '' ? undefined : v), z.enum(DELIVERY_STATUSES).optional()),
  page: pageNumber,
});

export interface DeliveryItem {
  id: number;
  event: string;
  eventLabel: string;
  ticketId: number | null;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  /** The dates as agent pages show them, in the help desk's zone ('' for none). */
  createdText: string;
  lastAttemptText: string;
  nextAttemptText: string;
}

export interface DeliveryDetail extends DeliveryItem {
  webhookId: number;
  /** The request body as sent (pretty-printed); null before the first attempt. */
  payload: string | null;
  lastResponse: string | null;
  finishedText: string;
}

function item(r: any, tz: string): DeliveryItem {
  return {
    id: Number(r.id), event: r.event, eventLabel: eventLabel(r.event), ticketId: r.ticket_id ?? null, status: r.status, attempts: Number(r.attempts),
    lastStatusCode: r.last_status_code ?? null, lastError: r.last_error ?? null, lastDurationMs: r.last_duration_ms ?? null,
    createdText: formatDate(dbDate(r.created_at), tz), lastAttemptText: formatDate(dbDate(r.last_attempt_at), tz),
    nextAttemptText: r.status === 'queued' ? formatDate(dbDate(r.next_attempt_at), tz) : '',
  };
}

function pretty(json: string | null): string | null {
  if (!json) return null;
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

/** One page of a webhook's deliveries, newest first, optionally of one status. @throws Forbidden, NotFound */
export async function listDeliveries(ctx: ServiceContext, webhookId: unknown, raw: { status?: unknown; page?: unknown }): Promise<Page<DeliveryItem> & { status: DeliveryStatus | null }> {
  const hook = await getWebhook(ctx, webhookId);
  const input = parseInput(ListInput, raw);
  const q = ctx.db('webhook_deliveries').where({ webhook_id: hook.id })
    .select('id', 'event', 'ticket_id', 'status', 'attempts', 'last_status_code', 'last_error', 'last_duration_ms', 'created_at', 'last_attempt_at', 'next_attempt_at')
    .orderBy('id', 'desc');
  if (input.status) q.where({ status: input.status });
  const { timezone } = await getSettings(ctx.db);
  return { ...(await paginate(ctx.db, q, input.page, PAGE_SIZE, (r) => item(r, timezone))), status: input.status ?? null };
}

async function loadDelivery(ctx: ServiceContext, webhookId: number, deliveryId: unknown, db = ctx.db) {
  const row = await db('webhook_deliveries').where({ id: parseInput(id, deliveryId), webhook_id: webhookId }).first();
  if (!row) throw new NotFound('That delivery does not exist.', 'WEBHOOK_DELIVERY_NOT_FOUND');
  return row;
}

/** One delivery of a webhook, with its payload and last answer. @throws Forbidden, NotFound */
export async function getDelivery(ctx: ServiceContext, webhookId: unknown, deliveryId: unknown): Promise<DeliveryDetail> {
  const hook = await getWebhook(ctx, webhookId);
  const r = await loadDelivery(ctx, hook.id, deliveryId);
  const { timezone } = await getSettings(ctx.db);
  return { ...item(r, timezone), webhookId: hook.id, payload: pretty(r.payload), lastResponse: r.last_response ?? null, finishedText: formatDate(dbDate(r.finished_at), timezone) };
}

/**
 * Queues a delivery again, now, with a fresh set of attempts; the same body (and id) goes out again.
 * @throws Forbidden, NotFound, InvalidTransition WEBHOOK_DELIVERY_SENDING (being sent right now)
 */
export async function redeliverWebhookDelivery(ctx: ServiceContext, webhookId: unknown, deliveryId: unknown): Promise<void> {
  const hook = await getWebhook(ctx, webhookId);
  await inTransaction(ctx, async (trx) => {
    const r = await loadDelivery(ctx, hook.id, deliveryId, trx);
    // Conditional on the status read: a worker that claimed it meanwhile makes this change nothing.
    const changed = await trx('webhook_deliveries').where({ id: r.id }).whereNot({ status: 'sending' })
      .update({ status: 'queued', attempts: 0, next_attempt_at: toDbDate(ctx.clock()), finished_at: null, locked_by: null, locked_at: null });
    if (changed !== 1) throw new InvalidTransition('This delivery is being sent right now; try again in a moment.', 'WEBHOOK_DELIVERY_SENDING');
    await recordAudit(ctx, trx, { action: 'webhook.redeliver', entity: 'webhook', entityId: hook.id, before: { delivery: r.id, status: r.status, attempts: r.attempts }, after: { status: 'queued' } });
  });
}

/** Queues a `ping` delivery to an active webhook; returns its id. @throws Forbidden, NotFound, InvalidTransition WEBHOOK_DISABLED */
export async function sendWebhookPing(ctx: ServiceContext, webhookId: unknown): Promise<number> {
  const hook = await getWebhook(ctx, webhookId);
  if (!hook.isActive) throw new InvalidTransition('This webhook is disabled: enable it to send a test ping.', 'WEBHOOK_DISABLED');
  const now = toDbDate(ctx.clock());
  const data = { message: 'A test ping from Tessera: this webhook is reachable.', webhook: { id: hook.id, name: hook.name, events: hook.events } };
  return inTransaction(ctx, async (trx) => {
    const [deliveryId] = await trx('webhook_deliveries').insert({
      webhook_id: hook.id, ticket_id: null, event: PING_EVENT, actor: JSON.stringify(webhookActor(ctx.actor)), data: JSON.stringify(data),
      occurred_at: now, status: 'queued', attempts: 0, next_attempt_at: now, created_at: now,
    });
    await recordAudit(ctx, trx, { action: 'webhook.ping', entity: 'webhook', entityId: hook.id, after: { delivery: deliveryId } });
    return deliveryId as number;
  });
}
