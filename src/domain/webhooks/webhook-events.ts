/**
 * The events a webhook may subscribe to: every ticket event (ticket-events.ts), each with a label and
 * a group for the admin form, and `deleted`. The map is keyed by WebhookEventName, so a new ticket
 * event does not compile until it is given a label here (and so becomes subscribable).
 */
import type { TicketEventName } from '../tickets/ticket-events.ts';

/**
 * What a webhook may subscribe to: every ticket event, and `deleted` — the ticket itself deleted
 * (ticket-delete.ts), which no ticket_events row records: the ticket's history goes with it.
 */
export type WebhookEventName = TicketEventName | 'deleted';

export const EVENT_GROUPS = ['Tickets', 'Thread', 'Assignment', 'Status', 'Priority, SLA and due date', 'CCs and requester', 'Tasks'] as const;
export type EventGroup = (typeof EVENT_GROUPS)[number];

export const WEBHOOK_EVENTS: Record<WebhookEventName, { label: string; group: EventGroup }> = {
  created: { label: 'Ticket created', group: 'Tickets' },
  edited: { label: 'Subject or properties edited', group: 'Tickets' },
  fields_changed: { label: 'Custom fields changed', group: 'Tickets' },
  merged: { label: 'Merged', group: 'Tickets' },
  filter_applied: { label: 'Ticket filter applied', group: 'Tickets' },
  merge_target_deleted: { label: 'The ticket it was merged into was deleted', group: 'Tickets' },
  deleted: { label: 'Ticket deleted', group: 'Tickets' },
  message: { label: 'Message from the requester', group: 'Thread' },
  response: { label: 'Agent response', group: 'Thread' },
  note: { label: 'Internal note', group: 'Thread' },
  entry_edited: { label: 'Message, reply or note edited (the event names the entry, not its text)', group: 'Thread' },
  assigned: { label: 'Assigned to an agent', group: 'Assignment' },
  team_assigned: { label: 'Assigned to a team', group: 'Assignment' },
  unassigned: { label: 'Unassigned', group: 'Assignment' },
  claimed: { label: 'Claimed', group: 'Assignment' },
  released: { label: 'Released', group: 'Assignment' },
  transferred: { label: 'Transferred to another department', group: 'Assignment' },
  status_changed: { label: 'Waiting on the requester, or open again after waiting', group: 'Status' },
  resolved: { label: 'Resolved', group: 'Status' },
  closed: { label: 'Closed', group: 'Status' },
  reopened: { label: 'Reopened', group: 'Status' },
  close_requested: { label: 'The requester asked to close (tasks still open)', group: 'Status' },
  priority_changed: { label: 'Priority changed', group: 'Priority, SLA and due date' },
  sla_changed: { label: 'SLA plan changed', group: 'Priority, SLA and due date' },
  due_changed: { label: 'Due date changed', group: 'Priority, SLA and due date' },
  overdue: { label: 'Became overdue', group: 'Priority, SLA and due date' },
  overdue_cleared: { label: 'No longer overdue', group: 'Priority, SLA and due date' },
  cc_added: { label: 'CC added', group: 'CCs and requester' },
  cc_removed: { label: 'CC removed', group: 'CCs and requester' },
  requester_changed: { label: 'Requester changed', group: 'CCs and requester' },
  task_added: { label: 'Task added', group: 'Tasks' },
  task_done: { label: 'Task done', group: 'Tasks' },
  task_reopened: { label: 'Task reopened', group: 'Tasks' },
  task_removed: { label: 'Task removed', group: 'Tasks' },
};

/** Every subscribable event name, grouped in form order. */
export const WEBHOOK_EVENT_NAMES = EVENT_GROUPS.flatMap((g) => (Object.keys(WEBHOOK_EVENTS) as WebhookEventName[]).filter((e) => WEBHOOK_EVENTS[e].group === g));

/** The event of a test delivery ("Send test ping"); never subscribed to, sent on demand. */
export const PING_EVENT = 'ping';

/** Whether `v` is an event a webhook may subscribe to. */
export function isWebhookEvent(v: unknown): v is WebhookEventName {
  return typeof v === 'string' && Object.hasOwn(WEBHOOK_EVENTS, v);
}

/** The label of an event name ('ping' included; an unknown name as it is). */
export function eventLabel(event: string): string {
  if (event === PING_EVENT) return 'Test ping';
  return isWebhookEvent(event) ? WEBHOOK_EVENTS[event].label : event;
}
