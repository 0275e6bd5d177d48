/**
 * Agent ticket actions (the contract in docs/TEAM-CONTRACTS.md "Agent ticket actions"): replies,
 * internal notes, status changes and edits live here; assignment/transfer and properties live in
 * the sibling files and are re-exported, so callers import every action from this module.
 * Each action: parse → load for update (version check) → policy → one transaction with the change,
 * its ticket_events row(s) and the mail it calls for.
 */
import { z } from 'zod';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { isAgent } from '../actor.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { notifyTicket } from '../mail/ticket-notifications.ts';
import { getSettings } from '../settings/settings-service.ts';
import { optionalId, optionalText, parseInput, requiredText } from '../validation.ts';
import { checkAttachments, storeAttachments, type UploadedFile } from './attachment-service.ts';
import { dueFields, insertStaffEntry, loadForAction, nameOf, saveTicket, statusChange, TicketRef, type StatusChange } from './ticket-agent-common.ts';
import { recordTicketEvent, recordTicketEvents } from './ticket-events.ts';
import { STATUSES } from './ticket-status.ts';
import { searchText } from './ticket-search-index.ts';
import { signatureChoice, signatureColumn, withSignature } from './ticket-signatures.ts';

export { assignTicket, claimTicket, releaseTicket, transferTicket } from './ticket-assignment-service.ts';
export { changeTicketPriority, changeTicketSla, setTicketDueDate } from './ticket-property-service.ts';
export { openTicketForUser } from './ticket-agent-open.ts';

/** What every action returns: the ticket and its new version (for the next optimistic check). */
export interface TicketActionResult {
  ticketId: number;
  version: number;
  changed: boolean;
}

const optionalStatus = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.enum(STATUSES, { error: 'Choose a status from the list' }).optional());
/**
 * Who the reply is emailed to: 'all' (the requester and the ticket's CCs; also when omitted, and the
 * API's `true`), 'user' (the requester only) or 'none' (the API's `false`; a checkbox left unticked).
 */
const notifyChoice = z.preprocess(
  (v) => (v === undefined || v === true || v === '1' || v === 'on' || v === 'true' ? 'all' : v === false || v === '0' || v === 'false' || v === '' ? 'none' : v),
  z.enum(['all', 'user', 'none'], { error: 'Choose who is emailed the reply' }),
);

export const ReplyToTicketInput = z.object({
  ...TicketRef, message: requiredText(100_000, 'Reply'), status: optionalStatus, notifyUser: notifyChoice.optional(), signature: signatureChoice,
});
export type ReplyToTicketInput = z.input<typeof ReplyToTicketInput>;

/**
 * Posts an agent response: emailed to the requester and the CCs (notifyUser 'all'), the requester
 * only ('user') or nobody ('none'), marks the ticket
 * answered, sets first_response_at once and last_response_at, may change the status in the same
 * step, and claims an open unassigned ticket for the replying agent (setting auto_claim_on_reply).
 * `signature` ('none' | 'mine' | 'dept'; absent = none): the agent's or the ticket's department's
 * signature appended to the body, read with the ticket in the transaction (ticket-signatures.ts).
 * @throws ValidationFailed, NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition
 */
export async function replyToTicket(ctx: ServiceContext, raw: ReplyToTicketInput, files: UploadedFile[] = []): Promise<TicketActionResult & { entryId: number }> {
  const input = parseInput(ReplyToTicketInput, raw);
  const signature = signatureColumn(ctx.db, ctx.actor, input.signature);
  const settings = await getSettings(ctx.db);
  checkAttachments(files, settings);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    const ts = toDbDate(now);
    const t = await loadForAction(ctx, trx, input, input.status ? ['ticket.reply', 'ticket.close'] : 'ticket.reply', signature ? [signature] : []);
    // The reply meets the response target that applies (the first response's, or the next one's while a
    // message awaits a reply): the due date that applies becomes the SLA's.
    const answered = { ...t, first_response_at: t.first_response_at ?? ts, next_response_due_at: null };
    const responseTarget = t.first_response_at ? (t.next_response_due_at ? 'next_response' : null) : 'first_response';
    const response = responseTarget ? dueFields(answered, dbDate(t.sla_due_at), dbDate(t.manual_due_at), now, { nextResponseDueAt: null }) : null;
    const change = input.status && input.status !== t.status ? await statusChange(trx, answered, input.status, now) : null;
    const entryId = await insertStaffEntry(tctx, trx, t.id, 'response', withSignature(input.message, t));
    await storeAttachments(trx, t.id, entryId, files, now);
    const claim = settings.auto_claim_on_reply && isAgent(ctx.actor) && t.state === 'open' && !t.assignee_agent_id;
    await saveTicket(trx, t, {
      ...response?.patch, ...change?.patch, is_answered: true, last_response_at: ts, first_response_at: t.first_response_at ?? ts,
      ...(claim && isAgent(ctx.actor) ? { assignee_agent_id: ctx.actor.id } : {}),
    }, now);
    const notify = input.notifyUser ?? 'all';
    const events: Parameters<typeof recordTicketEvents>[3] = [['response', { entryId, notified: notify !== 'none', ...(notify === 'user' ? { ccs: false } : {}) }]];
    if (claim && isAgent(ctx.actor)) events.push(['claimed', { agentId: ctx.actor.id, agentName: ctx.actor.name, by: 'reply' }]);
    if (change) events.push([change.event, change.data]);
    if (response?.overdueCleared && !(change && 'is_overdue' in change.patch)) events.push(['overdue_cleared', { by: responseTarget }]);
    await recordTicketEvents(tctx, trx, t.id, events);
    // The reply is the user-facing message; a status set with it does not send a second mail.
    if (notify !== 'none') await notifyTicket(tctx, trx, { kind: 'agent_response', ticketId: t.id, entryId, ccs: notify === 'all' });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true, entryId };
  });
}

