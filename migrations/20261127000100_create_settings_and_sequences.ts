import type { Knex } from 'knex';
import { createTable } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  // Key/value settings edited in the admin area; code holds the defaults, rows hold overrides.
  await createTable(knex, 'settings', (t) => {
    t.string('key', 100).primary();
    t.text('value').notNullable(); // JSON text, parsed with zod by the settings service
    t.datetime('updated_at', { precision: 3 }).notNullable();
  });
  // Named counters incremented inside transactions (sequential ticket numbers).
  await createTable(knex, 'sequences', (t) => {
    t.string('name', 64).primary();
    t.bigInteger('value').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sequences');
  await knex.schema.dropTableIfExists('settings');
}
