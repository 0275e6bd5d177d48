/**
 * Background task: indexes the words of tickets opened or retitled since the last run (see
 * src/domain/tickets/ticket-search-index.ts), every 2 seconds, up to 20,000 tickets a run (after an
 * upgrade every existing ticket is waiting; they are indexed over the following runs). Every process
 * may run it: the batches claim their tickets (SKIP LOCKED on MySQL).
 */
import type { BackgroundTask } from './background.ts';
import { indexAllPending } from '../domain/tickets/ticket-search-index.ts';

export const searchIndexTask: BackgroundTask = {
  name: 'index-ticket-words',
  intervalMs: () => 2000,
  async run(d) {
    const indexed = await indexAllPending(d.db, 20_000);
    if (indexed >= 1000) d.logger.info({ task: 'index-ticket-words', indexed }, 'tickets indexed for search');
  },
};
