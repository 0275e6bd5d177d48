/**
 * Deleting a ticket (osTicket's "Delete", for spam, test tickets and data-protection requests): a hard
 * delete of the ticket and of everything that belongs only to it — thread entries, attachments and their
 * stored contents, history, CCs, tasks, custom field answers, search words, locks and access links —
 * in one transaction per ticket. What stays:
 * - the requester (a user of the directory, who may have other tickets);
 * - its mail, in the mail log without its ticket and WITHOUT ITS TEXT (redactTicketMail: subject but
 *   for "[#number]", bodies): the delivery trail of recipient, times and status; mail not sent yet is
 *   cancelled (discarded). The inbound mail log (de-duplication by Message-ID) keeps its rows without
 *   the ticket and the subject;
 * - tickets merged INTO the deleted one: they stay closed, with their own history ("Merged into #N"),
 *   and lose the link (merged_into_id: the ticket the deleted one was itself merged into, else none),
 *   with an event saying so. Their messages had moved into the deleted ticket and go with it;
 * - one audit_log row (ticket.delete): number, subject, requester, department, counts and who did it,
 *   since the ticket's own history goes with it.
 * Webhooks subscribed to `deleted` get a delivery, queued in the same transaction (number, subject,
 * status, department; the actor says who), its `ticket` null: the ticket is gone when it is sent.
 * Nobody is mailed. Admins may always delete; agents whose role allows it in the ticket's department
 * (ticket.delete: ticket-policy.ts assertMay), the tickets they can see; API keys that manage tickets; the system.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbCount } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { banAddress, banRefusal } from '../users/ban-list-service.ts';
import { domainOf } from '../users/user-service.ts';
import { checkbox, id, parseInput } from '../validation.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { recordTicketEvent } from './ticket-events.ts';
import { enqueueWebhookDeliveries } from '../webhooks/webhook-enqueue.ts';
import { redactTicketMail } from '../mail/mail-log-service.ts';
import { assertMay, loadTicketFor } from './ticket-policy.ts';

type Db = Knex | Knex.Transaction;

export const DeleteTicketInput = z.object({
  ticketId: id,
  /** Also put the requester's address on the ban list. */
  ban: checkbox.default(false),
});
export type DeleteTicketInput = z.input<typeof DeleteTicketInput>;

export interface TicketCounts {
  entries: number;
  files: number;
  events: number;
  ccs: number;
  tasks: number;
  fieldAnswers: number;
}

/** What the confirmation page shows: what goes, what stays, and whether the requester can be banned. */
export interface TicketDeletion {
  ticket: { id: number; number: string; subject: string; status: string; department: string | null; requester: { id: number; name: string; email: string } };
  counts: TicketCounts;
  /** Tickets merged into this one: they stay, without the link here. */
  mergedFrom: { id: number; number: string }[];
  /** The ban offer: why the address cannot be banned (null: it can), or that the list bans it already. */
  ban: { address: string; refusal: string | null; alreadyBanned: boolean };
}

export interface DeletedTicket {
  ticketId: number;
  number: string;
  counts: TicketCounts;
  /** Numbers of the tickets that had been merged into it (they keep their own history). */
  mergedFrom: string[];
  /** The requester's address: put on the ban list, already on it, or not asked for. */
  ban: 'added' | 'already' | null;
}

/**
 * Loads the ticket for deletion: NotFound for one the actor may not see (as everywhere), Forbidden
 * when they may see it but not delete it. @throws Forbidden, NotFound
 */
async function loadForDelete(ctx: ServiceContext, db: Db, ticketId: number, forUpdate: boolean): Promise<{ t: any; settings: Settings }> {
  assertStaff(ctx.actor);
  if (!Number.isInteger(ticketId) || ticketId <= 0) throw new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
  const t = await loadTicketFor(db, ctx.actor, { id: ticketId }, { forUpdate });
  await assertMay(db, ctx.actor, 'ticket.delete', t.department_id);
  const settings = await getSettings(db);
  return { t, settings };
}

