import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Outgoing webhooks (Admin → Webhooks): a ticket event an active webhook subscribes to writes a
// delivery row in the transaction of the change (a transactional outbox, as the mail outbox); a
// background worker claims due rows and POSTs them, signed, to the webhook's URL, with retries
// (src/domain/webhooks/).
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'webhooks', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.string('url', 2000).notNullable(); // http:// or https:// only
    // The HMAC-SHA256 signing key, random ('whsec_…'). Kept as it is (not hashed): signing needs it.
    t.string('secret', 64).notNullable();
    t.text('events').notNullable(); // JSON list of ticket event names it subscribes to
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  await createTable(knex, 'webhook_deliveries', (t) => {
    t.increments('id'); // also the X-Tessera-Delivery header and the payload's id
    t.integer('webhook_id').unsigned().notNullable().references('id').inTable('webhooks').onDelete('CASCADE');
    t.integer('ticket_id').unsigned().references('id').inTable('tickets').onDelete('SET NULL'); // null for a ping
    t.string('event', 32).notNullable(); // a ticket event name, or 'ping'
    t.text('actor').notNullable(); // JSON { kind, id?, name? } of who caused the event
    t.text('data', 'mediumtext'); // JSON of the event's data, as ticket_events.data
    t.datetime('occurred_at', { precision: 3 }).notNullable();
    // The request body as first sent (the ticket as it stood then); retries and redeliveries send it again.
    t.text('payload', 'mediumtext');
    t.string('status', 12).notNullable().defaultTo('queued'); // queued | sending | delivered | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.datetime('next_attempt_at', { precision: 3 }).notNullable();
    t.datetime('locked_at', { precision: 3 });
    t.string('locked_by', 64);
    t.datetime('last_attempt_at', { precision: 3 });
    t.integer('last_status_code'); // HTTP status of the last answer; null when none came (timeout, refused)
    t.string('last_error', 1000);
    t.text('last_response'); // the start of the last answer's body (at most 1,000 characters)
    t.integer('last_duration_ms');
    t.datetime('finished_at', { precision: 3 }); // when delivered, or given up (failed)
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['status', 'next_attempt_at'], 'webhook_deliveries_due'); // the worker's due rows
    t.index(['webhook_id', 'id'], 'webhook_deliveries_log'); // a webhook's log, newest first
    t.index(['webhook_id', 'status', 'id'], 'webhook_deliveries_log_status'); // …filtered by status
    t.index(['status', 'finished_at'], 'webhook_deliveries_finished'); // housekeeping of old rows
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('webhooks');
}
