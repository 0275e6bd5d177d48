import type { Knex } from 'knex';
import type { Actor } from './actor.ts';

/** Everything a service function needs: the db (or a transaction), who acts, and the clock. */
export interface ServiceContext {
  db: Knex | Knex.Transaction;
  actor: Actor;
  clock: () => Date;
  /** Base URL for links in mail (config PUBLIC_URL), never a request's Host header. */
  publicUrl: string;
  /** Client IP for audit rows, when the action came over HTTP. */
  ip?: string;
}

/** Runs `fn` in a transaction; nested calls reuse the outer one. */
export async function inTransaction<T>(ctx: ServiceContext, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if ((ctx.db as Knex.Transaction).isTransaction) return fn(ctx.db as Knex.Transaction);
  return (ctx.db as Knex).transaction(fn);
}

/** The same context bound to a transaction. */
export function withDb(ctx: ServiceContext, db: Knex | Knex.Transaction): ServiceContext {
  return { ...ctx, db };
}
