/**
 * Merging a duplicate into another ticket (osTicket 1.16's "merge", Zendesk's and Zammad's): the
 * duplicate's thread (messages, replies, notes and their files) and its tasks move into the target, in time order
 * with its own; the duplicate's requester and CCs become CCs of the target (unless they are its
 * requester), so they keep following the conversation; the duplicate is closed and points at the
 * target (`merged_into_id`). Nothing is mailed. Afterwards mail, portal replies and links that name
 * the duplicate go to the target (addUserMessage, the portal), and agents may no longer act on the
 * duplicate (loadForAction: TICKET_MERGED). Each ticket's history records the merge.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbDate, toDbDate } from '../../db/dialect.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { stopWaiting } from '../sla/sla-pause.ts';
import { parseInput } from '../validation.ts';
import { assertStaff, loadForAction, saveTicket, TicketRef } from './ticket-agent-common.ts';
import type { TicketActionResult } from './ticket-agent-service.ts';
import { addCollaboratorsFromMerge } from './ticket-collaborators.ts';
import { recordTicketEvent } from './ticket-events.ts';
import { assertMay, loadTicketFor } from './ticket-policy.ts';

const targetNumber = z
  .string({ error: 'Enter the number of the ticket to merge into' })
  .trim()
  .transform((s) => s.replace(/^#/, ''))
  .pipe(z.string().min(1, 'Enter the number of the ticket to merge into').max(20, 'Enter a ticket number').regex(/^[A-Za-z0-9-]+$/, 'Enter a ticket number, as #123456'));

export const MergeTicketInput = z.object({ ...TicketRef, target: targetNumber });
export type MergeTicketInput = z.input<typeof MergeTicketInput>;

/**
 * Merges the ticket `ticketId` into the ticket numbered `target` (one the actor may see, not itself
 * merged). Returns the target (the page to go on with).
 * @throws ValidationFailed (target: unknown, the same, merged), NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (TICKET_MERGED)
 */
export async function mergeTicket(ctx: ServiceContext, raw: MergeTicketInput): Promise<TicketActionResult> {
  assertStaff(ctx.actor);
  const input = parseInput(MergeTicketInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    const found = await trx('tickets').where({ number: input.target }).first('id');
    if (found?.id === input.ticketId) throw new ValidationFailed({ target: 'That is this ticket: enter the number of the ticket to merge it into' });
    // Both rows locked in id order, so two merges of the same pair (either way) cannot deadlock.
    if (found) await trx('tickets').whereIn('id', [input.ticketId, found.id]).orderBy('id').forUpdate().select('id');
    const t = await loadForAction(ctx, trx, input, 'ticket.merge');
    const into = found
      ? await loadTicketFor(trx, ctx.actor, { id: found.id }, { forUpdate: true }).catch((err: unknown) => {
          if (err instanceof NotFound) return null;
          throw err;
        })
      : null;
    if (!into) throw new ValidationFailed({ target: `There is no ticket #${input.target} that you can see` });
    // The target's department must allow merging too (its thread grows by the duplicate's).
    await assertMay(trx, ctx.actor, 'ticket.merge', into.department_id);
    if (into.merged_into_id) throw new ValidationFailed({ target: `#${into.number} was itself merged into another ticket: merge into that one` });

    const moved = await trx('thread_entries').where({ ticket_id: t.id }).update({ ticket_id: into.id });
    await trx('attachments').where({ ticket_id: t.id }).update({ ticket_id: into.id });
    // Its tasks are work still to do (or done) on the same request: they move too.
    await trx('ticket_tasks').where({ ticket_id: t.id }).update({ ticket_id: into.id });
    const ccs = await addCollaboratorsFromMerge(tctx, trx, t, into);
    const times = [dbDate(t.last_message_at), dbDate(into.last_message_at)].filter((d): d is Date => !!d).map((d) => d.getTime());
    const lastMessage = times.length ? toDbDate(new Date(Math.max(...times))) : null;
    const waited = t.status === 'pending' ? (await stopWaiting(trx, t, now)).patch : {};
    await saveTicket(trx, t, { ...waited, status: 'closed', state: 'closed', closed_at: t.closed_at ?? toDbDate(now), is_overdue: false, merged_into_id: into.id }, now);
    await recordTicketEvent(tctx, trx, t.id, 'merged', { into: into.number, intoId: into.id, entries: moved });
    await saveTicket(trx, into, { last_message_at: lastMessage }, now);
    await recordTicketEvent(tctx, trx, into.id, 'merged', { from: t.number, fromId: t.id, subject: t.subject, entries: moved, ccs });
    return { ticketId: into.id, version: Number(into.version) + 1, changed: true };
  });
}

/**
 * The ticket a merged one leads to, past any later merge of that one (the row itself when it was not
 * merged); `forUpdate` locks each row it reads. Mail, portal replies and links to a duplicate go there.
 */
export async function followMerges(db: Knex | Knex.Transaction, row: any, opts: { forUpdate?: boolean } = {}): Promise<any> {
  let t = row;
  for (let hops = 0; t?.merged_into_id && hops < 10; hops++) {
    const q = db('tickets').where({ id: t.merged_into_id }).first();
    t = await (opts.forUpdate ? q.forUpdate() : q);
  }
  return t;
}
