import type { Knex } from 'knex';
import { createTable, largeBinary } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  // File contents live in the database so that any number of app processes serve them
  // (no shared disk needed). One row per file; LONGBLOB on MySQL.
  await createTable(knex, 'file_contents', (t) => {
    t.integer('file_id').unsigned().primary().references('id').inTable('files').onDelete('CASCADE');
    largeBinary(knex, t, 'data').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('file_contents');
}
