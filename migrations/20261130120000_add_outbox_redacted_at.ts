import type { Knex } from 'knex';

// When a ticket is deleted, the mail that was about it keeps its row in the mail log (recipient, times,
// status: the delivery trail) but loses its text: subject beyond the ticket number, text and HTML
// bodies (src/domain/tickets/ticket-delete.ts). `redacted_at` says when; such a message is never sent
// (again): the mail log refuses "Send again" and a stuck one is discarded, not queued.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('outbox', 'redacted_at')) return;
  await knex.schema.alterTable('outbox', (t) => {
    t.datetime('redacted_at', { precision: 3 });
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('outbox', 'redacted_at'))) return;
  await knex.schema.alterTable('outbox', (t) => {
    t.dropColumn('redacted_at');
  });
}
