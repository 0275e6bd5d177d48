/**
 * Background task: the overdue sweep, every `overdue_interval_seconds` (settings, default 60), and the
 * closing of tickets that waited on the requester too long (setting waiting_auto_close_days).
 * Every process may run it; markOverdueTickets claims each ticket atomically, and each close is version-checked.
 */
import type { BackgroundTask } from './background.ts';
import { SYSTEM } from '../domain/actor.ts';
import { getSettings } from '../domain/settings/settings-service.ts';
import { markOverdueTickets } from '../domain/sla/overdue-service.ts';
import { closeUnansweredWaitingTickets } from '../domain/tickets/ticket-waiting.ts';

export const overdueTask: BackgroundTask = {
  name: 'mark-overdue-tickets',
  intervalMs: async (d) => (await getSettings(d.db)).overdue_interval_seconds * 1000,
  async run(d) {
    const ctx = { db: d.db, actor: SYSTEM, clock: d.clock, publicUrl: d.config.publicUrl };
    const res = await markOverdueTickets(ctx);
    if (res.marked) d.logger.info({ task: 'mark-overdue-tickets', marked: res.marked }, 'tickets marked overdue');
    for (const f of res.failed) d.logger.error({ err: f.error, task: 'mark-overdue-tickets', ticketId: f.ticketId }, 'could not mark ticket overdue; retrying next run');
    const waiting = await closeUnansweredWaitingTickets(ctx);
    if (waiting.closed) d.logger.info({ task: 'mark-overdue-tickets', closed: waiting.closed }, 'tickets closed after waiting on the requester');
    for (const f of waiting.failed) d.logger.error({ err: f.error, task: 'mark-overdue-tickets', ticketId: f.ticketId }, 'could not close a waiting ticket; retrying next run');
  },
};
