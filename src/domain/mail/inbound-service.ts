/**
 * One pipeline for every way mail comes in (built-in SMTP listener, `mail:pipe`, IMAP polling and
 * POST /api/tickets.email): parse → de-duplicate → drop loops and bounces → ban list and per-sender
 * limit → thread into the ticket it answers, or open a new ticket.
 *
 * Decisions:
 * - The inbound_messages row (unique Message-ID; a hash of the raw bytes when the mail has none)
 *   is written in the same transaction as the ticket change, so a message is stored exactly once
 *   even when two channels or processes deliver it at the same time.
 * - Bounces (null sender, mailer-daemon, DSN reports) are logged and otherwise ignored.
 * - Auto-submitted mail (Auto-Submitted ≠ no, Precedence bulk/junk/list, X-Autoreply …) that
 *   opens a ticket gets no auto-response (notifyUser=false); one that answers an existing ticket is
 *   logged and ignored, so an out-of-office reply never reopens a ticket nor starts a mail loop.
 * - A subject token "[#NUMBER]" threads only when the sender is the ticket's requester or a CC
 *   (otherwise anyone could write into someone else's ticket); a References/In-Reply-To match threads
 *   any non-agent sender (they hold one of our unguessable Message-IDs): the requester and CCs as
 *   themselves, anyone else in the requester's name with a "Received from" line.
 * - The other people a requester's mail went to (To, Cc; not the help desk's addresses, agents or
 *   banned senders) become CCs of the ticket it opens or answers (osTicket's add_email_collabs).
 * - Agents answering an alert by email are refused (they answer in the panel).
 * - Domain failures (invalid sender, …) become outcome 'rejected' with a reason; anything
 *   unexpected (database down) is thrown so the channel can ask the sender to retry.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { ParsedMail } from 'mailparser';
import { isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import { SYSTEM, type UserActor } from '../actor.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { DomainError, InvalidTransition } from '../errors.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { addUserMessage, openTicket } from '../tickets/ticket-service.ts';
import { extensionOf, normaliseFilename, type UploadedFile } from '../tickets/attachment-service.ts';
import { isBanned } from '../users/user-service.ts';
import { systemAddresses } from './system-addresses.ts';
import { addressesOf, deliveredTo, isAutoSubmitted, isBounce, peopleOf, referencedIds, stripQuotedReply, subjectTicketNumber } from './inbound-classify.ts';
import { collaboratorsColumn, collaboratorsFrom, ticketOfParticipant } from '../tickets/ticket-collaborator-list.ts';
import { addCollaboratorsFromMail } from '../tickets/ticket-collaborators.ts';

export type InboundChannel = 'smtp' | 'pipe' | 'imap' | 'api';
export type InboundOutcome = 'threaded' | 'created' | 'ignored' | 'rejected';

export interface InboundResult {
  outcome: InboundOutcome;
  ticketId?: number;
  ticketNumber?: string;
  /** Why it was ignored or rejected (stable codes: duplicate, bounce, auto_reply, own_message, banned, rate_limited, …). */
  reason?: string;
  messageId?: string;
}

export interface InboundOptions {
  /** SMTP envelope sender; '' is the null sender <> (a bounce). */
  envelopeFrom?: string | null;
}

/** Larger messages are refused (the SMTP listener announces this as its SIZE). */
export const MAX_INBOUND_BYTES = 25 * 1024 * 1024;
/** At most this many messages per sender address per hour; more are refused (flood and loop stop). */
export const INBOUND_PER_SENDER_PER_HOUR = 30;
const MAX_BODY = 100_000;

type Db = Knex | Knex.Transaction;

function hashId(raw: Buffer): string {
  return `<sha256.${crypto.createHash('sha256').update(raw).digest('hex').slice(0, 48)}@inbound.tessera>`;
}

