/**
 * The mail log (admin area): every outbox message with its status, attempts, last error and
 * rendered body; an admin may queue a failed message again or discard one that should not go out.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbDate, tableForcedIndex, toDbDate } from '../../db/dialect.ts';
import { paginate, type Page } from '../admin/admin-support.ts';
import { isAdmin } from '../actor.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Forbidden, InvalidTransition, NotFound } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { formatDate } from '../tickets/ticket-presenters.ts';
import { pageNumber, parseInput } from '../validation.ts';

export const MAIL_STATUSES = ['queued', 'sending', 'sent', 'failed', 'discarded'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

const PAGE_SIZE = 50;

const ListInput = z.object({
  status: z.preprocess((v) => (v === '' ? undefined : v), z.enum(MAIL_STATUSES).optional()),
  page: pageNumber,
});

export interface MailLogItem {
  id: number;
  template: string;
  ticketId: number | null;
  to: string;
  subject: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
  nextAttemptAt: Date | null;
  /** The dates above as agent pages show them, in the help desk's zone ('' for none). */
  createdText: string;
  sentText: string;
  nextAttemptText: string;
}

export interface MailLogDetail extends MailLogItem {
  /** When its text was removed (its ticket deleted), as agent pages show dates; '' when it was not. */
  redactedText: string;
  toName: string | null;
  from: string | null;
  replyTo: string | null;
  messageId: string;
  headers: Record<string, string>;
  textBody: string;
  htmlBody: string | null;
}

function assertAdmin(ctx: ServiceContext): void {
  if (!isAdmin(ctx.actor)) throw new Forbidden();
}

function item(r: any, tz: string): MailLogItem {
  const createdAt = dbDate(r.created_at)!;
  const sentAt = dbDate(r.sent_at);
  const nextAttemptAt = dbDate(r.next_attempt_at);
  return {
    id: r.id, template: r.template, ticketId: r.ticket_id ?? null, to: r.to_address, subject: r.subject, status: r.status,
    attempts: Number(r.attempts), lastError: r.last_error ?? null, createdAt, sentAt, nextAttemptAt,
    createdText: formatDate(createdAt, tz), sentText: formatDate(sentAt, tz), nextAttemptText: formatDate(nextAttemptAt, tz),
  };
}

/**
 * One page of the mail log, newest first, optionally filtered by status; its total is counted as
 * far as the page (paginate: "1,000+"), from `outbox_status_id` when filtered.
 */
export async function listMailLog(ctx: ServiceContext, raw: { status?: unknown; page?: unknown }): Promise<Page<MailLogItem> & { status: MailStatus | null }> {
  assertAdmin(ctx);
  const input = parseInput(ListInput, raw);
  // Filtered, through the status's entries in id order (on a small outbox the planners may take the
  // delivery worker's (status, next_attempt_at) and sort: at scale, every message of that status).
  const from: Knex.QueryBuilder = input.status ? ctx.db.from(tableForcedIndex(ctx.db, 'outbox', 'outbox', 'outbox_status_id')).where({ status: input.status }) : ctx.db('outbox');
  const q = from
    .select('id', 'template', 'ticket_id', 'to_address', 'subject', 'status', 'attempts', 'last_error', 'created_at', 'sent_at', 'next_attempt_at')
    .orderBy('id', 'desc');
  const { timezone } = await getSettings(ctx.db);
  return { ...(await paginate(ctx.db, q, input.page, PAGE_SIZE, (r) => item(r, timezone))), status: input.status ?? null };
}

async function load(ctx: ServiceContext, id: number, db = ctx.db, forUpdate = false) {
  const q = db('outbox').where({ id }).first();
  if (forUpdate) q.forUpdate();
  const row = await q;
  if (!row) throw new NotFound('Message not found.', 'MAIL_NOT_FOUND');
  return row;
}