export const AddInternalNoteInput = z.object({ ...TicketRef, note: requiredText(100_000, 'Note'), status: optionalStatus });
export type AddInternalNoteInput = z.input<typeof AddInternalNoteInput>;

/**
 * Adds an internal note (agents only; never emailed to the user), optionally changing the status.
 * @throws ValidationFailed, NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition
 */
export async function addInternalNote(ctx: ServiceContext, raw: AddInternalNoteInput, files: UploadedFile[] = []): Promise<TicketActionResult & { entryId: number }> {
  const input = parseInput(AddInternalNoteInput, raw);
  const settings = await getSettings(ctx.db);
  checkAttachments(files, settings);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    // A note needs no permission (every agent who sees the ticket may leave one); a status set with it does.
    const t = await loadForAction(ctx, trx, input, input.status ? 'ticket.close' : []);
    const change = input.status && input.status !== t.status ? await statusChange(trx, t, input.status, now) : null;
    const entryId = await insertStaffEntry(tctx, trx, t.id, 'note', input.note);
    await storeAttachments(trx, t.id, entryId, files, now);
    await saveTicket(trx, t, { ...change?.patch }, now);
    const events: Parameters<typeof recordTicketEvents>[3] = [['note', { entryId }]];
    if (change) events.push([change.event, change.data]);
    await recordTicketEvents(tctx, trx, t.id, events);
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true, entryId };
  });
}

export const ChangeTicketStatusInput = z.object({
  ...TicketRef,
  status: z.enum(STATUSES, { error: 'Choose a status from the list' }),
  comment: optionalText(10_000, 'Comment'),
});
export type ChangeTicketStatusInput = z.input<typeof ChangeTicketStatusInput>;

/**
 * Resolves, closes or reopens a ticket. Closing sets closed_at, clears the overdue flag and tells
 * the user (setting notice_closed); reopening restarts the SLA clock. A comment becomes an internal note.
 * @throws ValidationFailed, NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (SAME_STATUS)
 */
export async function changeTicketStatus(ctx: ServiceContext, raw: ChangeTicketStatusInput): Promise<TicketActionResult> {
  const input = parseInput(ChangeTicketStatusInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    const t = await loadForAction(ctx, trx, input, 'ticket.close');
    const change: StatusChange = await statusChange(trx, t, input.status, now);
    await saveTicket(trx, t, change.patch, now);
    const entryId = input.comment ? await insertStaffEntry(tctx, trx, t.id, 'note', input.comment) : undefined;
    await recordTicketEvent(tctx, trx, t.id, change.event, { ...change.data, ...(entryId ? { entryId } : {}) });
    if (change.closing) await notifyTicket(tctx, trx, { kind: 'ticket_closed', ticketId: t.id, status: input.status as 'resolved' | 'closed' });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const EditTicketInput = z.object({ ...TicketRef, subject: requiredText(255, 'Subject'), topicId: optionalId });
export type EditTicketInput = z.input<typeof EditTicketInput>;

/**
 * Edits the subject and help topic (no topic = none). Nothing changed is not an error: `changed` is false.
 * @throws ValidationFailed, NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function editTicket(ctx: ServiceContext, raw: EditTicketInput): Promise<TicketActionResult> {
  const input = parseInput(EditTicketInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const t = await loadForAction(ctx, trx, input, 'ticket.edit');
    const topicId = input.topicId ?? null;
    if (topicId && !(await trx('help_topics').where({ id: topicId, is_active: true }).first('id'))) throw new ValidationFailed({ topicId: 'Choose a help topic from the list' });
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (input.subject !== t.subject) changes.subject = { from: t.subject, to: input.subject };
    if (topicId !== (t.topic_id ?? null)) changes.topic = { from: await nameOf(trx, 'help_topics', t.topic_id), to: await nameOf(trx, 'help_topics', topicId) };
    if (!Object.keys(changes).length) return { ticketId: t.id, version: Number(t.version), changed: false };
    // A new subject's search_text now; its words in the word index by the background task (ticket-search-index.ts).
    await saveTicket(trx, t, { subject: input.subject, topic_id: topicId, ...(changes.subject ? { search_text: searchText(input.subject, t.requester_name), search_indexed: false } : {}) }, ctx.clock());
    await recordTicketEvent(tctx, trx, t.id, 'edited', changes);
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}
