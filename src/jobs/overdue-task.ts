/**
 * Background task: the overdue sweep, every `overdue_interval_seconds` (settings, default 60).
 * Every process may run it; markOverdueTickets claims each ticket atomically.
 */
import type { BackgroundTask } from './background.ts';
import { SYSTEM } from '../domain/actor.ts';
import { getSettings } from '../domain/settings/settings-service.ts';
import { markOverdueTickets } from '../domain/sla/overdue-service.ts';

export const overdueTask: BackgroundTask = {
  name: 'mark-overdue-tickets',
  intervalMs: async (d) => (await getSettings(d.db)).overdue_interval_seconds * 1000,
  async run(d) {
    const res = await markOverdueTickets({ db: d.db, actor: SYSTEM, clock: d.clock, publicUrl: d.config.publicUrl });
    if (res.marked) d.logger.info({ task: 'mark-overdue-tickets', marked: res.marked }, 'tickets marked overdue');
    for (const f of res.failed) d.logger.error({ err: f.error, task: 'mark-overdue-tickets', ticketId: f.ticketId }, 'could not mark ticket overdue; retrying next run');
  },
};
