/**
 * Collision avoidance (osTicket's ticket lock, "lock on view"): opening a ticket takes or renews a
 * short-lived lock (setting lock_minutes) unless another agent holds a live one; that agent's name
 * is then shown. Locks are advisory: they warn, they never block an action (the version check does).
 */
import { dbDate, isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { inTransaction } from '../context.ts';
import { getSettings } from '../settings/settings-service.ts';

export interface TicketLockHolder {
  agentId: number;
  name: string;
  expiresAt: Date;
}

/** Takes or renews the acting agent's lock; returns the other agent holding it, or null. */
export async function touchTicketLock(ctx: ServiceContext, ticketId: number): Promise<TicketLockHolder | null> {
  if (ctx.actor.kind !== 'agent') return null;
  const me = ctx.actor.id;
  const now = ctx.clock();
  const { lock_minutes } = await getSettings(ctx.db);
  const expires = toDbDate(new Date(now.getTime() + lock_minutes * 60_000));
  try {
    return await inTransaction(ctx, async (trx) => {
      const row = await trx('ticket_locks as l').join('agents as a', 'a.id', 'l.agent_id').where('l.ticket_id', ticketId).forUpdate().first('l.agent_id', 'l.expires_at', 'a.name');
      const until = row ? dbDate(row.expires_at)! : null;
      if (row && row.agent_id !== me && until! > now) return { agentId: row.agent_id, name: row.name, expiresAt: until! };
      if (row) await trx('ticket_locks').where({ ticket_id: ticketId }).update({ agent_id: me, expires_at: expires });
      else await trx('ticket_locks').insert({ ticket_id: ticketId, agent_id: me, expires_at: expires });
      return null;
    });
  } catch (err) {
    // Two agents opened the ticket at the same instant: the other one got the lock.
    if (!isUniqueViolation(err)) throw err;
    return null;
  }
}

/** Drops the acting agent's lock (after they moved the ticket away). */
export async function releaseTicketLock(ctx: ServiceContext, ticketId: number): Promise<void> {
  if (ctx.actor.kind !== 'agent') return;
  await ctx.db('ticket_locks').where({ ticket_id: ticketId, agent_id: ctx.actor.id }).delete();
}
