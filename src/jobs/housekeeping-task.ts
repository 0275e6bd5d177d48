/**
 * Background task: deletes expired access tokens, ended rate-limit windows, old ticket locks and old
 * webhook deliveries (purgeExpired) every 10 minutes. Any number of processes may run it: each deletes by key and
 * re-tests the expiry, so two runs at once delete each row once.
 */
import type { BackgroundTask } from './background.ts';
import { SYSTEM } from '../domain/actor.ts';
import { purgeExpired } from '../domain/housekeeping/housekeeping-service.ts';

export const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export const housekeepingTask: BackgroundTask = {
  name: 'purge-expired',
  intervalMs: () => HOUSEKEEPING_INTERVAL_MS,
  async run(d) {
    const res = await purgeExpired({ db: d.db, actor: SYSTEM, clock: d.clock, publicUrl: d.config.publicUrl });
    if (res.accessTokens + res.rateLimits + res.ticketLocks + res.webhookDeliveries > 0) d.logger.info({ task: 'purge-expired', ...res }, 'expired rows deleted');
  },
};
