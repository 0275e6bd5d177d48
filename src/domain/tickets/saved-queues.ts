/**
 * Saved views: an agent keeps a queue with its filters, search and order under a name (osTicket's
 * personal queues, Zendesk's views), listed beside the queues (read in the queue's summary statement:
 * saved-queue-list.ts). A view may be shared with every agent (osTicket's shared queues, Zendesk's
 * shared views): it is then listed for all under "Shared views" with its owner's name, and opens as
 * the queue it names for whoever opens it — their own visibility decides which tickets they see.
 *
 * Who: a personal view is its owner's alone (anyone else: NotFound, as if missing). A shared view is
 * opened by every agent; renamed, shared or unshared, and deleted by its owner or an admin (other
 * agents: Forbidden). Every change to a view that is or was shared is audited (`saved_queue.*`), as
 * it changes what every agent sees. At most MAX_SHARED_QUEUES views are shared at once, so the list
 * stays short. Names are unique per owner. A disabled owner's shared views stay (an admin may delete
 * them); deleting an agent deletes their views (the foreign key's cascade: only an agent without any
 * ticket history can be deleted).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbCount, isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import { isAdmin, requireAgent, type AgentActor } from '../actor.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Forbidden, NotFound, ValidationFailed } from '../errors.ts';
import { checkbox, parseInput, requiredText } from '../validation.ts';
import { MAX_SHARED_QUEUES } from './saved-queue-list.ts';
import { QueueParams } from './ticket-queue-queries.ts';

/** Most views one agent keeps. */
export const MAX_SAVED_QUEUES = 20;

const assertAgent = (ctx: ServiceContext): AgentActor => requireAgent(ctx.actor, 'Only agents keep views.');

/** The query a view keeps: the queue's parameters as given, without the page. */
function viewParams(raw: Record<string, unknown>): Record<string, string> {
  const p = QueueParams.parse(raw);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (k !== 'page' && v !== undefined && v !== null && v !== '') out[k] = String(v);
  return out;
}

const SaveInput = z.object({ name: requiredText(60, 'Name'), shared: checkbox });

type ViewRow = { id: number; agent_id: number; name: string; params: string; is_shared: unknown; owner_name: string };

/** A view with its owner's name, as `actor` may reach it: their own or a shared one. @throws NotFound */
async function reachableView(db: Knex | Knex.Transaction, actor: AgentActor, viewId: number): Promise<ViewRow> {
  const row = await db('saved_queues as sq').join('agents as a', 'a.id', 'sq.agent_id').where('sq.id', viewId).first('sq.id', 'sq.agent_id', 'sq.name', 'sq.params', 'sq.is_shared', 'a.name as owner_name');
  if (!row || (row.agent_id !== actor.id && !dbBool(row.is_shared))) throw new NotFound('That view does not exist.', 'VIEW_NOT_FOUND');
  return row;
}

/** Changing a view: its owner, or an admin (a shared view: the only others who reach it). @throws Forbidden */
function assertMayManage(actor: AgentActor, row: ViewRow): void {
  if (row.agent_id !== actor.id && !isAdmin(actor)) throw new Forbidden('Only its owner or an admin may change a shared view.', 'VIEW_NOT_YOURS');
}

/** Sharing one more view: refused past MAX_SHARED_QUEUES. @throws ValidationFailed */
async function assertShareRoom(trx: Knex.Transaction): Promise<void> {
  const n = await trx('saved_queues').where('is_shared', true).count({ n: '*' }).first();
  if (dbCount(n?.n) >= MAX_SHARED_QUEUES) throw new ValidationFailed({ shared: `The help desk shares ${MAX_SHARED_QUEUES} views already: unshare one first` });
}

/** What the audit keeps of a view. */
const snapshot = (row: { name: string; params: string; is_shared: unknown; agent_id: number }) => ({ name: row.name, ownerId: row.agent_id, shared: dbBool(row.is_shared), params: JSON.parse(row.params) as unknown });

/** The audit row of a change to a view that is or was shared (private views are their owner's business). */
async function auditShared(ctx: ServiceContext, trx: Knex.Transaction, action: string, viewId: number, before?: ReturnType<typeof snapshot>, after?: ReturnType<typeof snapshot>): Promise<void> {
  if (!before?.shared && !after?.shared) return;
  await recordAudit(ctx, trx, { action: `saved_queue.${action}`, entity: 'saved_queue', entityId: viewId, before, after });
}

/**
 * Saves the queue described by `raw` (its parameters, as on the queue page) as the agent's view named
 * `name`, shared with every agent when `shared` is ticked; their view of the same name is replaced.
 * Returns the view's id. @throws Forbidden, ValidationFailed (name; more than MAX_SAVED_QUEUES; shared: the cap)
 */
