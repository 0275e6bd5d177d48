/**
 * The end-user portal's ticket rules: which tickets a browser session may open (email + number, or
 * an access link from mail), the requester's view of a ticket (messages and responses, never internal
 * notes), their replies, closing their own ticket and downloading attachments.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, toDbDate } from '../../db/dialect.ts';
import type { UserActor } from '../actor.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { Forbidden, InvalidTransition, NotFound, ValidationFailed, type FieldErrors } from '../errors.ts';
import {
  answersForNewTicket, fieldsFromForm, fieldValuesColumn, fieldValuesFrom, newTicketFormFields, shownAnswers, ticketFieldDefs, type FormField,
} from '../fields/ticket-field-values.ts';
import { createAccessToken, findAccessToken } from '../auth/access-tokens.ts';
import { queueMail } from '../mail/outbox-service.ts';
import { getSettings } from '../settings/settings-service.ts';
import { email, fieldErrors, optionalId, optionalText, parseInput, requiredText } from '../validation.ts';
import { listAttachments, readAttachment, type AttachmentInfo, type UploadedFile } from './attachment-service.ts';
import { loadSessionUser } from '../users/user-service.ts';
import { recordTicketEvent } from './ticket-events.ts';
import { ccExists, collaboratorsFrom, ticketOfParticipant } from './ticket-collaborator-list.ts';
import { followMerges } from './ticket-merge.ts';
import { addCollaboratorByRequester, addCollaboratorsOnOpen, dropCollaborator, parseAddressList } from './ticket-collaborators.ts';
import { loadTicketFor, sharedByOrganization } from './ticket-policy.ts';
import { formatDate } from './ticket-presenters.ts';
import { addUserMessage, openTicket, type OpenedTicket } from './ticket-service.ts';
import { REQUESTER_STATUS_LABELS, type TicketStatus } from './ticket-status.ts';
import { stopWaiting } from '../sla/sla-pause.ts';
import { askToCloseWithOpenTasks, openTaskCount } from './ticket-tasks.ts';

/** Links requested with "email me a link" are valid for a day. */
const REQUESTED_LINK_TTL_MINUTES = 24 * 60;
/** At most this many access tokens per ticket in 15 minutes (stops mail-bombing a requester). */
const MAX_LINKS_PER_15_MIN = 5;
/** The one message for a wrong email/number pair: it never says which of the two is wrong. */
export const ACCESS_DENIED_MESSAGE = 'We could not find a ticket with that email address and ticket number. Check both and try again.';

const SPAM_MESSAGE = 'Your request looks automated and was not sent. If you are a person, clear the field labelled “Leave this empty” and send it again.';

