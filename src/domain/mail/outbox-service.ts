/**
 * The outbox: outgoing mail written, fully rendered, in the same transaction as the change that
 * caused it. A worker delivers it (see src/mail/). Links use the configured public URL only.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import { oneLine, renderMail } from '../../mail/mail-render.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { customMailText } from './mail-template-service.ts';

/**
 * RFC 3834 Auto-Submitted values: `auto-replied` for an automatic answer to a message (the
 * auto-responses to a requester's mail), `auto-generated` for other automatic mail (agent alerts,
 * notices, links asked for on a form).
 */
export type AutoSubmitted = 'auto-replied' | 'auto-generated';

export interface MailToQueue {
  template: string;
  to: string;
  toName?: string | null;
  ticketId?: number | null;
  vars: Record<string, unknown>;
  /** Automatic mail: its Auto-Submitted value (RFC 3834); absent for mail a person wrote. */
  automatic?: AutoSubmitted | null;
  /** Message-IDs this message answers (threading). */
  inReplyTo?: string | null;
  references?: string[];
  fromName?: string | null;
  fromAddress?: string | null;
}

/** A stable, unique Message-ID on the public host. */
export function newMessageId(publicUrl: string): string {
  const host = new URL(publicUrl).hostname || 'tessera.local';
  return `<tessera.${crypto.randomUUID()}@${host}>`;
}

/** Renders a message into its outbox row (not yet written). */
async function outboxRow(ctx: ServiceContext, db: Knex | Knex.Transaction, settings: Settings, mail: MailToQueue) {
  const vars = { helpdeskName: settings.helpdesk_name, publicUrl: ctx.publicUrl, ...mail.vars };
  // An admin's wording when there is one (no statement unless one was ever saved: mail-template-service.ts).
  const rendered = await renderMail(mail.template, vars, await customMailText(db, settings, mail.template));
  const headers: Record<string, string> = {};
  if (mail.automatic) {
    headers['Auto-Submitted'] = mail.automatic;
    // Asks Exchange/Outlook not to answer with out-of-office or auto-replies (loop protection).
    headers['X-Auto-Response-Suppress'] = 'OOF, AutoReply';
  }
  if (mail.inReplyTo) headers['In-Reply-To'] = mail.inReplyTo;
  if (mail.references?.length) headers['References'] = mail.references.join(' ');
  const now = toDbDate(ctx.clock());
  return {
    template: mail.template,
    ticket_id: mail.ticketId ?? null,
    to_address: mail.to.toLowerCase(),
    to_name: mail.toName ? oneLine(mail.toName, 120) : null,
    from_address: mail.fromAddress ?? null,
    from_name: mail.fromName ? oneLine(mail.fromName, 120) : null,
    reply_to: settings.inbound_address || null,
    subject: rendered.subject,
    text_body: rendered.text,
    html_body: rendered.html,
    headers: Object.keys(headers).length ? JSON.stringify(headers) : null,
    message_id: newMessageId(ctx.publicUrl),
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    created_at: now,
  };
}

/** Renders a template and writes the message to the outbox in `trx`. Returns the outbox id. */
export async function queueMail(ctx: ServiceContext, trx: Knex | Knex.Transaction, mail: MailToQueue): Promise<number> {
  const row = await outboxRow(ctx, trx, await getSettings(trx), mail);
  const [id] = await trx('outbox').insert(row);
  return id;
}

/** Rows per multi-row INSERT, and rendered characters per INSERT (each alert may carry a 100,000-character message; MariaDB's max_allowed_packet is 16 MB by default). */
const BATCH_ROWS = 100;
const BATCH_CHARS = 2_000_000;

/**
 * Renders several messages and writes them to the outbox in `trx` in as few statements as possible
 * (one multi-row INSERT, split only for very many or very large messages), in the given order.
 */
export async function queueMails(ctx: ServiceContext, trx: Knex | Knex.Transaction, mails: MailToQueue[]): Promise<void> {
  if (!mails.length) return;
  const settings = await getSettings(trx);
  const rows = await Promise.all(mails.map((m) => outboxRow(ctx, trx, settings, m)));
  let batch: typeof rows = [];
  let chars = 0;
  for (const r of rows) {
    const size = r.text_body.length + (r.html_body?.length ?? 0) + r.subject.length;
    if (batch.length && (batch.length >= BATCH_ROWS || chars + size > BATCH_CHARS)) {
      await trx('outbox').insert(batch);
      batch = [];
      chars = 0;
    }
    batch.push(r);
    chars += size;
  }
  await trx('outbox').insert(batch);
}
