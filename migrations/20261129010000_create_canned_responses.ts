import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Canned responses: reply texts an admin keeps for the questions agents answer every day (osTicket's
// "Canned Responses"). One for every department (department_id NULL) or for one department's tickets.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'canned_responses', (t) => {
    t.increments('id');
    t.string('title', 120).notNullable().unique();
    t.text('body').notNullable();
    t.integer('department_id').unsigned().references('id').inTable('departments');
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
    t.index(['department_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('canned_responses');
}