const ticketNumber = z
  .string({ error: 'Enter the ticket number' })
  .trim()
  .transform((s) => s.replace(/^#/, ''))
  .pipe(z.string().min(1, 'Enter the ticket number').max(20, 'Enter the ticket number').regex(/^[A-Za-z0-9-]+$/, 'Enter the ticket number as it appears in our emails'));

function notFound(): NotFound {
  return new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
}

/** A ticket number from a URL: anything malformed is simply a ticket that does not exist. */
function numberFromUrl(raw: unknown): string {
  const r = ticketNumber.safeParse(raw);
  if (!r.success) throw notFound();
  return r.data;
}

/**
 * The portal actor for a session: the user, limited to the tickets this session was opened for; or,
 * signed in with their email (`allTickets`: a sign-in link), to every ticket of theirs (no `ticketIds`).
 */
export async function loadPortalActor(db: Knex | Knex.Transaction, session: { userId?: number; ticketIds?: number[]; allTickets?: boolean }): Promise<UserActor | null> {
  const full = session.allTickets === true;
  if (!session.userId || (!full && (!Array.isArray(session.ticketIds) || !session.ticketIds.length))) return null;
  const u = await loadSessionUser(db, session.userId);
  if (!u) return null;
  if (full) return { kind: 'user', id: u.id, email: u.email, name: u.name };
  return { kind: 'user', id: u.id, email: u.email, name: u.name, ticketIds: (session.ticketIds ?? []).filter((n) => Number.isInteger(n)) };
}

/** Help topics a user may choose (public and active), by name; and the preselected default. */
export async function listPublicTopics(db: Knex | Knex.Transaction): Promise<{ topics: { id: number; name: string }[]; defaultTopicId: number | null }> {
  const topics = await db('help_topics').where({ is_public: true, is_active: true }).orderBy('name').select('id', 'name');
  const settings = await getSettings(db);
  const def = topics.find((t: { id: number }) => t.id === settings.default_topic_id);
  return { topics, defaultTopicId: def ? def.id : null };
}

/** The custom fields the portal's New ticket form shows: the public ones of every topic it offers (each says which topics it is for). */
export async function listPortalFields(ctx: ServiceContext, topics: { id: number; name: string }[]): Promise<FormField[]> {
  return newTicketFormFields(await ticketFieldDefs(ctx.db, await getSettings(ctx.db)), 'portal', topics);
}

export const PortalOpenTicketInput = z.object({
  email,
  name: requiredText(120, 'Full name'),
  phone: optionalText(40, 'Phone'),
  topicId: optionalId,
  subject: requiredText(255, 'Subject'),
  message: requiredText(100_000, 'Message'),
  /** Other people to copy in (addresses separated by commas), when settings.portal_allow_cc. */
  cc: optionalText(1_000, 'CC'),
  /** The honeypot: people never see it, form-filling robots do. */
  website: z.unknown().optional(),
});

/** Most people a portal user copies in on a new ticket. */
export const PORTAL_MAX_CC = 5;

const PortalCcInput = z.object({ ccEmail: email, ccName: optionalText(120, 'Name') });

/**
 * The requester copies someone in, or takes someone off, from the portal ticket page (when
 * settings.portal_allow_cc; a CC or an organization member may not). The ticket's version moves on and
 * its history says who did it.
 * @throws Forbidden (PORTAL_CC_DISABLED, NOT_REQUESTER), NotFound, ValidationFailed (ccEmail), InvalidTransition (TICKET_MERGED)
 */
export async function changeCcsAsRequester(ctx: ServiceContext, rawNumber: unknown, change: { add: unknown } | { removeUserId: unknown }): Promise<{ number: string }> {
  const number = numberFromUrl(rawNumber);
  if (!(await getSettings(ctx.db)).portal_allow_cc) throw new Forbidden('Copying others in is not enabled on this help desk.', 'PORTAL_CC_DISABLED');
  const input = 'add' in change ? parseInput(PortalCcInput, change.add) : null;
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const t = await loadTicketFor(trx, ctx.actor, { number }, { forUpdate: true });
    if (ctx.actor.kind !== 'user' || t.user_id !== ctx.actor.id) throw new Forbidden('Only the person who opened this ticket can change who is copied.', 'NOT_REQUESTER');
    if (t.merged_into_id) throw new InvalidTransition('This ticket was merged into another ticket.', 'TICKET_MERGED');
    if (input) {
      await addCollaboratorByRequester(tctx, trx, t, { address: input.ccEmail, name: input.ccName });
    } else {
      if (!(await dropCollaborator(tctx, trx, t.id, Number('removeUserId' in change ? change.removeUserId : NaN), 'requester'))) return { number: t.number };
    }
    await trx('tickets').where({ id: t.id }).update({ version: Number(t.version) + 1, updated_at: toDbDate(ctx.clock()) });
    return { number: t.number };
  });
}
export type PortalOpenTicketInput = z.input<typeof PortalOpenTicketInput>;

/**
 * Opens a ticket from the portal form. Only the form's fields reach `openTicket`, so a crafted
 * request cannot choose a department, priority, assignee or switch off the auto-response.
 * @throws ValidationFailed (SPAM_SUSPECTED when the honeypot is filled), Forbidden (USER_BANNED)
 */
