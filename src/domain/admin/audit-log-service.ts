/** Admin: reading the audit log (newest first, filterable by entity). */
import { dbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings } from '../settings/settings-service.ts';
import { assertAdmin, paginate, type Page } from './admin-support.ts';

export interface AuditLogEntry {
  id: number;
  at: Date;
  actorKind: string;
  agentId: number | null;
  agentName: string | null;
  action: string;
  entity: string | null;
  entityId: number | null;
  before: unknown;
  after: unknown;
  ip: string | null;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One page of the audit log, newest first; `entity` narrows it to one kind of record. @throws Forbidden */
export async function listAuditLog(ctx: ServiceContext, opts: { entity?: string; entityId?: number; page?: unknown }): Promise<Page<AuditLogEntry> & { entities: string[] }> {
  assertAdmin(ctx);
  const settings = await getSettings(ctx.db);
  const q = ctx.db('audit_log as l').leftJoin('agents as a', 'a.id', 'l.agent_id').select('l.*', 'a.name as agent_name').orderBy('l.id', 'desc');
  if (opts.entity) q.where('l.entity', opts.entity.slice(0, 32));
  if (opts.entityId) q.where('l.entity_id', opts.entityId);
  const page = await paginate(ctx.db, q, opts.page, settings.page_size, (r: any): AuditLogEntry => ({
    id: r.id, at: dbDate(r.created_at)!, actorKind: r.actor_kind, agentId: r.agent_id ?? null, agentName: r.agent_name ?? null,
    action: r.action, entity: r.entity ?? null, entityId: r.entity_id ?? null, before: parseJson(r.before), after: parseJson(r.after), ip: r.ip ?? null,
  }));
  const entities = (await ctx.db('audit_log').distinct('entity').whereNotNull('entity').orderBy('entity').pluck('entity')) as string[];
  return { ...page, entities };
}
