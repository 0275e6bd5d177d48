import type { Knex } from 'knex';

// Merging (osTicket 1.16+, Zendesk, Zammad): a duplicate ticket's thread moves into another ticket
// and the duplicate is closed, pointing at it (`merged_into_id`), so links, mail and replies that
// name the duplicate lead to the ticket that goes on (src/domain/tickets/ticket-merge.ts). A plain
// nullable column: adding it is instant on MariaDB (no table copy at a million tickets); nothing
// reads tickets by it.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('tickets', 'merged_into_id')) return;
  await knex.schema.alterTable('tickets', (t) => {
    t.integer('merged_into_id').unsigned();
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('tickets', 'merged_into_id'))) return;
  await knex.schema.alterTable('tickets', (t) => {
    t.dropColumn('merged_into_id');
  });
}