export async function openPortalTicket(ctx: ServiceContext, raw: PortalOpenTicketInput, files: UploadedFile[]): Promise<OpenedTicket> {
  const hp = (raw as Record<string, unknown> | undefined)?.website;
  if (hp !== undefined && hp !== '') throw new ValidationFailed({ _: SPAM_MESSAGE }, SPAM_MESSAGE, 'SPAM_SUSPECTED');
  // Custom fields come as cf_<key> (only those of the chosen topic the portal asks count: openTicket).
  const answers = fieldsFromForm(raw);
  const parsed = PortalOpenTicketInput.safeParse(raw);
  if (!parsed.success) {
    // The custom fields' problems along with the form's (openTicket reports both when the form parses).
    const errors: FieldErrors = fieldErrors(parsed.error);
    const topicId = optionalId.safeParse((raw as Record<string, unknown> | undefined)?.topicId).data;
    await answersForNewTicket(ctx, await getSettings(ctx.db), topicId, answers, errors);
    throw new ValidationFailed(errors);
  }
  const input = parsed.data;
  // Without a topic, the form must have offered none (a chosen topic is checked by openTicket).
  if (!input.topicId && (await listPublicTopics(ctx.db)).topics.length) throw new ValidationFailed({ topicId: 'Choose a help topic' });
  const { website: _hp, cc, ...fields } = input;
  const open = (c: ServiceContext) => openTicket(c, { ...fields, source: 'web', ip: ctx.ip?.slice(0, 45), fields: answers }, files);
  // CCs, when the help desk lets people copy others in: added in the ticket's transaction (a refused one opens nothing).
  const people = (await getSettings(ctx.db)).portal_allow_cc ? parseAddressList(cc) : [];
  if (!people.length) return open(ctx);
  if (people.length > PORTAL_MAX_CC) throw new ValidationFailed({ cc: `Copy in at most ${PORTAL_MAX_CC} people` });
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const opened = await open(tctx);
    await addCollaboratorsOnOpen(tctx, trx, opened, people);
    return opened;
  });
}

const EmailAndNumber = z.object({ email, number: ticketNumber });
export type EmailAndNumberInput = z.input<typeof EmailAndNumber>;

export interface TicketAccess {
  userId: number;
  ticketId: number;
  number: string;
}

/**
 * "Check ticket status": the requester's email and the ticket number open that ticket for this
 * browser session. A wrong pair gets one message that does not say which half was wrong.
 * @throws ValidationFailed (malformed fields, or TICKET_ACCESS_DENIED with the field `_`)
 */
export async function openPortalSession(ctx: ServiceContext, raw: EmailAndNumberInput): Promise<TicketAccess> {
  const input = parseInput(EmailAndNumber, raw);
  const row = await ticketOfParticipant(ctx.db, input.number, input.email);
  if (!row) throw new ValidationFailed({ _: ACCESS_DENIED_MESSAGE }, ACCESS_DENIED_MESSAGE, 'TICKET_ACCESS_DENIED');
  return { userId: row.user_id, ticketId: row.id, number: row.number };
}

/**
 * "Email me a link": when the pair matches, mails the requester a fresh access link. The caller
 * always says the same thing, so the answer never tells whether the pair exists.
 * @throws ValidationFailed (malformed fields only)
 */
export async function requestAccessLink(ctx: ServiceContext, raw: EmailAndNumberInput): Promise<void> {
  const input = parseInput(EmailAndNumber, raw);
  const row = await ticketOfParticipant(ctx.db, input.number, input.email);
  if (!row) return;
  const now = ctx.clock();
  await inTransaction(ctx, async (trx) => {
    // Per address: the links that mail about the ticket carries to its CCs do not count against the requester.
    const recent = await trx('access_tokens').where({ ticket_id: row.id, user_id: row.user_id, kind: 'portal_access' }).where('created_at', '>', toDbDate(new Date(now.getTime() - 15 * 60_000))).count({ n: '*' });
    if (Number(recent[0].n) >= MAX_LINKS_PER_15_MIN) return;
    const token = await createAccessToken(trx, { kind: 'portal_access', userId: row.user_id, ticketId: row.id, ttlMinutes: REQUESTED_LINK_TTL_MINUTES }, now);
    await queueMail(withDb(ctx, trx), trx, {
      template: 'access-link', to: row.email, toName: row.name, ticketId: row.id, automatic: 'auto-generated',
      vars: { ticket: { number: row.number, subject: row.subject }, userName: row.name, validHours: REQUESTED_LINK_TTL_MINUTES / 60, ticketUrl: `${ctx.publicUrl}/tickets/access?token=${encodeURIComponent(token)}` },
    });
  });
}