export async function saveQueueView(ctx: ServiceContext, raw: Record<string, unknown>): Promise<number> {
  const actor = assertAgent(ctx);
  const { name, shared } = parseInput(SaveInput, raw);
  const params = JSON.stringify(viewParams(raw));
  return inTransaction(ctx, async (trx) => {
    const same = await trx('saved_queues').where({ agent_id: actor.id, name }).first('id', 'agent_id', 'name', 'params', 'is_shared');
    if (shared && !dbBool(same?.is_shared)) await assertShareRoom(trx);
    const after = { name, params, is_shared: shared, agent_id: actor.id };
    if (same) {
      await trx('saved_queues').where({ id: same.id }).update({ params, is_shared: shared });
      await auditShared(ctx, trx, 'update', same.id, snapshot(same), snapshot(after));
      return Number(same.id);
    }
    const n = await trx('saved_queues').where({ agent_id: actor.id }).count({ n: '*' }).first();
    if (dbCount(n?.n) >= MAX_SAVED_QUEUES) throw new ValidationFailed({ name: `You have ${MAX_SAVED_QUEUES} views already: delete one first` });
    try {
      const [id] = await trx('saved_queues').insert({ agent_id: actor.id, name, params, is_shared: shared, created_at: toDbDate(ctx.clock()) });
      await auditShared(ctx, trx, 'create', Number(id), undefined, snapshot(after));
      return Number(id);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ValidationFailed({ name: 'You have a view with this name already' });
      throw err;
    }
  });
}

/** The queue query of one of the agent's views or of a shared view (for a redirect to the queue). @throws Forbidden, NotFound */
export async function openQueueView(ctx: ServiceContext, viewId: number): Promise<string> {
  const row = await reachableView(ctx.db, assertAgent(ctx), viewId);
  let params: Record<string, string> = {};
  try {
    params = viewParams(JSON.parse(String(row.params)));
  } catch {
    // a view that no longer parses opens the plain queue
  }
  return new URLSearchParams(params).toString();
}

export interface QueueViewSummary { id: number; name: string; isShared: boolean; ownerName: string; isMine: boolean }

/** A view its owner or an admin may change (the delete confirmation page). @throws Forbidden, NotFound */
export async function getQueueViewForChange(ctx: ServiceContext, viewId: number): Promise<QueueViewSummary> {
  const actor = assertAgent(ctx);
  const row = await reachableView(ctx.db, actor, viewId);
  assertMayManage(actor, row);
  return { id: Number(row.id), name: row.name, isShared: dbBool(row.is_shared), ownerName: row.owner_name, isMine: row.agent_id === actor.id };
}

const UpdateInput = z.object({ name: requiredText(60, 'Name'), shared: checkbox });

/**
 * Renames a view and shares or unshares it: its owner, or an admin for a shared view (the name stays
 * unique among the owner's views). @throws Forbidden, NotFound, ValidationFailed (name; shared: the cap)
 */
export async function updateQueueView(ctx: ServiceContext, viewId: number, raw: Record<string, unknown>): Promise<void> {
  const actor = assertAgent(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await reachableView(trx, actor, viewId);
    assertMayManage(actor, row);
    const { name, shared } = parseInput(UpdateInput, raw);
    if (shared && !dbBool(row.is_shared)) await assertShareRoom(trx);
    try {
      await trx('saved_queues').where({ id: viewId }).update({ name, is_shared: shared });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ValidationFailed({ name: row.agent_id === actor.id ? 'You have a view with this name already' : `${row.owner_name} has a view with this name already` });
      throw err;
    }
    const action = shared === dbBool(row.is_shared) ? 'update' : shared ? 'share' : 'unshare';
    await auditShared(ctx, trx, action, viewId, snapshot(row), snapshot({ ...row, name, is_shared: shared }));
  });
}

/** Deletes a view, once confirmed (`confirm: 'yes'`): its owner, or an admin for a shared view. @throws Forbidden, NotFound, ValidationFailed (not confirmed) */
export async function deleteQueueView(ctx: ServiceContext, viewId: number, raw: { confirm?: unknown }): Promise<void> {
  const actor = assertAgent(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await reachableView(trx, actor, viewId);
    assertMayManage(actor, row);
    if (raw.confirm !== 'yes') throw new ValidationFailed({ confirm: 'Confirm that the view should be deleted.' });
    await trx('saved_queues').where({ id: viewId }).delete();
    await auditShared(ctx, trx, 'delete', viewId, snapshot(row));
  });
}
