/** The ticket's audit trail: every change, who made it and when. */
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { enqueueWebhookDeliveries } from '../webhooks/webhook-enqueue.ts';

export type TicketEventName =
  | 'created' | 'message' | 'response' | 'note' | 'assigned' | 'unassigned' | 'claimed' | 'released' | 'transferred'
  | 'priority_changed' | 'sla_changed' | 'due_changed' | 'overdue' | 'overdue_cleared' | 'status_changed'
  | 'resolved' | 'closed' | 'reopened' | 'edited' | 'team_assigned' | 'merged'
  | 'cc_added' | 'cc_removed' | 'filter_applied' | 'task_added' | 'task_done' | 'task_reopened' | 'task_removed' | 'fields_changed' | 'requester_changed'
  | 'merge_target_deleted' | 'entry_edited' | 'close_requested';

/** Writes one ticket event in the caller's transaction. */
export async function recordTicketEvent(ctx: ServiceContext, trx: Knex | Knex.Transaction, ticketId: number, event: TicketEventName, data: Record<string, unknown> = {}): Promise<void> {
  await recordTicketEvents(ctx, trx, ticketId, [[event, data]]);
}

/**
 * Writes several events of one change, in this order, in one INSERT in the caller's transaction, and
 * queues the webhook deliveries they call for in the same transaction (none, and no statement, when
 * no active webhook subscribes to them: src/domain/webhooks/webhook-enqueue.ts).
 */
export async function recordTicketEvents(ctx: ServiceContext, trx: Knex | Knex.Transaction, ticketId: number, events: [TicketEventName, Record<string, unknown>?][]): Promise<void> {
  if (!events.length) return;
  const a = ctx.actor;
  const createdAt = toDbDate(ctx.clock());
  await trx('ticket_events').insert(events.map(([event, data = {}]) => ({
    ticket_id: ticketId,
    event,
    actor_kind: a.kind === 'anonymous' ? 'user' : a.kind,
    agent_id: a.kind === 'agent' ? a.id : null,
    user_id: a.kind === 'user' ? a.id : (data.userId as number | undefined) ?? null,
    data: Object.keys(data).length ? JSON.stringify(data) : null,
    created_at: createdAt,
  })));
  await enqueueWebhookDeliveries(ctx, trx, ticketId, events);
}