/** The requester and the department's name, in one read (not joined to the locked read: that would lock the department's row too). */
async function peopleOf(db: Db, t: any): Promise<{ id: number; name: string; email: string; department: string | null }> {
  const r = await db('users').where({ id: t.user_id }).first('id', 'name', 'email', db('departments').where({ id: t.department_id }).select('name').as('department_name'));
  return { id: Number(r.id), name: String(r.name), email: String(r.email), department: r.department_name ?? null };
}

/** The ticket's dependent rows, counted in one statement. */
async function countsOf(db: Db, ticketId: number): Promise<TicketCounts> {
  const n = (table: string, as: string) => db(table).where('ticket_id', ticketId).count('*').as(as);
  const r: any = await db.select(n('thread_entries', 'entries'), n('attachments', 'files'), n('ticket_events', 'events'), n('ticket_collaborators', 'ccs'), n('ticket_tasks', 'tasks'), n('ticket_field_values', 'answers')).first();
  return { entries: dbCount(r.entries), files: dbCount(r.files), events: dbCount(r.events), ccs: dbCount(r.ccs), tasks: dbCount(r.tasks), fieldAnswers: dbCount(r.answers) };
}

/**
 * The tickets merged into `ticketId`, found from its own history (each merge records `fromId` on the
 * target: ticket-merge.ts), since merged_into_id has no index: a search by it would scan the tickets
 * table (and lock every row it reads, on MySQL, inside the delete's transaction).
 */
async function mergedInto(db: Db, ticketId: number): Promise<{ id: number; number: string }[]> {
  const rows = await db('ticket_events').where({ ticket_id: ticketId, event: 'merged' }).pluck('data');
  const ids = [...new Set(rows.map((d: string | null) => Number(JSON.parse(d ?? '{}').fromId)).filter((x) => Number.isInteger(x) && x > 0))];
  if (!ids.length) return [];
  const found = await db('tickets').whereIn('id', ids).andWhere('merged_into_id', ticketId).orderBy('id').select('id', 'number');
  return found.map((r: any) => ({ id: Number(r.id), number: String(r.number) }));
}

/**
 * What deleting the ticket would remove and keep, for the confirmation page (and the bulk one).
 * @throws Forbidden, NotFound
 */
export async function getTicketDeletion(ctx: ServiceContext, ticketId: number): Promise<TicketDeletion> {
  const { t, settings } = await loadForDelete(ctx, ctx.db, ticketId, false);
  const requester = await peopleOf(ctx.db, t);
  const address = requester.email;
  const [counts, mergedFrom, refusal, banned] = await Promise.all([
    countsOf(ctx.db, t.id), mergedInto(ctx.db, t.id), banRefusal(ctx.db, address, settings),
    ctx.db('bans').whereIn('pattern', [address, `@${domainOf(address)}`]).first('id'),
  ]);
  return {
    ticket: { id: t.id, number: t.number, subject: t.subject, status: t.status, department: requester.department, requester: { id: requester.id, name: requester.name, email: address } },
    counts, mergedFrom, ban: { address, refusal, alreadyBanned: !!banned },
  };
}

/** Deletes `ids` (chunked: SQLite binds at most 32,766 values in one statement). */
async function deleteIds(trx: Knex.Transaction, table: string, column: string, ids: number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await trx(table).whereIn(column, ids.slice(i, i + 500)).delete();
}