/**
 * An access link from mail. Links stay usable until they expire (every mail carries one), so the
 * token is not consumed. Returns null for an unknown, expired or malformed token.
 */
export async function useAccessLink(ctx: ServiceContext, token: unknown): Promise<TicketAccess | null> {
  const row = await findAccessToken(ctx.db, 'portal_access', token, ctx.clock(), false);
  if (!row || !row.ticketId || !row.userId) return null;
  const t = await ctx.db('tickets as t').where('t.id', row.ticketId).andWhere((q) => q.where('t.user_id', row.userId!).orWhereExists(ccExists(ctx.db, 't.id', row.userId!))).first('t.id', 't.number');
  return t ? { userId: row.userId, ticketId: t.id, number: t.number } : null;
}

/** A sign-in link works once, for an hour. */
export const SIGNIN_LINK_TTL_MINUTES = 60;
/** At most this many sign-in links per address in 15 minutes. */
const MAX_SIGNIN_LINKS_PER_15_MIN = 3;

const SignInInput = z.object({ email });

/**
 * "Sign in with your email": mails the user of that address a link that signs this browser in to
 * every ticket of theirs (useSignInLink). The caller always says the same thing, so the answer never
 * tells whether the address is known; an unknown or banned address, or one that asked too often, gets
 * no mail. End users have no password, so there is no bcrypt work to even out as signInAgent does (its
 * dummy hash); a known address costs a few milliseconds more (a token and a queued mail), which the
 * route's per-IP rate limit (10 requests per 15 minutes) leaves too few samples to measure.
 * @throws ValidationFailed (a malformed address only)
 */
export async function requestSignInLink(ctx: ServiceContext, raw: { email?: unknown }): Promise<void> {
  const input = parseInput(SignInInput, raw);
  const user = await ctx.db('users').where({ email: input.email }).first('id', 'email', 'name', 'is_banned');
  if (!user || dbBool(user.is_banned)) return;
  const now = ctx.clock();
  await inTransaction(ctx, async (trx) => {
    const recent = await trx('access_tokens').where({ user_id: user.id, kind: 'portal_signin' }).where('created_at', '>', toDbDate(new Date(now.getTime() - 15 * 60_000))).count({ n: '*' });
    if (Number(recent[0].n) >= MAX_SIGNIN_LINKS_PER_15_MIN) return;
    const token = await createAccessToken(trx, { kind: 'portal_signin', userId: user.id, ttlMinutes: SIGNIN_LINK_TTL_MINUTES }, now);
    await queueMail(withDb(ctx, trx), trx, {
      template: 'signin-link', to: user.email, toName: user.name, automatic: 'auto-generated',
      vars: { userName: user.name, validMinutes: SIGNIN_LINK_TTL_MINUTES, signInUrl: `${ctx.publicUrl}/signin/link?token=${encodeURIComponent(token)}` },
    });
  });
}

/**
 * A sign-in link from mail: the user it signs in, or null for an unknown, used, expired or malformed
 * link, or a banned user. Opening the link only checks it (`use` false: mail scanners that fetch links
 * must not spend it); the button on that page uses it up (it works once).
 */
export async function useSignInLink(ctx: ServiceContext, token: unknown, use: boolean): Promise<{ userId: number; email: string } | null> {
  return inTransaction(ctx, async (trx) => {
    const row = await findAccessToken(trx, 'portal_signin', token, ctx.clock(), use);
    if (!row?.userId) return null;
    const user = await trx('users').where({ id: row.userId }).first('id', 'email', 'is_banned');
    return user && !dbBool(user.is_banned) ? { userId: user.id, email: user.email } : null;
  });
}

