/**
 * The built-in inbound SMTP listener (INBOUND_SMTP_PORT; off by default). Every accepted message
 * goes through processInboundMail. Reply codes: 250 once the message is filed (or deliberately
 * ignored), 550 when refused (banned sender, rate limit, malformed), 552 too large, 451 when
 * something unexpected failed, so the sending server keeps the message and retries: a message we
 * answered 250 to is never lost.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { Knex } from 'knex';
import { SYSTEM } from '../domain/actor.ts';
import { MAX_INBOUND_BYTES, processInboundMail } from '../domain/mail/inbound-service.ts';

export interface InboundSmtpOptions {
  db: Knex;
  clock: () => Date;
  publicUrl: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  port: number;
  host: string;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

async function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Starts listening; resolves with the bound port and a close function. */
export async function startInboundSmtp(o: InboundSmtpOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new SMTPServer({
    name: new URL(o.publicUrl).hostname || 'tessera',
    banner: 'Tessera inbound mail',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_INBOUND_BYTES,
    logger: false,
    maxClients: 50,
    socketTimeout: 60_000,
    async onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void) {
      try {
        const raw = await readAll(stream);
        if (stream.sizeExceeded) {
          o.logger.warn({ bytes: raw.length }, 'inbound smtp: message too large, refused');
          return callback(smtpError(552, 'Message exceeds the maximum size'));
        }
        const mailFrom = session.envelope.mailFrom;
        const envelopeFrom = mailFrom === false ? '' : (mailFrom.address ?? '');
        const ctx = { db: o.db, actor: SYSTEM, clock: o.clock, publicUrl: o.publicUrl };
        const r = await processInboundMail(ctx, raw, 'smtp', { envelopeFrom });
        o.logger.info({ channel: 'smtp', ...r }, 'inbound mail');
        if (r.outcome === 'rejected') return callback(smtpError(550, `Message refused (${r.reason ?? 'rejected'})`));
        callback(null, r.ticketNumber ? `Filed as ticket #${r.ticketNumber}` : 'Accepted');
      } catch (err) {
        o.logger.error({ err }, 'inbound smtp: processing failed, asked the sender to retry');
        callback(smtpError(451, 'Temporary failure, please retry later'));
      }
    },
  });
  server.on('error', (err) => o.logger.error({ err }, 'inbound smtp: server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = (server as any).server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : o.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