/** Removes the ticket's rows, children first (the foreign keys' cascades are a safety net, not the plan). Returns the counts. */
async function removeRows(trx: Knex.Transaction, t: { id: number; number: string }, now: Date): Promise<TicketCounts> {
  const ticketId = t.id;
  const byTicket = (table: string) => trx(table).where('ticket_id', ticketId);
  // Its mail stays in the mail log as the delivery trail, without its text; mail not sent yet is cancelled.
  await redactTicketMail(trx, t, now);
  // The inbound log keeps the Message-ID (de-duplication) and the sender, not the subject.
  await trx('inbound_messages').where('ticket_id', ticketId).orWhereIn('entry_id', byTicket('thread_entries').select('id')).update({ ticket_id: null, entry_id: null, subject: null });
  for (const table of ['access_tokens', 'ticket_locks', 'ticket_search_words']) await byTicket(table).delete();
  const fieldAnswers = await byTicket('ticket_field_values').delete();
  const tasks = await byTicket('ticket_tasks').delete();
  const ccs = await byTicket('ticket_collaborators').delete();
  const events = await byTicket('ticket_events').delete();
  const fileIds: number[] = (await byTicket('attachments').pluck('file_id')).map(Number);
  const files = await byTicket('attachments').delete();
  await deleteIds(trx, 'file_contents', 'file_id', fileIds);
  await deleteIds(trx, 'files', 'id', fileIds);
  const entries = await byTicket('thread_entries').delete();
  return { entries, files, events, ccs, tasks, fieldAnswers };
}

/**
 * Deletes a ticket for good, and with `ban` puts its requester's address on the ban list (refused for
 * an agent's address or one of the help desk's own: ValidationFailed on `ban`, nothing deleted).
 * @throws ValidationFailed, Forbidden (PERMISSION_DENIED), NotFound (TICKET_NOT_FOUND)
 */
export async function deleteTicket(ctx: ServiceContext, raw: DeleteTicketInput): Promise<DeletedTicket> {
  assertStaff(ctx.actor);
  const input = parseInput(DeleteTicketInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const { t, settings } = await loadForDelete(tctx, trx, input.ticketId, true);
    const requester = await peopleOf(trx, t);
    let ban: DeletedTicket['ban'] = null;
    if (input.ban) {
      const refusal = await banRefusal(trx, requester.email, settings);
      if (refusal) throw new ValidationFailed({ ban: refusal });
      ban = await banAddress(tctx, trx, requester.email, `Requester of ticket #${t.number}, deleted`);
    }
    const merged = await mergedInto(trx, t.id);
    if (merged.length) {
      // They lead on to where the deleted ticket itself was merged, if it was; else nowhere.
      const next = t.merged_into_id ? await trx('tickets').where({ id: t.merged_into_id }).first('id', 'number') : undefined;
      await trx('tickets').whereIn('id', merged.map((m) => m.id)).andWhere('merged_into_id', t.id)
        .update({ merged_into_id: next?.id ?? null, version: trx.raw('?? + 1', ['version']) });
      for (const m of merged) await recordTicketEvent(tctx, trx, m.id, 'merge_target_deleted', { number: t.number, ...(next ? { into: next.number, intoId: next.id } : {}) });
    }
    // Queued with the ticket's id (as its other deliveries): the foreign key empties it with the ticket.
    await enqueueWebhookDeliveries(tctx, trx, t.id, [['deleted', {
      ticketId: t.id, number: t.number, subject: t.subject, status: t.status, departmentId: t.department_id, department: requester.department,
    }]]);
    const counts = await removeRows(trx, t, ctx.clock());
    await trx('tickets').where({ id: t.id }).delete();
    await recordAudit(tctx, trx, {
      action: 'ticket.delete', entity: 'ticket', entityId: t.id,
      before: {
        number: t.number, subject: t.subject, requester: { name: requester.name, email: requester.email }, department: requester.department,
        status: t.status, counts, mergedFrom: merged.map((m) => m.number),
      },
      after: { deleted: true, ban, ...(ctx.actor.kind === 'api' ? { apiKeyId: ctx.actor.keyId } : {}) },
    });
    return { ticketId: t.id, number: t.number, counts, mergedFrom: merged.map((m) => m.number), ban };
  });
}
