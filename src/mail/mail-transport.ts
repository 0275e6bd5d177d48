/**
 * SMTP delivery with nodemailer: one transport per SMTP_URL, and the mapping of an outbox row to a
 * message (stable Message-ID, threading headers, Reply-To, From = department identity or MAIL_FROM).
 */
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { OutboxRow } from '../domain/mail/outbox-delivery.ts';

export type MailTransport = Pick<Transporter, 'sendMail' | 'close'>;

/** A transport for `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
export function createSmtpTransport(url: string): MailTransport {
  return nodemailer.createTransport(url + (url.includes('?') ? '&' : '?') + 'connectionTimeout=15000&greetingTimeout=15000&socketTimeout=60000');
}

/** MAIL_FROM, else helpdesk@<public host>. */
export function defaultFrom(config: { mailFrom?: string; publicUrl: string }): string {
  if (config.mailFrom) return config.mailFrom;
  return `helpdesk@${new URL(config.publicUrl).hostname || 'localhost'}`;
}

/** The nodemailer message for an outbox row. Header values were folded to one line when queued. */
export function messageFor(row: OutboxRow, fallbackFrom: string): SendMailOptions {
  let extra: Record<string, string> = {};
  try {
    extra = row.headers ? JSON.parse(row.headers) : {};
  } catch {
    extra = {};
  }
  const { 'In-Reply-To': inReplyTo, References: references, ...headers } = extra;
  return {
    from: row.from_address ? { name: row.from_name ?? '', address: row.from_address } : fallbackFrom,
    to: row.to_name ? { name: row.to_name, address: row.to_address } : row.to_address,
    replyTo: row.reply_to || undefined,
    subject: row.subject,
    text: row.text_body,
    html: row.html_body || undefined,
    messageId: row.message_id,
    inReplyTo: inReplyTo || undefined,
    references: references || undefined,
    headers,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
