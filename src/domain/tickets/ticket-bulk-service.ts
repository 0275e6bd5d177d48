/**
 * Bulk actions from a queue (osTicket's mass actions): one action on up to MAX_BULK tickets at once —
 * assign (an agent, or claim), transfer, change the priority, resolve, close, reopen or delete. Each ticket
 * goes through the same service as on its page, in its own transaction, with the same permission
 * rules; a ticket the action does not apply to (another department's agent, already closed, merged…)
 * is skipped with the reason, and the others go on.
 */
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { DomainError, Forbidden, ValidationFailed } from '../errors.ts';
import { requireAgent } from '../actor.ts';
import { checkbox, id, parseInput } from '../validation.ts';
import { assignTicket, claimTicket, transferTicket } from './ticket-assignment-service.ts';
import { changeTicketPriority } from './ticket-property-service.ts';
import { changeTicketStatus } from './ticket-agent-service.ts';
import { deleteTicket, getTicketDeletion, type TicketDeletion } from './ticket-delete.ts';
import { mayAnywhere } from './ticket-policy.ts';

/** Most tickets one bulk action changes (a queue page is at most 100). */
export const MAX_BULK = 100;

const idList = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(id).max(MAX_BULK, `At most ${MAX_BULK} tickets at once`));

export const BulkActionInput = z.object({
  ids: idList.refine((a) => a.length > 0, 'Tick the tickets first'),
  /** claim | assign:agent:<id> | assign:team:<id> | transfer:<departmentId> | priority:<id> | status:resolved|closed|open|pending | delete */
  do: z.string({ error: 'Choose an action' }).regex(/^(claim|assign:(agent|team):\d{1,10}|transfer:\d{1,10}|priority:\d{1,10}|status:(resolved|closed|open|pending)|delete)$/, 'Choose an action'),
  /** delete: also ban each requester's address (ticket-delete.ts). */
  ban: checkbox.default(false),
});
export type BulkActionInput = z.input<typeof BulkActionInput>;

export interface BulkResult {
  changed: number;
  skipped: { ticketId: number; number: string | null; reason: string }[];
}

/**
 * Runs one action on each ticket. @throws Forbidden (not an agent), ValidationFailed (no tickets, no action)
 */
export async function bulkTicketAction(ctx: ServiceContext, raw: BulkActionInput): Promise<BulkResult> {
  requireAgent(ctx.actor, 'Only agents act on tickets in bulk.');
  const input = parseInput(BulkActionInput, raw);
  const [verb, ...rest] = input.do.split(':');
  const arg = rest.join(':');
  const run = (ticketId: number) => {
    switch (verb) {
      case 'claim': return claimTicket(ctx, { ticketId });
      case 'assign': return assignTicket(ctx, { ticketId, assignee: arg });
      case 'transfer': return transferTicket(ctx, { ticketId, departmentId: Number(arg) });
      case 'priority': return changeTicketPriority(ctx, { ticketId, priorityId: Number(arg) });
      case 'delete': return deleteTicket(ctx, { ticketId, ban: input.ban }).then(() => ({ changed: true }));
      default: return changeTicketStatus(ctx, { ticketId, status: arg as 'resolved' | 'closed' | 'open' | 'pending' });
    }
  };
  const result: BulkResult = { changed: 0, skipped: [] };
  const numbers = new Map<number, string>((await ctx.db('tickets').whereIn('id', [...new Set(input.ids)]).select('id', 'number')).map((r: any) => [Number(r.id), String(r.number)]));
  for (const ticketId of [...new Set(input.ids)]) {
    try {
      const r = await run(ticketId);
      if (r.changed === false) result.skipped.push({ ticketId, number: numbers.get(ticketId) ?? null, reason: 'nothing to change' });
      else result.changed += 1;
    } catch (err) {
      result.skipped.push(skipped(err, ticketId, numbers));
    }
  }
  return result;
}

/** Why a ticket was skipped: a field's message, the error's, or "not found" (the number hidden: it may be a ticket the agent may not see). */
function skipped(err: unknown, ticketId: number, numbers: Map<number, string>): BulkResult['skipped'][number] {
  if (!(err instanceof DomainError)) throw err;
  const reason = err instanceof ValidationFailed ? Object.values(err.fields)[0] ?? err.message : err.status === 404 ? 'not found' : err.message;
  return { ticketId, number: err.status === 404 ? null : numbers.get(ticketId) ?? null, reason };
}

/**
 * The confirmation step of a bulk delete (it works without JavaScript): what deleting each ticked
 * ticket would remove (getTicketDeletion), and the tickets that would be skipped, with the reason.
 * @throws Forbidden (not an agent; an agent whose roles allow no deleting anywhere), ValidationFailed (no tickets)
 */
export async function getBulkDeletion(ctx: ServiceContext, raw: { ids?: unknown }): Promise<{ deletable: TicketDeletion[]; skipped: BulkResult['skipped'] }> {
  requireAgent(ctx.actor, 'Only agents act on tickets in bulk.');
  const { ids } = parseInput(BulkActionInput.pick({ ids: true }), raw);
  if (!(await mayAnywhere(ctx.db, ctx.actor, 'ticket.delete'))) throw new Forbidden('Your role does not allow you to delete tickets; an administrator can change it.', 'PERMISSION_DENIED');
  const unique = [...new Set(ids)];
  const numbers = new Map<number, string>((await ctx.db('tickets').whereIn('id', unique).select('id', 'number')).map((r: any) => [Number(r.id), String(r.number)]));
  const out: { deletable: TicketDeletion[]; skipped: BulkResult['skipped'] } = { deletable: [], skipped: [] };
  for (const ticketId of unique) {
    try {
      out.deletable.push(await getTicketDeletion(ctx, ticketId));
    } catch (err) {
      out.skipped.push(skipped(err, ticketId, numbers));
    }
  }
  return out;
}
