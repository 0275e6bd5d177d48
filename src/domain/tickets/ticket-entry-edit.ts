/**
 * Editing a thread entry (osTicket's thread.edit and "View History"). An agent corrects their own reply
 * or internal note; an administrator any entry — a requester's message too, to take out a password or a
 * card number sent in it. The text an edit replaces is kept as a revision (agents read the history), or,
 * when the editor asks, removed for good with every earlier revision (redaction). The entry says it was
 * edited, by whom and when; the ticket's history records each edit (not the text). Nothing is mailed:
 * mail already sent stays as it was sent (the page says so for replies).
 */
import { z } from 'zod';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import type { Actor } from '../actor.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { Conflict, Forbidden, NotFound } from '../errors.ts';
import { checkbox, id, parseInput, requiredText } from '../validation.ts';
import { assertStaff, loadForAction, saveTicket } from './ticket-agent-common.ts';
import { assertMay, loadTicketFor } from './ticket-policy.ts';
import { recordTicketEvent } from './ticket-events.ts';
import { formatDate } from './ticket-presenters.ts';
import { getSettings } from '../settings/settings-service.ts';

/** The thread entry columns these functions read. */
const ENTRY_COLUMNS = ['id', 'ticket_id', 'kind', 'agent_id', 'poster_name', 'body', 'created_at', 'edited_at'] as const;

/** Whether `actor` may edit entry `e`: an administrator any; an agent the replies and notes they posted. */
export function mayEditEntry(actor: Actor, e: { kind: string; agent_id?: unknown }): boolean {
  if (actor.kind !== 'agent') return false;
  return actor.role === 'admin' || (e.kind !== 'message' && Number(e.agent_id) === actor.id);
}

function assertMayEdit(actor: Actor, e: { kind: string; agent_id?: unknown }): void {
  if (!mayEditEntry(actor, e)) {
    throw new Forbidden(e.kind === 'message'
      ? 'Only an administrator may edit a requester’s message.'
      : 'You may edit only the replies and notes you posted (an administrator may edit any).', 'ENTRY_EDIT_FORBIDDEN');
  }
}

/** The mark that tells whether the entry changed since the editor was opened (its last edit, or none). */
const editMark = (editedAt: unknown) => dbDate(editedAt)?.toISOString() ?? 'never';

async function loadEntry(db: ServiceContext['db'], ticketId: number, entryId: number, forUpdate = false) {
  const q = db('thread_entries').where({ id: entryId, ticket_id: ticketId }).first(...ENTRY_COLUMNS);
  if (forUpdate) q.forUpdate();
  const e = await q;
  if (!e) throw new NotFound('That entry does not exist on this ticket.', 'ENTRY_NOT_FOUND');
  return e;
}

/**
 * The editor page's model: the entry, its earlier texts (newest first), the mark to send back with the
 * edit. Any agent who may see the ticket reads the history; the form is for those who may edit.
 * @throws Forbidden, NotFound
 */
export async function getEntryForEdit(ctx: ServiceContext, ticketId: number, entryId: number) {
  assertStaff(ctx.actor);
  const t = await loadTicketFor(ctx.db, ctx.actor, { id: ticketId });
  const e = await loadEntry(ctx.db, t.id, entryId);
  const tz = (await getSettings(ctx.db)).timezone;
  const revisions = await ctx.db('thread_entry_revisions as r').leftJoin('agents as a', 'a.id', 'r.agent_id')
    .where('r.entry_id', e.id).orderBy('r.id', 'desc').select('r.id', 'r.body', 'r.created_at', 'a.name as agent_name');
  const editor = e.edited_at ? await ctx.db('thread_entries as e').join('agents as a', 'a.id', 'e.edited_by_agent_id').where('e.id', e.id).first('a.name') : null;
  return {
    ticket: { id: Number(t.id), number: String(t.number), subject: String(t.subject) },
    entry: {
      id: Number(e.id), kind: String(e.kind), poster: e.poster_name ?? '', body: String(e.body), created: formatDate(dbDate(e.created_at), tz),
      edited: e.edited_at ? { at: formatDate(dbDate(e.edited_at), tz), by: editor?.name ?? 'an agent who has left' } : null,
    },
    mark: editMark(e.edited_at),
    canEdit: mayEditEntry(ctx.actor, e) && !t.merged_into_id && (e.kind !== 'response' || (await assertMay(ctx.db, ctx.actor, 'ticket.reply', t.department_id).then(() => true, () => false))),
    /** Earlier texts, newest first: each as it read until the edit made at `replaced` by `by`. */
    revisions: revisions.map((r: any) => ({ id: Number(r.id), body: String(r.body), replaced: formatDate(dbDate(r.created_at), tz), by: r.agent_name ?? 'an agent who has left' })),
  };
}
export type EntryForEdit = Awaited<ReturnType<typeof getEntryForEdit>>;

export const EditEntryInput = z.object({
  ticketId: id,
  entryId: id,
  body: requiredText(100_000, 'Text'),
  /** The entry's edit mark when the editor was opened (a later edit by someone else is not overwritten). */
  mark: z.string().max(40).optional(),
  /** Remove the text this replaces, and every earlier text, for good. */
  redact: checkbox.optional(),
});
export type EditEntryInput = z.input<typeof EditEntryInput>;

/**
 * Replaces the text of one thread entry. Keeps the text it replaces as a revision, or with `redact`
 * removes it and every earlier revision; marks the entry edited; records `entry_edited` (the ticket's
 * version moves on, so open pages see the change). The same text again changes nothing.
 * @throws ValidationFailed, NotFound, Forbidden ENTRY_EDIT_FORBIDDEN, Conflict ENTRY_CHANGED (edited since `mark`), InvalidTransition TICKET_MERGED
 */
export async function editThreadEntry(ctx: ServiceContext, raw: EditEntryInput): Promise<{ ticketId: number; entryId: number; changed: boolean }> {
  const input = parseInput(EditEntryInput, raw);
  return inTransaction(ctx, async (trx) => {
    const t = await loadForAction(ctx, trx, { ticketId: input.ticketId }, []);
    const e = await loadEntry(trx, t.id, input.entryId, true);
    assertMayEdit(ctx.actor, e);
    // A reply is edited by those whose role still lets them reply in the ticket's department (a note needs nothing).
    if (e.kind === 'response') await assertMay(trx, ctx.actor, 'ticket.reply', t.department_id);
    if (input.mark !== undefined && input.mark !== editMark(e.edited_at)) {
      throw new Conflict('Someone edited this entry after you opened it: their text is shown now; yours is kept below to copy from.', 'ENTRY_CHANGED');
    }
    const redact = input.redact ?? false;
    if (input.body === e.body && !redact) return { ticketId: Number(t.id), entryId: Number(e.id), changed: false };
    const now = ctx.clock();
    const agentId = ctx.actor.kind === 'agent' ? ctx.actor.id : null;
    if (redact) await trx('thread_entry_revisions').where({ entry_id: e.id }).delete();
    else await trx('thread_entry_revisions').insert({ entry_id: e.id, body: e.body, agent_id: agentId, created_at: toDbDate(now) });
    await trx('thread_entries').where({ id: e.id }).update({ body: input.body, edited_at: toDbDate(now), edited_by_agent_id: agentId });
    await saveTicket(trx, t, {}, now);
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, 'entry_edited', { entryId: Number(e.id), kind: e.kind, redacted: redact });
    return { ticketId: Number(t.id), entryId: Number(e.id), changed: true };
  });
}
