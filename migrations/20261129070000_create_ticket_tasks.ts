import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Tasks (osTicket's ticket tasks): the internal to-dos of a ticket — "order a replacement part",
// "call the branch back" — each with an optional agent and due date, done or not. A ticket with open
// tasks cannot be resolved or closed (src/domain/tickets/ticket-tasks.ts). Agents only: the
// requester never sees them.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'ticket_tasks', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.string('title', 255).notNullable();
    t.integer('assignee_agent_id').unsigned().references('id').inTable('agents');
    t.datetime('due_at', { precision: 3 });
    t.boolean('is_done').notNullable().defaultTo(false);
    t.datetime('done_at', { precision: 3 });
    t.integer('created_by_agent_id').unsigned().references('id').inTable('agents');
    timestamps(t);
    t.index(['ticket_id', 'is_done']);
    t.index(['assignee_agent_id', 'is_done']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ticket_tasks');
}
