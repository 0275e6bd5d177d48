import type { Knex } from 'knex';

// The mail log (src/domain/mail/mail-log-service.ts) lists the outbox newest first, filtered by
// status: a desk of 1M tickets holds a few messages a ticket. `outbox (status, next_attempt_at)`
// (the delivery worker's) gives a status's messages in due order, so "failed, newest first" read
// the table backwards testing each row until it had a page: the failed ones are few and old. This
// index holds each status's messages in id order; the page and its bounded total are its entries.
const NAME = 'outbox_status_id';
const COLUMNS = ['status', 'id'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => t.index(COLUMNS, NAME));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => t.dropIndex(COLUMNS, NAME));
}
