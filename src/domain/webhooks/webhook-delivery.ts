/**
 * Delivery state of webhook_deliveries rows, shared by every worker process (the HTTP itself is in
 * src/jobs/webhook-task.ts), on the mail outbox's pattern (src/domain/mail/outbox-delivery.ts):
 *
 * - Claiming is one conditional UPDATE (`… SET status='sending' … WHERE id=? AND status='queued'`): of
 *   several processes racing for a row exactly one sees "1 row changed" and sends it. The attempt
 *   counter is raised at claim time, so a delivery that kills its worker every time still ends.
 * - AT-LEAST-ONCE: a worker that dies between the receiver's answer and the UPDATE leaves the row in
 *   'sending'; after SENDING_TIMEOUT_MS it is queued again and may arrive twice, with the same
 *   X-Tessera-Delivery id (receivers de-duplicate on it).
 * - The body is built at the first attempt (the ticket as it stands then) and kept: retries and
 *   redeliveries send the same bytes, signed anew with a fresh timestamp.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { getApiTicketById } from '../api/api-ticket-queries.ts';

type Db = Knex | Knex.Transaction;

/** After this many attempts a delivery is 'failed' (an admin may redeliver it). */
export const MAX_ATTEMPTS = 8;
/** The wait after failed attempt n (1-based): 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h — about 45 hours in all. */
export const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000, 12 * 3600_000, 24 * 3600_000];
/** A row in 'sending' longer than this belongs to a worker that died (an attempt takes at most the 10 s timeout). */
export const SENDING_TIMEOUT_MS = 5 * 60_000;
/** How much of an error message and of a response body is kept. */
export const ERROR_MAX = 1000;
export const RESPONSE_MAX = 1000;

/** The delay before the next attempt after `attempts` failed ones. */
export function retryDelayMs(attempts: number): number {
  return RETRY_DELAYS_MS[Math.min(Math.max(attempts, 1), RETRY_DELAYS_MS.length) - 1];
}

/** The X-Tessera-Signature value: 'sha256=' + hex HMAC-SHA256(secret, timestamp + '.' + body). */
export function signWebhookBody(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  id: number;
  webhookId: number;
  event: string;
  attempts: number;
  url: string;
  secret: string;
  /** The JSON body, built at the first attempt. */
  body: string;
}

/** Puts rows stuck in 'sending' (their worker died) back in the queue. Returns how many. */
export async function recoverStuckDeliveries(db: Db, now: Date): Promise<number> {
  return db('webhook_deliveries')
    .where({ status: 'sending' })
    .andWhere('locked_at', '<', toDbDate(new Date(now.getTime() - SENDING_TIMEOUT_MS)))
    .update({ status: 'queued', locked_by: null, locked_at: null, next_attempt_at: toDbDate(now), last_error: 'Recovered after the sending worker stopped; may have been delivered already' });
}

/** Ids of queued deliveries that are due, of active webhooks, oldest first (a disabled webhook's wait). */
export async function dueDeliveryIds(db: Db, now: Date, limit: number): Promise<number[]> {
  return db('webhook_deliveries as d')
    .join('webhooks as w', 'w.id', 'd.webhook_id')
    .where('d.status', 'queued').andWhere('d.next_attempt_at', '<=', toDbDate(now)).andWhere('w.is_active', true)
    .orderBy([{ column: 'd.next_attempt_at' }, { column: 'd.id' }]).limit(limit).pluck('d.id');
}

/**
 * Claims one queued delivery for `workerId` and returns it with its webhook's URL and secret and its
 * body (built and kept now when this is its first attempt); null when another worker won.
 */
