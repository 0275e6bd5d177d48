/**
 * Saved views: an agent keeps a queue with its filters, search and order under a name (osTicket's
 * personal queues, Zendesk's views). They are the agent's own: listed beside the queues (read in the
 * queue's summary statement: ticket-queue-queries.ts), opened as the queue they name, deleted by them.
 */
import { z } from 'zod';
import { isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import { requireAgent, type AgentActor } from '../actor.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { parseInput, requiredText } from '../validation.ts';
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

const SaveInput = z.object({ name: requiredText(60, 'Name') });

/**
 * Saves the queue described by `raw` (its parameters, as on the queue page) as a view named `name`;
 * a view of the same name is replaced. Returns the view's id.
 * @throws Forbidden, ValidationFailed (name; more than MAX_SAVED_QUEUES)
 */
export async function saveQueueView(ctx: ServiceContext, raw: Record<string, unknown>): Promise<number> {
  const actor = assertAgent(ctx);
  const { name } = parseInput(SaveInput, raw);
  const params = JSON.stringify(viewParams(raw));
  return inTransaction(ctx, async (trx) => {
    const same = await trx('saved_queues').where({ agent_id: actor.id, name }).first('id');
    if (same) {
      await trx('saved_queues').where({ id: same.id }).update({ params });
      return Number(same.id);
    }
    const n = await trx('saved_queues').where({ agent_id: actor.id }).count({ n: '*' }).first();
    if (Number(n?.n) >= MAX_SAVED_QUEUES) throw new ValidationFailed({ name: `You have ${MAX_SAVED_QUEUES} views already: delete one first` });
    try {
      const [id] = await trx('saved_queues').insert({ agent_id: actor.id, name, params, created_at: toDbDate(ctx.clock()) });
      return Number(id);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ValidationFailed({ name: 'You have a view with this name already' });
      throw err;
    }
  });
}

/** The queue query of one of the agent's views (for a redirect to the queue). @throws Forbidden, NotFound */
export async function openQueueView(ctx: ServiceContext, viewId: number): Promise<string> {
  const actor = assertAgent(ctx);
  const row = await ctx.db('saved_queues').where({ id: viewId, agent_id: actor.id }).first('params');
  if (!row) throw new NotFound('That view does not exist.', 'VIEW_NOT_FOUND');
  let params: Record<string, string> = {};
  try {
    params = viewParams(JSON.parse(String(row.params)));
  } catch {
    // a view that no longer parses opens the plain queue
  }
  return new URLSearchParams(params).toString();
}

/** Deletes one of the agent's views. @throws Forbidden, NotFound */
export async function deleteQueueView(ctx: ServiceContext, viewId: number): Promise<void> {
  const actor = assertAgent(ctx);
  const n = await ctx.db('saved_queues').where({ id: viewId, agent_id: actor.id }).delete();
  if (!n) throw new NotFound('That view does not exist.', 'VIEW_NOT_FOUND');
}
