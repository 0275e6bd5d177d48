/**
 * The webhook delivery worker: recovers rows whose worker died, claims due deliveries (atomically, see
 * src/domain/webhooks/webhook-delivery.ts) and POSTs each, signed, to its webhook's URL with Node's
 * fetch: a 10 s timeout, redirects never followed (a 3xx is a failed attempt), 2xx = delivered.
 * A few deliveries go out side by side, so one slow receiver does not hold up the others.
 */
import type { Knex } from 'knex';
import { WORKER_ID } from '../worker-id.ts';
import type { Logger } from 'pino';
import type { BackgroundTask } from './background.ts';
import { getSettings } from '../domain/settings/settings-service.ts';
import {
  claimDelivery, dueDeliveryIds, recordAttempt, recoverStuckDeliveries, RESPONSE_MAX, signWebhookBody, type AttemptOutcome, type ClaimedDelivery,
} from '../domain/webhooks/webhook-delivery.ts';

/** How long one attempt may take, answer included. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const USER_AGENT = 'Tessera-Webhooks';

export interface WebhookRunOptions {
  db: Knex;
  clock: () => Date;
  /** PUBLIC_URL, for the links in payloads. */
  publicUrl: string;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  workerId?: string;
  /** At most this many deliveries per run (default 50). */
  limit?: number;
  /** Deliveries in flight at once (default 4). */
  concurrency?: number;
  timeoutMs?: number;
}

export interface WebhookRunResult {
  delivered: number;
  retrying: number;
  failed: number;
  recovered: number;
}


/** Reads at most `max` characters of a body, then stops reading. */
async function readStart(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, max);
}

function errorText(err: any): string {
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'Timed out (no answer within the time limit)';
  const cause = err?.cause;
  const code = cause?.code ?? err?.code;
  return [code, cause?.message ?? err?.message ?? String(err)].filter(Boolean).join(': ');
}

/** One signed POST of a claimed delivery; never throws. */
export async function postDelivery(d: ClaimedDelivery, now: Date, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<AttemptOutcome> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Tessera-Event': d.event,
    'X-Tessera-Delivery': String(d.id),
    'X-Tessera-Timestamp': timestamp,
    'X-Tessera-Signature': signWebhookBody(d.secret, timestamp, d.body),
  };
  const started = performance.now();
  try {
    const res = await fetch(d.url, { method: 'POST', headers, body: d.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const response = await readStart(res, RESPONSE_MAX);
    const ok = res.status >= 200 && res.status < 300;
    const where = res.status >= 300 && res.status < 400 && res.headers.get('location') ? ` (redirects are not followed: ${res.headers.get('location')})` : '';
    return { statusCode: res.status, error: ok ? null : `HTTP ${res.status}${where}`, response, durationMs: performance.now() - started };
  } catch (err) {
    return { statusCode: null, error: errorText(err), response: null, durationMs: performance.now() - started };
  }
}

/** Delivers what is due: claims each delivery, sends it and records the attempt. */
export async function deliverWebhooks(o: WebhookRunOptions): Promise<WebhookRunResult> {
  const workerId = o.workerId ?? WORKER_ID;
  const result: WebhookRunResult = { delivered: 0, retrying: 0, failed: 0, recovered: await recoverStuckDeliveries(o.db, o.clock()) };
  if (result.recovered) o.logger?.warn({ recovered: result.recovered }, 'webhooks: re-queued deliveries stuck in sending');
  const ids = await dueDeliveryIds(o.db, o.clock(), o.limit ?? 50);
  const one = async (id: number) => {
    const d = await claimDelivery(o.db, id, workerId, o.clock(), o.publicUrl);
    if (!d) return; // another worker has it
    const outcome = await postDelivery(d, o.clock(), o.timeoutMs);
    const status = await recordAttempt(o.db, d, workerId, o.clock(), outcome);
    if (status === 'delivered') result.delivered += 1;
    else {
      if (status === 'failed') result.failed += 1;
      else result.retrying += 1;
      o.logger?.warn({ webhookDeliveryId: d.id, webhookId: d.webhookId, attempts: d.attempts, status, err: outcome.error }, 'webhooks: delivery failed');
    }
  };
  const queue = [...ids];
  const lanes = Array.from({ length: Math.min(o.concurrency ?? 4, queue.length) }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await one(id);
      } catch (err) {
        o.logger?.error({ err, webhookDeliveryId: id }, 'webhooks: could not process a delivery; it is retried after the sending timeout');
      }
    }
  });
  await Promise.all(lanes);
  return result;
}

/** Background task: every 5 seconds; one read of the settings only, on a help desk that never had a webhook. */
export const webhookTask: BackgroundTask = {
  name: 'webhooks',
  intervalMs: () => 5_000,
  async run(d) {
    if (!(await getSettings(d.db)).webhooks_version) return;
    const r = await deliverWebhooks({ db: d.db, clock: d.clock, publicUrl: d.config.publicUrl, logger: d.logger });
    if (r.delivered || r.failed) d.logger.info(r, 'webhooks: delivered');
  },
};
