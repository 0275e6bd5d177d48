/**
 * The outbox worker: recovers rows whose worker died, claims due messages one by one (atomically,
 * see src/domain/mail/outbox-delivery.ts) and sends them over SMTP. With no SMTP_URL it does
 * nothing and mail waits in the outbox (visible in the admin mail log).
 */
import type { Knex } from 'knex';
import { WORKER_ID } from '../worker-id.ts';
import type { Logger } from 'pino';
import { claimMessage, dueMessageIds, markAttemptFailed, markDelivered, recoverStuckMessages } from '../domain/mail/outbox-delivery.ts';
import { createSmtpTransport, defaultFrom, messageFor, type MailTransport } from './mail-transport.ts';
import type { BackgroundTask } from '../jobs/background.ts';

export interface OutboxRunOptions {
  db: Knex;
  clock: () => Date;
  transport: MailTransport;
  from: string;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  workerId?: string;
  /** At most this many messages per run. */
  limit?: number;
}

export interface OutboxRunResult {
  sent: number;
  retrying: number;
  failed: number;
  recovered: number;
}


/** One SMTP reply code ≥ 500 means the server refused the message for good. */
function isPermanent(err: any): boolean {
  return typeof err?.responseCode === 'number' && err.responseCode >= 500;
}

export async function deliverOutbox(o: OutboxRunOptions): Promise<OutboxRunResult> {
  const workerId = o.workerId ?? WORKER_ID;
  const result: OutboxRunResult = { sent: 0, retrying: 0, failed: 0, recovered: 0 };
  result.recovered = await recoverStuckMessages(o.db, o.clock());
  if (result.recovered) o.logger?.warn({ recovered: result.recovered }, 'outbox: re-queued messages stuck in sending');
  const ids = await dueMessageIds(o.db, o.clock(), o.limit ?? 50);
  for (const id of ids) {
    const row = await claimMessage(o.db, id, workerId, o.clock());
    if (!row) continue; // another worker has it
    try {
      await o.transport.sendMail(messageFor(row, o.from));
      await markDelivered(o.db, row.id, workerId, o.clock());
      result.sent += 1;
    } catch (err: any) {
      const msg = `${err?.responseCode ? err.responseCode + ' ' : ''}${err?.message ?? String(err)}`;
      const status = await markAttemptFailed(o.db, row, workerId, o.clock(), msg, isPermanent(err));
      o.logger?.warn({ outboxId: row.id, attempts: row.attempts, status, err: msg }, 'outbox: delivery failed');
      if (status === 'failed') result.failed += 1;
      else result.retrying += 1;
      // The server is unreachable: stop this run instead of failing every message in turn.
      if (!err?.responseCode && /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|ECONNRESET|ESOCKET|ECONNECTION/.test(`${err?.code} ${msg}`)) break;
    }
  }
  return result;
}

/** Background task: every 5 seconds, when SMTP_URL is set. */
export const outboxTask: BackgroundTask = {
  name: 'outbox',
  intervalMs: () => 5_000,
  async run(d) {
    if (!d.config.smtpUrl) return;
    const transport = createSmtpTransport(d.config.smtpUrl);
    try {
      const r = await deliverOutbox({ db: d.db, clock: d.clock, transport, from: defaultFrom(d.config), logger: d.logger });
      if (r.sent || r.failed) d.logger.info(r, 'outbox: delivered');
    } finally {
      transport.close();
    }
  },
};
