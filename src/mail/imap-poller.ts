/**
 * IMAP polling (IMAP_URL, every IMAP_POLL_SECONDS): unseen messages of the mailbox are filed one by
 * one through processInboundMail and marked \Seen only after that committed. A message whose
 * processing failed unexpectedly stays unseen and is tried again on the next poll; one the pipeline
 * refused or ignored is marked seen (it is in inbound_messages). Several processes may poll the
 * same mailbox: the unique Message-ID in inbound_messages stores each message once.
 */
import { ImapFlow } from 'imapflow';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { SYSTEM } from '../domain/actor.ts';
import { processInboundMail, type InboundResult } from '../domain/mail/inbound-service.ts';
import type { BackgroundTask } from '../jobs/background.ts';

export interface ImapPollOptions {
  db: Knex;
  clock: () => Date;
  publicUrl: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** imap://user:pass@host:143/INBOX or imaps://… */
  url: string;
  /** At most this many messages per poll, oldest first. */
  max?: number;
}

export function imapClientFor(url: string): { client: ImapFlow; mailbox: string } {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  const client = new ImapFlow({
    host: u.hostname,
    port: Number(u.port) || (secure ? 993 : 143),
    secure,
    auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  return { client, mailbox: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX' };
}

/** One poll. Returns what happened to each message. */
export async function pollImapOnce(o: ImapPollOptions): Promise<InboundResult[]> {
  const { client, mailbox } = imapClientFor(o.url);
  client.on('error', (err) => o.logger.warn({ err }, 'imap: connection error'));
  const results: InboundResult[] = [];
  await client.connect();
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const uids = ((await client.search({ seen: false }, { uid: true })) || []).sort((a, b) => a - b).slice(0, o.max ?? 30);
      for (const uid of uids) {
        const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (!msg || !msg.source) continue;
        let r: InboundResult;
        try {
          r = await processInboundMail({ db: o.db, actor: SYSTEM, clock: o.clock, publicUrl: o.publicUrl }, msg.source, 'imap');
        } catch (err) {
          // Left unseen: tried again next poll. Stop this poll (most likely the database is down).
          o.logger.error({ err, uid }, 'imap: processing failed; message left unseen for the next poll');
          break;
        }
        o.logger.info({ channel: 'imap', uid, ...r }, 'inbound mail');
        results.push(r);
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return results;
}

export const imapTask: BackgroundTask = {
  name: 'imap-poll',
  intervalMs: (d) => (d.config.imap?.pollSeconds ?? 60) * 1000,
  async run(d) {
    if (!d.config.imap) return;
    await pollImapOnce({ db: d.db, clock: d.clock, publicUrl: d.config.publicUrl, logger: d.logger, url: d.config.imap.url });
  },
};
