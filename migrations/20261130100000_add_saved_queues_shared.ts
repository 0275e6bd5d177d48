import type { Knex } from 'knex';

// Shared views (osTicket's shared queues, Zendesk's shared views): an agent may share one of their
// saved views with every agent (src/domain/tickets/saved-queues.ts). The queue page lists the shared
// views by name with its summary statement: saved_queues_shared holds them in that order.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('saved_queues', 'is_shared')) return;
  await knex.schema.alterTable('saved_queues', (t) => {
    t.boolean('is_shared').notNullable().defaultTo(false);
    t.index(['is_shared', 'name'], 'saved_queues_shared');
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('saved_queues', 'is_shared'))) return;
  await knex.schema.alterTable('saved_queues', (t) => {
    t.dropIndex(['is_shared', 'name'], 'saved_queues_shared');
    t.dropColumn('is_shared');
  });
}
