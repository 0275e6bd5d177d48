import type { Knex } from 'knex';
import { createTable } from './support/table-options.ts';

// Saved views (osTicket's personal queues, Zendesk's views, Zammad's overviews): an agent keeps a
// queue with its filters, search and order under a name, listed beside the queues
// (src/domain/tickets/saved-queues.ts). `params` is the queue's query as JSON.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'saved_queues', (t) => {
    t.increments('id');
    t.integer('agent_id').unsigned().notNullable().references('id').inTable('agents').onDelete('CASCADE');
    t.string('name', 60).notNullable();
    t.text('params').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.unique(['agent_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('saved_queues');
}
