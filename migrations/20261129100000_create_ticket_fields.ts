import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Custom ticket fields (osTicket's custom forms on help topics): extra questions an admin adds —
// "Asset tag", "Affected system", "Order number" — asked when a ticket is opened for the topics they
// apply to (none listed = every topic), shown and edited by agents (src/domain/fields/).
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'ticket_fields', (t) => {
    t.increments('id');
    t.string('label', 120).notNullable();
    t.string('name', 64).notNullable().unique(); // the key: API field name and form name (cf_<name>)
    t.string('type', 16).notNullable(); // text | textarea | number | choice | checkbox | date
    t.text('options'); // choice: one option per line
    t.boolean('is_required').notNullable().defaultTo(false); // for the people who open tickets (portal, API); agents may leave it empty
    t.string('visibility', 8).notNullable().defaultTo('public'); // public (portal + requester) | agents
    t.string('help', 500);
    t.integer('sort_order').notNullable().defaultTo(0);
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  // The topics a field applies to; none = every topic.
  await createTable(knex, 'ticket_field_topics', (t) => {
    t.integer('field_id').unsigned().notNullable().references('id').inTable('ticket_fields').onDelete('CASCADE');
    t.integer('topic_id').unsigned().notNullable().references('id').inTable('help_topics');
    t.primary(['field_id', 'topic_id']);
    t.index(['topic_id']);
  });
  // The answers: one row per ticket and answered field (an empty answer has no row).
  await createTable(knex, 'ticket_field_values', (t) => {
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('field_id').unsigned().notNullable().references('id').inTable('ticket_fields');
    t.text('value').notNullable(); // as typed, normalised per type (number: canonical text; date: YYYY-MM-DD; checkbox: 1)
    t.primary(['ticket_id', 'field_id']);
    t.index(['field_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ticket_field_values');
  await knex.schema.dropTableIfExists('ticket_field_topics');
  await knex.schema.dropTableIfExists('ticket_fields');
}