export interface PortalEntry {
  id: number;
  kind: 'message' | 'response';
  author: string;
  /** Written by the person reading (else by the requester or a CC: "… wrote"). */
  mine: boolean;
  body: string;
  at: { iso: string; text: string };
  /** Its text was edited after it was posted (ticket-entry-edit.ts). */
  edited: boolean;
  attachments: AttachmentInfo[];
}

export interface PortalTicket {
  id: number;
  number: string;
  subject: string;
  status: TicketStatus;
  statusLabel: string;
  isClosed: boolean;
  /** Whether a reply is accepted, and whether it reopens the ticket. */
  canReply: boolean;
  /** The reader opened the ticket (a CC may read and reply, not close it). */
  isRequester: boolean;
  /** The names of the people copied on it. */
  ccNames: string[];
  /** The people copied on it (for the requester to take one off, when the help desk lets them). */
  ccs: { id: number; name: string }[];
  /** Who opened it, when the reader sees it because their organization shares its tickets with them; else null. */
  sharedFrom: string | null;
  replyReopens: boolean;
  department: string;
  /** The answers to the public custom fields. */
  fields: { label: string; text: string }[];
  createdAt: { iso: string; text: string };
  updatedAt: { iso: string; text: string };
  entries: PortalEntry[];
  attachmentLimits: { maxBytes: number; maxCount: number; allowedTypes: string[] };
}

/** A ticket merged into another: the reader goes on at the ticket it was merged into (their access to one is access to the other). */
export interface MergedTicket {
  mergedFrom: string;
  mergedInto: { id: number; number: string };
}

/** A date for `<time>`: ISO for the attribute, the text as agent pages show it, in the help desk's zone. */
function when(v: unknown, timeZone: string): { iso: string; text: string } {
  const d = dbDate(v) ?? new Date(0);
  return { iso: d.toISOString(), text: formatDate(d, timeZone) };
}

/**
 * The requester's view of their ticket: messages and agents' responses, oldest first, with their
 * attachments. Internal notes and agent-only fields never leave this function. A ticket merged into
 * another is only the way there (MergedTicket).
 * @throws NotFound (TICKET_NOT_FOUND) for a missing ticket or one this session may not read
 */
export async function getTicketForUser(ctx: ServiceContext, rawNumber: unknown): Promise<PortalTicket | MergedTicket> {
  // The custom field answers come with the ticket (a JSON column).
  const t = await loadTicketFor(ctx.db, ctx.actor, { number: numberFromUrl(rawNumber) }, { departmentName: true, columns: [fieldValuesColumn(ctx.db, ctx.db.ref('tickets.id'))] });
  if (t.merged_into_id) {
    const to = await followMerges(ctx.db, t);
    return { mergedFrom: t.number, mergedInto: { id: to.id, number: to.number } };
  }
  const settings = await getSettings(ctx.db);
  const tz = settings.timezone;
  const rows = await ctx.db('thread_entries').where({ ticket_id: t.id }).whereIn('kind', ['message', 'response']).orderBy('created_at').orderBy('id').select('id', 'kind', 'user_id', 'poster_name', 'body', 'created_at', 'edited_at');
  const files = await listAttachments(ctx.db, t.id);
  const me = ctx.actor.kind === 'user' ? ctx.actor.id : t.user_id;
  const ccs = collaboratorsFrom(t.collaborators);
  const ccNames = ccs.map((c) => c.name);
  // Neither theirs nor copied to them: their organization shares it (sharedByOrganization).
  const sharedFrom = t.user_id !== me && !ccs.some((c) => c.id === me) ? String(t.requester_name ?? '') : null;
  const isClosed = t.state === 'closed';
  return {
    id: t.id, number: t.number, subject: t.subject, status: t.status, statusLabel: REQUESTER_STATUS_LABELS[t.status as TicketStatus] ?? t.status,
    isClosed, canReply: !isClosed || settings.reopen_on_user_reply, replyReopens: isClosed && settings.reopen_on_user_reply, isRequester: t.user_id === me, ccNames, ccs: ccs.map((c) => ({ id: c.id, name: c.name })), sharedFrom,
    department: t.department_name ?? '', createdAt: when(t.created_at, tz), updatedAt: when(t.updated_at, tz),
    fields: shownAnswers(await ticketFieldDefs(ctx.db, settings), fieldValuesFrom(t.field_values), 'portal').map((a) => ({ label: a.label, text: a.text })),
    entries: rows.map((r: any) => ({
      id: r.id, kind: r.kind, body: r.body, at: when(r.created_at, tz), edited: !!r.edited_at, attachments: files.get(r.id) ?? [], mine: r.kind === 'message' && Number(r.user_id ?? t.user_id) === me,
      author: r.poster_name || (r.kind === 'response' ? 'Support' : 'You'),
    })),
    attachmentLimits: { maxBytes: settings.attachment_max_bytes, maxCount: settings.attachment_max_count, allowedTypes: settings.attachment_allowed_types },
  };
}