export async function claimDelivery(db: Db, id: number, workerId: string, now: Date, publicUrl: string): Promise<ClaimedDelivery | null> {
  const changed = await db('webhook_deliveries')
    .where({ id, status: 'queued' })
    .update({ status: 'sending', locked_by: workerId.slice(0, 64), locked_at: toDbDate(now), attempts: db.raw('attempts + 1') });
  if (changed !== 1) return null;
  const r = await db('webhook_deliveries as d').join('webhooks as w', 'w.id', 'd.webhook_id').where('d.id', id)
    .first('d.*', 'w.url', 'w.secret');
  let body: string = r.payload;
  if (!body) {
    body = JSON.stringify(await buildPayload(db, r, publicUrl));
    await db('webhook_deliveries').where({ id }).update({ payload: body });
  }
  return { id, webhookId: Number(r.webhook_id), event: r.event, attempts: Number(r.attempts), url: r.url, secret: r.secret, body };
}

function parseJson(text: unknown): unknown {
  try {
    return text ? JSON.parse(String(text)) : null;
  } catch {
    return null;
  }
}

/**
 * The payload: the delivery's id and event, when and by whom, the event's data, the ticket as it
 * stands now (as GET /api/v1/tickets/:number shows it, without the thread, plus links) and, for an
 * event about a thread entry (message, response, note), that entry.
 */
export async function buildPayload(db: Db, r: any, publicUrl: string): Promise<Record<string, unknown>> {
  const data = (parseJson(r.data) ?? {}) as Record<string, unknown>;
  const base = publicUrl.replace(/\/+$/, '');
  const t = r.ticket_id ? await getApiTicketById(db, Number(r.ticket_id)) : null;
  const ticket = t && {
    ...t,
    urls: { agent: `${base}/scp/tickets/${t.id}`, portal: `${base}/tickets/${encodeURIComponent(t.number)}`, api: `${base}/api/v1/tickets/${encodeURIComponent(t.number)}` },
  };
  const payload: Record<string, unknown> = {
    id: Number(r.id), event: r.event, occurred_at: dbDate(r.occurred_at)?.toISOString() ?? null, actor: parseJson(r.actor), data, ticket,
  };
  if (t && typeof data.entryId === 'number') {
    const e = await db('thread_entries').where({ id: data.entryId, ticket_id: t.id }).first('id', 'kind', 'poster_name', 'body', 'source', 'created_at');
    if (e) payload.entry = { id: e.id, kind: e.kind, poster: e.poster_name ?? null, body: e.body, source: e.source, createdAt: dbDate(e.created_at)?.toISOString() ?? null };
  }
  return payload;
}

/** What one HTTP attempt came to. */
export interface AttemptOutcome {
  /** The HTTP status, when an answer came. */
  statusCode: number | null;
  /** Why it failed (non-2xx, timeout, refused…); null when delivered. */
  error: string | null;
  /** The start of the answer's body. */
  response: string | null;
  durationMs: number;
  /** Nothing was sent and trying again would not help (the address is refused): failed at once, no retries. */
  permanent?: boolean;
}

/**
 * Records an attempt of a delivery this worker holds: 'delivered' (2xx), queued again after its
 * backoff, or 'failed' after MAX_ATTEMPTS or at once for a permanent refusal. Returns the new status.
 */
export async function recordAttempt(db: Db, d: Pick<ClaimedDelivery, 'id' | 'attempts'>, workerId: string, now: Date, o: AttemptOutcome): Promise<'delivered' | 'queued' | 'failed'> {
  const ok = o.error === null && o.statusCode !== null && o.statusCode >= 200 && o.statusCode < 300;
  const status = ok ? 'delivered' : o.permanent || d.attempts >= MAX_ATTEMPTS ? 'failed' : 'queued';
  await db('webhook_deliveries')
    .where({ id: d.id, status: 'sending', locked_by: workerId.slice(0, 64) })
    .update({
      status, locked_by: null, locked_at: null, last_attempt_at: toDbDate(now), last_status_code: o.statusCode,
      last_error: ok ? null : (o.error ?? `HTTP ${o.statusCode}`).slice(0, ERROR_MAX), last_response: o.response?.slice(0, RESPONSE_MAX) ?? null,
      last_duration_ms: Math.round(o.durationMs),
      finished_at: status === 'queued' ? null : toDbDate(now),
      next_attempt_at: toDbDate(status === 'queued' ? new Date(now.getTime() + retryDelayMs(d.attempts)) : now),
    });
  return status;
}
