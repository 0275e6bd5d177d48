/**
 * The webhook delivery worker: recovers rows whose worker died, claims due deliveries (atomically, see
 * src/domain/webhooks/webhook-delivery.ts) and POSTs each, signed, to its webhook's URL with Node's
 * http/https: a 10 s timeout, redirects never followed (a 3xx is a failed attempt), 2xx = delivered,
 * and only to addresses the webhook may reach (webhook-address.ts: checked on the resolved addresses
 * as the socket connects; a refused one fails the delivery at once, with the reason in its log).
 * A few deliveries go out side by side, so one slow receiver does not hold up the others.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Knex } from 'knex';
import { WORKER_ID } from '../worker-id.ts';
import type { Logger } from 'pino';
import type { BackgroundTask } from './background.ts';
import { getSettings } from '../domain/settings/settings-service.ts';
import {
  claimDelivery, dueDeliveryIds, recordAttempt, recoverStuckDeliveries, RESPONSE_MAX, signWebhookBody, type AttemptOutcome, type ClaimedDelivery,
} from '../domain/webhooks/webhook-delivery.ts';
import { webhookAddressRefusal, webhookLookup, WebhookAddressRefused, type HostResolver } from '../domain/webhooks/webhook-address.ts';

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
  /** How host names are resolved (default: the system's resolver; tests give their own). */
  resolve?: HostResolver;
}

export interface WebhookRunResult {
  delivered: number;
  retrying: number;
  failed: number;
  recovered: number;
}


/** Reads at most `max` characters of a body, then stops reading (leaving the loop destroys the stream). */
async function readStart(res: http.IncomingMessage, max: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res) {
    text += decoder.decode(chunk as Buffer, { stream: true });
    if (text.length >= max) break;
  }
  return text.slice(0, max);
}

function errorText(err: any): string {
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'Timed out (no answer within the time limit)';
  const cause = err?.cause;
  const code = cause?.code ?? err?.code;
  return [code, cause?.message ?? err?.message ?? String(err)].filter(Boolean).join(': ');
}

/** How an attempt may connect: the setting webhooks_allow_local_network, and (tests) the resolver. */
export interface PostOptions {
  allowLocal: boolean;
  resolve?: HostResolver;
  timeoutMs?: number;
}

/**
 * One POST with Node's http/https (not fetch: its connections cannot be pinned to checked addresses).
 * `lookup` is the only way the socket learns an address; a fresh connection each time (`agent: false`),
 * so no pooled socket opened under other rules is reused; redirects are never followed.
 */
function send(url: URL, headers: Record<string, string>, body: string, lookup: net.LookupFunction, timeoutMs: number): Promise<{ status: number; location?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, lookup, agent: false, signal: AbortSignal.timeout(timeoutMs),
    }, (res) => {
      readStart(res, RESPONSE_MAX).then((text) => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text }), reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One signed POST of a claimed delivery; never throws. An address the webhook may not reach
 * (webhook-address.ts) is refused before connecting — an IP address in the URL here, a host name's
 * addresses in the lookup — as a permanent failure: nothing is sent, and no retries follow.
 */
export async function postDelivery(d: ClaimedDelivery, now: Date, o: PostOptions): Promise<AttemptOutcome> {
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
  const refused = (reason: string): AttemptOutcome => ({ statusCode: null, error: `Refused before connecting: ${reason}`, response: null, durationMs: performance.now() - started, permanent: true });
  try {
    const url = new URL(d.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Node connects to an IP address without calling `lookup`: that one is checked here.
    const literal = net.isIP(host) ? webhookAddressRefusal(host, o.allowLocal) : null;
    if (literal) return refused(literal);
    const res = await send(url, headers, d.body, webhookLookup(o.allowLocal, o.resolve), o.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
    const ok = res.status >= 200 && res.status < 300;
    const where = res.status >= 300 && res.status < 400 && res.location ? ` (redirects are not followed: ${res.location})` : '';
    return { statusCode: res.status, error: ok ? null : `HTTP ${res.status}${where}`, response: res.text, durationMs: performance.now() - started };
  } catch (err) {
    if (err instanceof WebhookAddressRefused) return refused(err.message);
    return { statusCode: null, error: errorText(err), response: null, durationMs: performance.now() - started };
  }
}

/** Delivers what is due: claims each delivery, sends it and records the attempt. */
export async function deliverWebhooks(o: WebhookRunOptions): Promise<WebhookRunResult> {
  const workerId = o.workerId ?? WORKER_ID;
  const result: WebhookRunResult = { delivered: 0, retrying: 0, failed: 0, recovered: await recoverStuckDeliveries(o.db, o.clock()) };
  if (result.recovered) o.logger?.warn({ recovered: result.recovered }, 'webhooks: re-queued deliveries stuck in sending');
  const ids = await dueDeliveryIds(o.db, o.clock(), o.limit ?? 50);
  if (!ids.length) return result;
  // Read per run: turning the setting off stops the next run's deliveries to the local network.
  const allowLocal = (await getSettings(o.db)).webhooks_allow_local_network;
  const one = async (id: number) => {
    const d = await claimDelivery(o.db, id, workerId, o.clock(), o.publicUrl);
    if (!d) return; // another worker has it
    const outcome = await postDelivery(d, o.clock(), { allowLocal, resolve: o.resolve, timeoutMs: o.timeoutMs });
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