/**
 * The requester replies on the portal; on a closed ticket this reopens it when the setting allows.
 * @throws NotFound, ValidationFailed, InvalidTransition (REOPEN_DISABLED)
 */
export async function replyToTicketAsUser(ctx: ServiceContext, raw: { number: unknown; message: unknown }, files: UploadedFile[]): Promise<{ number: string; reopened: boolean }> {
  const t = await loadTicketFor(ctx.db, ctx.actor, { number: numberFromUrl(raw.number) });
  const r = await addUserMessage(ctx, { ticketId: t.id, message: raw.message as string, source: 'web' }, files);
  return { number: r.ticket.number, reopened: r.reopened };
}

/**
 * The requester closes their own ticket: status and state closed, overdue flag cleared, event `closed`
 * (`closed: true`). While it has open tasks it stays open and the close is recorded as a request for
 * the agents (askToCloseWithOpenTasks, which explains the choice; `closed: false`).
 * A CC may not (Forbidden NOT_REQUESTER).
 * @throws NotFound, Forbidden, InvalidTransition (ALREADY_CLOSED)
 */
export async function closeTicketByUser(ctx: ServiceContext, rawNumber: unknown): Promise<{ number: string; closed: boolean }> {
  const number = numberFromUrl(rawNumber);
  return inTransaction(ctx, async (trx) => {
    const t = await loadTicketFor(trx, ctx.actor, { number }, { forUpdate: true });
    if (ctx.actor.kind !== 'user' || t.user_id !== ctx.actor.id) throw new Forbidden('Only the person who opened this ticket can close it.', 'NOT_REQUESTER');
    if (t.state === 'closed') throw new InvalidTransition('This ticket is already closed.', 'ALREADY_CLOSED');
    const now = ctx.clock();
    const openTasks = await openTaskCount(trx, t.id);
    if (openTasks) {
      await askToCloseWithOpenTasks(withDb(ctx, trx), trx, t, openTasks, now);
      return { number: t.number, closed: false };
    }
    const ts = toDbDate(now);
    // A ticket waiting on the requester stops waiting: its SLA due date takes the time waited into account.
    const waited: Record<string, unknown> = t.status === 'pending' ? (await stopWaiting(trx, t, now)).patch : {};
    // Measured (reports) against the resolution due date, as when an agent closes it (statusChange).
    const slaDue = dbDate('sla_due_at' in waited ? waited.sla_due_at : t.sla_due_at);
    const due = dbDate(t.manual_due_at) ?? slaDue;
    await trx('tickets').where({ id: t.id }).update({ ...waited, due_at: toDbDate(due), status: 'closed', state: 'closed', closed_at: ts, updated_at: ts, is_overdue: false, version: t.version + 1 });
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, 'closed', { from: t.status, to: 'closed', by: 'user', userId: t.user_id });
    return { number: t.number, closed: true };
  });
}

/**
 * An attachment the requester may download: on a ticket this session may read, and on a message
 * or response (never on an internal note). Anything else is NotFound.
 */