export async function getMailLogEntry(ctx: ServiceContext, id: number): Promise<MailLogDetail> {
  assertAdmin(ctx);
  const r = await load(ctx, id);
  const { timezone } = await getSettings(ctx.db);
  let headers: Record<string, string> = {};
  try {
    headers = r.headers ? JSON.parse(r.headers) : {};
  } catch {
    /* unreadable headers are shown as none */
  }
  return {
    ...item(r, timezone), redactedText: formatDate(dbDate(r.redacted_at), timezone), toName: r.to_name ?? null, from: r.from_address ?? null, replyTo: r.reply_to ?? null,
    messageId: r.message_id, headers, textBody: r.text_body, htmlBody: r.html_body ?? null,
  };
}

/**
 * A deleted ticket's mail (ticket-delete.ts), in the deletion's transaction: the rows stay in the mail
 * log as the delivery trail (recipient, times, status, attempts, Message-ID), but their text goes — the
 * subject but for the ticket's "[#number]", the text and HTML bodies — and their link to the ticket.
 * Mail not sent yet ('queued') is cancelled: 'discarded', never sent. Two UPDATEs on outbox_ticket_id.
 * A message being sent right now ('sending') goes out as it was read; if its worker dies it is
 * discarded, not queued again (recoverStuckMessages). Returns how many were cancelled and redacted.
 */
export async function redactTicketMail(trx: Knex | Knex.Transaction, ticket: { id: number; number: string }, now: Date): Promise<{ cancelled: number; redacted: number }> {
  const redacted = {
    ticket_id: null, subject: `[#${ticket.number}] (removed: the ticket was deleted)`, html_body: null, redacted_at: toDbDate(now),
    text_body: `(The text of this message was removed when ticket #${ticket.number} was deleted.)`,
  };
  const cancelled = await trx('outbox').where({ ticket_id: ticket.id, status: 'queued' })
    .update({ ...redacted, status: 'discarded', last_error: `Cancelled: ticket #${ticket.number} was deleted before this was sent` });
  const rest = await trx('outbox').where({ ticket_id: ticket.id }).update(redacted);
  return { cancelled, redacted: cancelled + rest };
}

/** Queues a failed, discarded or waiting message again, now, with a fresh set of attempts. @throws InvalidTransition (MAIL_NOT_RETRYABLE, MAIL_REDACTED) */
export async function retryMail(ctx: ServiceContext, id: number): Promise<void> {
  assertAdmin(ctx);
  await inTransaction(ctx, async (trx) => {
    const r = await load(ctx, id, trx, true);
    if (r.redacted_at) throw new InvalidTransition('The text of this message was removed when its ticket was deleted: it cannot be sent again.', 'MAIL_REDACTED');
    if (!['failed', 'discarded', 'queued'].includes(r.status)) throw new InvalidTransition('Only a waiting, failed or discarded message can be sent again.', 'MAIL_NOT_RETRYABLE');
    await trx('outbox').where({ id }).update({ status: 'queued', attempts: 0, next_attempt_at: toDbDate(ctx.clock()), locked_by: null, locked_at: null });
    await recordAudit(ctx, trx, { action: 'mail.retry', entity: 'outbox', entityId: id, before: { status: r.status, attempts: r.attempts }, after: { status: 'queued' } });
  });
}

/** Marks a waiting or failed message discarded: it will never be sent. */
export async function discardMail(ctx: ServiceContext, id: number): Promise<void> {
  assertAdmin(ctx);
  await inTransaction(ctx, async (trx) => {
    const r = await load(ctx, id, trx, true);
    if (!['queued', 'failed'].includes(r.status)) throw new InvalidTransition('Only a waiting or failed message can be discarded.', 'MAIL_NOT_DISCARDABLE');
    await trx('outbox').where({ id }).update({ status: 'discarded', locked_by: null, locked_at: null });
    await recordAudit(ctx, trx, { action: 'mail.discard', entity: 'outbox', entityId: id, before: { status: r.status }, after: { status: 'discarded' } });
  });
}
