/**
 * Enqueueing: recordTicketEvents calls enqueueWebhookDeliveries in the transaction of the change (and
 * deleteTicket, for `deleted`), so a change that rolls back sends nothing, and a delivery row exists
 * exactly when its change committed.
 *
 * Cost: the active webhooks and their events are kept per process and read again only when the
 * settings' `webhooks_version` changes (every webhook change writes a new one, as the custom fields'
 * `fields_version`). The settings are read with the request anyway (request-memo.ts), so with no
 * webhook ever saved ('' version) or none active, a change costs no statement; with webhooks, one
 * multi-row INSERT per recorded change (and, once per process after an admin's change, the read of
 * the webhooks). Outside a request (mail intake, the overdue sweep) the settings are read once more
 * per change, as those paths already do for their own settings.
 */
import { versionCache } from '../version-cache.ts';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import type { Actor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings } from '../settings/settings-service.ts';
import type { WebhookEventName } from './webhook-events.ts';
import { parseEvents } from './webhook-store.ts';

type Db = Knex | Knex.Transaction;

interface ActiveWebhook {
  id: number;
  events: ReadonlySet<string>;
}

const hooksCache = versionCache<ActiveWebhook[]>(() => []);

/** The active webhooks, read once per `webhooks_version` in each process ('' = none was ever saved: none, without a read). */
export function activeWebhooks(db: Db, version: string): Promise<ActiveWebhook[]> {
  return hooksCache(version, () => db('webhooks').select('id', 'events', 'is_active').orderBy('id')
    .then((rows: any[]) => rows.filter((r) => dbBool(r.is_active)).map((r) => ({ id: Number(r.id), events: new Set<string>(parseEvents(r.events)) }))));
}

/** Who caused an event, as the payload names them (`name` when known). */
export function webhookActor(actor: Actor, data: Record<string, unknown> = {}): { kind: string; id: number | null; name?: string } {
  switch (actor.kind) {
    case 'agent': return { kind: 'agent', id: actor.id, name: actor.name };
    case 'user': return { kind: 'user', id: actor.id, name: actor.name };
    case 'api': return { kind: 'api', id: actor.keyId };
    case 'system': return { kind: 'system', id: null };
    // A visitor of the portal acts as the requester the event names (as ticket_events records it).
    default: return { kind: 'user', id: typeof data.userId === 'number' ? data.userId : null };
  }
}

/**
 * Writes a delivery for every active webhook subscribed to each of `events` (one INSERT for all of
 * them), in the caller's transaction `trx`. Nothing at all when no webhook wants them.
 */
export async function enqueueWebhookDeliveries(ctx: ServiceContext, trx: Db, ticketId: number, events: [WebhookEventName, Record<string, unknown>?][]): Promise<void> {
  const { webhooks_version: version } = await getSettings(trx);
  if (!version) return;
  const hooks = await activeWebhooks(trx, version);
  if (!hooks.length) return;
  const now = toDbDate(ctx.clock());
  const rows = events.flatMap(([event, data = {}]) => hooks.filter((h) => h.events.has(event)).map((h) => ({
    webhook_id: h.id, ticket_id: ticketId, event, actor: JSON.stringify(webhookActor(ctx.actor, data)),
    data: JSON.stringify(data), occurred_at: now, status: 'queued', attempts: 0, next_attempt_at: now, created_at: now,
  })));
  if (rows.length) await trx('webhook_deliveries').insert(rows);
}
