/** The admin and security audit log: who did what, when, with before/after. */
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';

export interface AuditEntry {
  action: string;
  entity?: string;
  entityId?: number;
  before?: unknown;
  after?: unknown;
}

/** Writes one audit row in the caller's transaction (pass the trx as db). */
export async function recordAudit(ctx: ServiceContext, db: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  const a = ctx.actor;
  await db('audit_log').insert({
    actor_kind: a.kind === 'anonymous' ? 'user' : a.kind,
    agent_id: a.kind === 'agent' ? a.id : null,
    action: entry.action,
    entity: entry.entity ?? null,
    entity_id: entry.entityId ?? null,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
    ip: ctx.ip ?? null,
    created_at: toDbDate(ctx.clock()),
  });
}