export async function getAttachmentForUser(ctx: ServiceContext, rawId: unknown): Promise<{ filename: string; contentType: string; data: Buffer }> {
  const idNum = Number(rawId);
  const missing = new NotFound('File not found.', 'ATTACHMENT_NOT_FOUND');
  if (!Number.isInteger(idNum) || idNum <= 0 || !/^\d+$/.test(String(rawId))) throw missing;
  const file = await readAttachment(ctx.db, idNum);
  if (!file || !file.entryId) throw missing;
  await loadTicketFor(ctx.db, ctx.actor, { id: file.ticketId }).catch(() => {
    throw missing;
  });
  const entry = await ctx.db('thread_entries').where({ id: file.entryId, ticket_id: file.ticketId }).first('kind');
  if (!entry || !['message', 'response'].includes(entry.kind)) throw missing;
  return { filename: file.filename, contentType: file.contentType, data: file.data };
}

export interface SessionTicket {
  number: string;
  subject: string;
  status: TicketStatus;
  statusLabel: string;
  department: string;
  updatedAt: { iso: string; text: string };
  /** Whose it is, when not the reader's own (a CC's, or their organization's). */
  requester: string | null;
}

/** Tickets on a page of "My tickets" for a user signed in with their email. */
export const MY_TICKETS_PAGE_SIZE = 25;

export interface SessionTickets {
  items: SessionTicket[];
  /** Signed in with their email: every ticket of theirs (and of their organization when it shares them), a page at a time. */
  signedIn: boolean;
  /** Open, closed (resolved or closed) or every ticket. */
  state: 'open' | 'closed' | 'all';
  page: number;
  /** Whether a next page exists (the list reads one row more than it shows, and counts nothing). */
  hasNext: boolean;
}

/**
 * Tickets this browser session may read ("My tickets" and the status page), newest activity first.
 * A session opened by email + number, an access link or a ticket opened here lists only the tickets
 * it proved: never every ticket of the user's email address. A user signed in with their email (a
 * link mailed to them) gets all their tickets, those they are copied on, and their organization's
 * when it shares them (sharedByOrganization), by state, a page at a time.
 */
export async function listSessionTickets(ctx: ServiceContext, opts: { page?: string; state?: string } = {}): Promise<SessionTickets> {
  const state = opts.state === 'open' || opts.state === 'closed' ? opts.state : 'all';
  const signedIn = ctx.actor.kind === 'user' && ctx.actor.ticketIds === undefined;
  const none: SessionTickets = { items: [], signedIn, state, page: 1, hasNext: false };
  if (ctx.actor.kind !== 'user' || (!signedIn && !ctx.actor.ticketIds?.length)) return none;
  const userId = ctx.actor.id;
  const q = ctx.db('tickets as t')
    .leftJoin('departments as d', 'd.id', 't.department_id')
    .andWhere((w) => {
      w.where('t.user_id', userId).orWhereExists(ccExists(ctx.db, 't.id', userId));
      if (signedIn) w.orWhereIn('t.user_id', sharedByOrganization(ctx.db, userId));
    })
    .orderBy('t.updated_at', 'desc')
    .orderBy('t.id', 'desc')
    .select('t.number', 't.subject', 't.status', 't.updated_at', 't.user_id', 't.requester_name', 'd.name as department');
  if (!signedIn) q.whereIn('t.id', ctx.actor.ticketIds!);
  if (state !== 'all') q.where('t.state', state);
  const n = Number(opts.page);
  const page = signedIn && Number.isInteger(n) && n > 1 ? Math.min(n, 10_000) : 1;
  if (signedIn) q.limit(MY_TICKETS_PAGE_SIZE + 1).offset((page - 1) * MY_TICKETS_PAGE_SIZE);
  const rows = await q;
  if (!rows.length) return { ...none, page };
  const hasNext = signedIn && rows.length > MY_TICKETS_PAGE_SIZE;
  const tz = (await getSettings(ctx.db)).timezone;
  return {
    signedIn, state, page, hasNext,
    items: rows.slice(0, signedIn ? MY_TICKETS_PAGE_SIZE : undefined).map((r: any) => ({
      number: r.number, subject: r.subject, status: r.status, statusLabel: REQUESTER_STATUS_LABELS[r.status as TicketStatus] ?? r.status,
      department: r.department ?? '', updatedAt: when(r.updated_at, tz), requester: Number(r.user_id) === userId ? null : String(r.requester_name ?? ''),
    })),
  };
}
