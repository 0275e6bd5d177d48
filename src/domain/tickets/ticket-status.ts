/**
 * The ticket status machine (pure). Statuses map to a queue-level state: open and pending ("waiting on
 * the requester": the SLA clock stops, sla-pause.ts) are open; resolved and closed are closed.
 */
import { InvalidTransition } from '../errors.ts';

export const STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof STATUSES)[number];
export type TicketState = 'open' | 'closed';

export const SOURCES = ['web', 'email', 'phone', 'api', 'chat', 'walk-in', 'other'] as const;
export type TicketSource = (typeof SOURCES)[number];

export const STATUS_LABELS: Record<TicketStatus, string> = { open: 'Open', pending: 'Waiting', resolved: 'Resolved', closed: 'Closed' };
/** The same, as the requester reads them on the portal. */
export const REQUESTER_STATUS_LABELS: Record<TicketStatus, string> = { ...STATUS_LABELS, pending: 'Awaiting your reply' };
/** What choosing a status does, in the agents' reply and note forms. */
export const STATUS_ACTIONS: Record<TicketStatus, string> = {
  open: 'Set open', pending: 'Wait for the requester (pauses the SLA)', resolved: 'Set resolved', closed: 'Set closed',
};
export const SOURCE_LABELS: Record<TicketSource, string> = { web: 'Web', email: 'Email', phone: 'Phone', api: 'API', chat: 'Chat', 'walk-in': 'Walk-in', other: 'Other' };

export function stateOf(status: TicketStatus): TicketState {
  return status === 'open' || status === 'pending' ? 'open' : 'closed';
}

/** Checks a status change; the same status is not a change. @throws InvalidTransition */
export function assertTransition(from: TicketStatus, to: TicketStatus): void {
  if (from === to) throw new InvalidTransition(`The ticket is already ${STATUS_LABELS[to].toLowerCase()}.`, 'SAME_STATUS');
  if (!STATUSES.includes(to)) throw new InvalidTransition('Unknown status.', 'UNKNOWN_STATUS');
  if (to === 'pending' && stateOf(from) !== 'open') throw new InvalidTransition('Only an open ticket can wait for the requester: reopen it first.', 'NOT_OPEN');
}

/** The event name recorded for a status change. */
export function statusEvent(from: TicketStatus, to: TicketStatus): 'reopened' | 'resolved' | 'closed' | 'status_changed' {
  if (to === 'resolved' || to === 'closed') return to;
  return stateOf(from) === 'open' ? 'status_changed' : 'reopened';
}
