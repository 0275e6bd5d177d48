/**
 * Collision avoidance (osTicket's ticket lock, "lock on view"): opening a ticket takes or renews a
 * short-lived lock (setting lock_minutes) unless another agent holds a live one; that agent's name
 * is then shown. Locks are advisory: they warn, they never block an action (the version check does).
 */
import type { Knex } from 'knex';
import { dbDate, isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings } from '../settings/settings-service.ts';

export interface TicketLockHolder {
  agentId: number;
  name: string;
  expiresAt: Date;
}

/** The lock row of a ticket as read (the ticket page reads it with the ticket: see `lockColumns`). */
export type TicketLockRow = TicketLockHolder;

/** Columns to select (with `lockJoin`) to read a ticket's lock in the same statement as the ticket `t`. */
export const lockColumns = ['lk.agent_id as lock_agent_id', 'lk.expires_at as lock_expires_at', 'lka.name as lock_agent_name'] as const;

/** Left-joins the lock of ticket `t` and its holder (for `lockColumns`). */
export function lockJoin(q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q.leftJoin('ticket_locks as lk', 'lk.ticket_id', 't.id').leftJoin('agents as lka', 'lka.id', 'lk.agent_id');
}

/** The lock read with `lockColumns`, or null when the ticket has none. */
export function lockFromRow(r: any): TicketLockRow | null {
  return r.lock_agent_id ? { agentId: r.lock_agent_id, name: r.lock_agent_name, expiresAt: dbDate(r.lock_expires_at)! } : null;
}

/**
 * Takes or renews the acting agent's lock; returns the other agent holding it, or null. `current`
 * is the lock as already read with the ticket (read here when not given). One write statement: a
 * conditional UPDATE (mine or expired) or an INSERT; an agent who took the lock in between wins.
 */
export async function touchTicketLock(ctx: ServiceContext, ticketId: number, current?: TicketLockRow | null): Promise<TicketLockHolder | null> {
  if (ctx.actor.kind !== 'agent') return null;
  const me = ctx.actor.id;
  const now = ctx.clock();
  const { lock_minutes } = await getSettings(ctx.db);
  const expires = toDbDate(new Date(now.getTime() + lock_minutes * 60_000));
  const row = current !== undefined ? current : lockFromRow((await lockJoin(ctx.db('tickets as t')).where('t.id', ticketId).first(...lockColumns)) ?? {});
  if (row && row.agentId !== me && row.expiresAt > now) return { agentId: row.agentId, name: row.name, expiresAt: row.expiresAt };
  if (row) {
    // Only if it is still mine or expired: another agent may have taken it since it was read.
    await ctx.db('ticket_locks').where({ ticket_id: ticketId }).andWhere((w) => w.where('agent_id', me).orWhere('expires_at', '<=', toDbDate(now))).update({ agent_id: me, expires_at: expires });
    return null;
  }
  try {
    await ctx.db('ticket_locks').insert({ ticket_id: ticketId, agent_id: me, expires_at: expires });
  } catch (err) {
    // Two agents opened the ticket at the same instant: the other one got the lock.
    if (!isUniqueViolation(err)) throw err;
  }
  return null;
}

/** Drops the acting agent's lock (after they moved the ticket away). */
export async function releaseTicketLock(ctx: ServiceContext, ticketId: number): Promise<void> {
  if (ctx.actor.kind !== 'agent') return;
  await ctx.db('ticket_locks').where({ ticket_id: ticketId, agent_id: ctx.actor.id }).delete();
}
