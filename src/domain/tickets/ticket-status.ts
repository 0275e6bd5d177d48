/** The ticket status machine (pure). Statuses map to a queue-level state. */
import { InvalidTransition } from '../errors.ts';

export const STATUSES = ['open', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof STATUSES)[number];
export type TicketState = 'open' | 'closed';

export const SOURCES = ['web', 'email', 'phone', 'api', 'chat', 'walk-in', 'other'] as const;
export type TicketSource = (typeof SOURCES)[number];

export const STATUS_LABELS: Record<TicketStatus, string> = { open: 'Open', resolved: 'Resolved', closed: 'Closed' };
export const SOURCE_LABELS: Record<TicketSource, string> = { web: 'Web', email: 'Email', phone: 'Phone', api: 'API', chat: 'Chat', 'walk-in': 'Walk-in', other: 'Other' };

export function stateOf(status: TicketStatus): TicketState {
  return status === 'open' ? 'open' : 'closed';
}

/** Checks a status change; the same status is not a change. @throws InvalidTransition */
export function assertTransition(from: TicketStatus, to: TicketStatus): void {
  if (from === to) throw new InvalidTransition(`The ticket is already ${STATUS_LABELS[to].toLowerCase()}.`, 'SAME_STATUS');
  if (!STATUSES.includes(to)) throw new InvalidTransition('Unknown status.', 'UNKNOWN_STATUS');
}

/** The event name recorded for a status change. */
export function statusEvent(from: TicketStatus, to: TicketStatus): 'reopened' | 'resolved' | 'closed' {
  if (to === 'open') return 'reopened';
  return to;
}