function clean(s: string | undefined, max: number): string {
  return String(s ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

function validAddress(a: string | undefined): a is string {
  return typeof a === 'string' && a.length <= 191 && /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/.test(a);
}

async function record(db: Db, row: { messageId: string; from?: string | null; subject?: string | null; channel: InboundChannel; outcome: InboundOutcome | 'processing'; reason?: string | null; ticketId?: number | null; entryId?: number | null; now: Date }): Promise<number> {
  const [id] = await db('inbound_messages').insert({
    message_id: row.messageId, from_address: row.from ? row.from.slice(0, 191) : null, subject: row.subject ? clean(row.subject, 255) : null,
    channel: row.channel, outcome: row.outcome, reason: row.reason ? row.reason.slice(0, 255) : null, ticket_id: row.ticketId ?? null,
    entry_id: row.entryId ?? null, received_at: toDbDate(row.now),
  });
  return id;
}

/** Records a message that ends without touching a ticket; a duplicate Message-ID is not recorded twice. */
async function finish(ctx: ServiceContext, base: { messageId: string; from?: string | null; subject?: string | null; channel: InboundChannel }, outcome: 'ignored' | 'rejected', reason: string, ticketId?: number): Promise<InboundResult> {
  try {
    await record(ctx.db, { ...base, outcome, reason, ticketId, now: ctx.clock() });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return { outcome: 'ignored', reason: 'duplicate', messageId: base.messageId };
  }
  return { outcome, reason, ticketId, messageId: base.messageId };
}

/** Keeps the attachments the settings allow; names the others in a note appended to the body. */
function acceptableFiles(p: ParsedMail, s: Settings): { files: UploadedFile[]; notes: string[] } {
  const files: UploadedFile[] = [];
  const notes: string[] = [];
  let n = 0;
  for (const a of p.attachments ?? []) {
    n += 1;
    if (!a.content || !Buffer.isBuffer(a.content)) continue;
    const sub = (a.contentType ?? 'application/octet-stream').split('/')[1]?.replace(/[^a-z0-9]+/gi, '') || 'bin';
    const name = normaliseFilename(a.filename || `attachment-${n}.${sub}`);
    if (files.length >= s.attachment_max_count) notes.push(`"${name}" was not kept: too many attachments.`);
    else if (a.content.length > s.attachment_max_bytes) notes.push(`"${name}" was not kept: it is too large.`);
    else if (s.attachment_allowed_types.length && !s.attachment_allowed_types.includes(extensionOf(name))) notes.push(`"${name}" was not kept: file type not allowed.`);
    else files.push({ filename: name, contentType: a.contentType || 'application/octet-stream', data: a.content });
  }
  return { files, notes };
}

function bodyOf(p: ParsedMail, stripQuotes: boolean, notes: string[], banner?: string): string {
  let text = String(p.text ?? '').replace(/\u0000/g, '').replace(/\r\n?/g, '\n');
  if (stripQuotes) text = stripQuotedReply(text);
  text = text.trim();
  if (!text) text = '(no text)';
  const parts = [banner, text, notes.length ? '[' + notes.join(' ') + ']' : undefined].filter(Boolean) as string[];
  const body = parts.join('\n\n');
  return body.length > MAX_BODY ? body.slice(0, MAX_BODY - 40) + '\n\n[message truncated]' : body;
}

/** The ticket this message answers: by our Message-IDs in its headers, else by subject token from the requester or a CC. */
async function findThread(db: Db, p: ParsedMail, from: string): Promise<{ ticketId: number; via: 'headers' | 'subject' } | undefined> {
  const refs = referencedIds(p);
  if (refs.length) {
    const [out, entries] = await Promise.all([
      db('outbox').whereIn('message_id', refs).whereNotNull('ticket_id').select('message_id', 'ticket_id'),
      db('thread_entries').whereIn('message_id', refs).select('message_id', 'ticket_id'),
    ]);
    const byId = new Map<string, number>();
    for (const r of [...out, ...entries]) byId.set(r.message_id, r.ticket_id);
    for (const id of refs) if (byId.has(id)) return { ticketId: byId.get(id)!, via: 'headers' };
  }
  const number = subjectTicketNumber(p.subject);
  if (number) {
    // From its requester or one of its CCs.
    const t = await ticketOfParticipant(db, number, from);
    if (t) return { ticketId: t.id, via: 'subject' };
  }
  return undefined;
}

/** The active department whose address received the message (To, Cc, Delivered-To), if any. */
async function departmentFor(db: Db, recipients: string[]): Promise<number | undefined> {
  if (!recipients.length) return undefined;
  const rows = await db('departments').where({ is_active: true }).whereNotNull('email_address').select('id', 'email_address');
  for (const r of recipients) {
    const hit = rows.find((d: any) => String(d.email_address).toLowerCase() === r);
    if (hit) return hit.id;
  }
  return undefined;
}

/** Parses one RFC 822 message and files it. See the module comment for the rules. */
export async function processInboundMail(ctx: ServiceContext, raw: Buffer, channel: InboundChannel, opts: InboundOptions = {}): Promise<InboundResult> {
  const fallbackId = hashId(raw);
  if (raw.length > MAX_INBOUND_BYTES) return finish(ctx, { messageId: fallbackId, channel }, 'rejected', 'too_large');
  const { simpleParser } = await import('mailparser'); // loaded on the first inbound message
  let p: ParsedMail;
  try {
    p = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  } catch (err) {
    return finish(ctx, { messageId: fallbackId, channel }, 'rejected', `unparseable: ${clean((err as Error)?.message, 200)}`);
  }
  const own = p.messageId && /^<[^<>\s]{1,189}>$/.test(p.messageId.trim()) ? p.messageId.trim() : undefined;
  const messageId = own ?? fallbackId;
  const fromAddr = p.from?.value?.[0]?.address?.trim().toLowerCase();
  const subject = clean(p.subject, 255);
  const base = { messageId, from: fromAddr ?? null, subject, channel };

  if (await ctx.db('inbound_messages').where({ message_id: messageId }).first('id')) return { outcome: 'ignored', reason: 'duplicate', messageId };
  if (own && (await ctx.db('outbox').where({ message_id: own }).first('id'))) return finish(ctx, base, 'ignored', 'own_message');
  if (isBounce(p, opts.envelopeFrom)) return finish(ctx, base, 'ignored', 'bounce');
  if (!validAddress(fromAddr)) return finish(ctx, base, 'rejected', 'no_sender');
  const settings = await getSettings(ctx.db);
  if ((await systemAddresses(ctx.db, settings)).has(fromAddr)) return finish(ctx, base, 'ignored', 'own_address');
  if (await isBanned(ctx.db, fromAddr)) return finish(ctx, base, 'rejected', 'banned');
  const since = toDbDate(new Date(ctx.clock().getTime() - 3600_000));
  const recent = await ctx.db('inbound_messages').where({ from_address: fromAddr }).andWhere('received_at', '>', since).count({ n: '*' }).first();
  if (Number(recent?.n ?? 0) >= INBOUND_PER_SENDER_PER_HOUR) return finish(ctx, base, 'rejected', 'rate_limited');

  const auto = isAutoSubmitted(p);
  const thread = await findThread(ctx.db, p, fromAddr);
  const { files, notes } = acceptableFiles(p, settings);
  const fromName = clean(p.from?.value?.[0]?.name, 120) || fromAddr.split('@')[0];

  if (thread) {
    if (auto) return finish(ctx, base, 'ignored', 'auto_reply', thread.ticketId);
    const t = await ctx.db('tickets as t').join('users as u', 'u.id', 't.user_id').where('t.id', thread.ticketId)
      .first('t.id', 't.number', 't.user_id', 'u.email', 'u.name', collaboratorsColumn(ctx.db, ctx.db.ref('t.id')));
    const isRequester = t && t.email === fromAddr;
    const cc = t && !isRequester ? collaboratorsFrom(t.collaborators).find((c) => c.email === fromAddr) : undefined;
    if (t && !isRequester && !cc && (await ctx.db('agents').where({ email: fromAddr }).first('id'))) return finish(ctx, base, 'rejected', 'agent_reply_by_email', t.id);
    if (t) {
      // The requester or a CC writes as themselves; anyone else holding our Message-ID in the requester's name, with a banner.
      const banner = isRequester || cc ? undefined : `Received from: ${fromName} <${fromAddr}>`;
      const user: UserActor = cc ? { kind: 'user', id: cc.id, email: cc.email, name: cc.name } : { kind: 'user', id: t.user_id, email: t.email, name: t.name };
      try {
        return await fileIn(ctx, base, async (tctx, trx) => {
          // (A ticket merged into another takes the message on there: r.ticket.)
          const r = await addUserMessage({ ...tctx, actor: user }, { ticketId: t.id, message: bodyOf(p, true, notes, banner), source: 'email', messageId, copiedTo: addressesOf(p.to, p.cc).slice(0, 200) }, files);
          // The requester copied others in: they follow the ticket from now on.
          if (isRequester) await addCollaboratorsFromMail({ ...tctx, actor: user }, trx, r.ticket, { to: peopleOf(p.to), cc: peopleOf(p.cc), deliveredTo: deliveredTo(p) });
          return { outcome: 'threaded', ticketId: r.ticket.id, ticketNumber: r.ticket.number, entryId: r.entryId, reason: thread.via === 'subject' ? 'subject_token' : 'headers' };
        });
      } catch (err) {
        // A closed ticket that may not be reopened: the reply becomes a new ticket.
        if (!(err instanceof InvalidTransition)) return domainReject(ctx, base, err);
      }
    }
  }

  const departmentId = await departmentFor(ctx.db, [...addressesOf(p.to, p.cc), ...deliveredTo(p)]);
  try {
    return await fileIn(ctx, base, async (tctx, trx) => {
      const r = await openTicket({ ...tctx, actor: SYSTEM }, {
        email: fromAddr, name: fromName, subject: subject || '(no subject)', message: bodyOf(p, false, notes), source: 'email',
        departmentId, notifyUser: !auto, messageId,
      }, files);
      // The other people the mail went to (To and Cc) follow the ticket as CCs (not from automated mail).
      if (!auto) await addCollaboratorsFromMail({ ...tctx, actor: SYSTEM }, trx, { id: r.id, user_id: r.userId }, { to: peopleOf(p.to), cc: peopleOf(p.cc), deliveredTo: deliveredTo(p) });
      return { outcome: 'created', ticketId: r.id, ticketNumber: r.number, entryId: r.entryId, reason: auto ? 'auto_submitted_no_autoresponse' : undefined };
    });
  } catch (err) {
    return domainReject(ctx, base, err);
  }
}

function domainReject(ctx: ServiceContext, base: { messageId: string; from: string | null; subject: string; channel: InboundChannel }, err: unknown): Promise<InboundResult> {
  if (!(err instanceof DomainError)) throw err;
  return finish(ctx, base, 'rejected', `${err.code}: ${clean(err.message, 200)}`);
}

/**
 * Runs the ticket change and the inbound_messages row in one transaction. A concurrent delivery of
 * the same Message-ID loses on the unique index and is reported as a duplicate.
 */
async function fileIn(
  ctx: ServiceContext,
  base: { messageId: string; from: string | null; subject: string; channel: InboundChannel },
  change: (tctx: ServiceContext, trx: Knex.Transaction) => Promise<{ outcome: 'threaded' | 'created'; ticketId: number; ticketNumber: string; entryId: number; reason?: string }>,
): Promise<InboundResult> {
  const DUP = Symbol('dup');
  const r = await inTransaction(ctx, async (trx) => {
    let rowId: number;
    try {
      rowId = await record(trx, { ...base, outcome: 'processing', now: ctx.clock() });
    } catch (err) {
      if (isUniqueViolation(err)) return DUP;
      throw err;
    }
    const done = await change(withDb(ctx, trx), trx);
    await trx('inbound_messages').where({ id: rowId }).update({ outcome: done.outcome, reason: done.reason ?? null, ticket_id: done.ticketId, entry_id: done.entryId });
    return done;
  });
  if (r === DUP) return { outcome: 'ignored', reason: 'duplicate', messageId: base.messageId };
  return { outcome: r.outcome, ticketId: r.ticketId, ticketNumber: r.ticketNumber, reason: r.reason, messageId: base.messageId };
}
