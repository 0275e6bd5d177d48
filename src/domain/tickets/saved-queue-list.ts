/**
 * The saved views a queue page lists (saved-queues.ts): the agent's own, and the views other agents
 * share (at most MAX_SHARED_QUEUES, by name) with their owners. Read as parts of the queue's summary
 * statement (ticket-queue-queries.ts queueSummary: kind, id, name, n), so listing them costs no
 * statement of its own; the owners' names come from its list of agents (kind 'agent', n: active).
 */
import type { Knex } from 'knex';
import { dbBool } from '../../db/dialect.ts';
import { isAdmin, type Actor } from '../actor.ts';

type Db = Knex | Knex.Transaction;

/** How many views the help desk may share, and the queue page lists (see saveQueueView). */
export const MAX_SHARED_QUEUES = 30;

export interface SavedView {
  id: number;
  name: string;
  isShared: boolean;
  /** Another agent's shared view: who shares it (a disabled agent's views stay until an admin deletes them). */
  owner: { id: number; name: string; isActive: boolean } | null;
  /** Rename, share or unshare, delete: the owner; an admin, a shared view too. */
  canManage: boolean;
}

/** The summary's parts: the agent's views (n: shared) and others' shared views (n: the owner). */
export function savedViewParts(db: Db, actor: Actor): Knex.QueryBuilder[] {
  if (actor.kind !== 'agent') return [];
  const kind = (k: string) => db.raw('? as kind', [k]);
  // The shared views in name order (saved_queues_shared), cut after the list: in a derived table, as
  // a member of a UNION may not have its own ORDER BY.
  const shared = db('saved_queues').where('is_shared', true).whereNot('agent_id', actor.id).orderBy('name').orderBy('id').limit(MAX_SHARED_QUEUES).select('id', 'name', 'agent_id');
  return [
    db('saved_queues').where('agent_id', actor.id).select(kind('view'), 'id', 'name', db.ref('is_shared').as('n')),
    db.from(shared.as('sv')).select(kind('shared'), 'sv.id', 'sv.name', db.ref('sv.agent_id').as('n')),
  ];
}

/** The agent's own views and the others' shared ones, each by name, from the summary's rows (the agents' among them). */
export function savedViewsOf(rows: { kind: string; id: unknown; name: string; n: unknown }[], actor: Actor): { views: SavedView[]; sharedViews: SavedView[] } {
  const byName = (a: SavedView, b: SavedView) => a.name.localeCompare(b.name) || a.id - b.id;
  const owners = new Map(rows.filter((r) => r.kind === 'agent').map((r) => [Number(r.id), { id: Number(r.id), name: String(r.name), isActive: dbBool(r.n) }]));
  const views = rows.filter((r) => r.kind === 'view').map((r) => ({ id: Number(r.id), name: String(r.name), isShared: dbBool(r.n), owner: null, canManage: true }));
  const sharedViews = rows.filter((r) => r.kind === 'shared').map((r) => ({
    id: Number(r.id), name: String(r.name), isShared: true, owner: owners.get(Number(r.n)) ?? null, canManage: isAdmin(actor),
  }));
  return { views: views.sort(byName), sharedViews: sharedViews.sort(byName) };
}
