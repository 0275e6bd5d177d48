import type { Knex } from 'knex';
import { hasIndex, isMysqlKnex } from './support/table-options.ts';

// Reports scan a period of tickets by created_at or closed_at. For an agent limited to a few
// departments on a large desk, (department_id, created_at|closed_at) turns the scan into one
// short range per department instead of the whole period of every department.
const INDEXES = [
  { name: 'tickets_dept_created', columns: ['department_id', 'created_at'] },
  { name: 'tickets_dept_closed', columns: ['department_id', 'closed_at'] },
];

export async function up(knex: Knex): Promise<void> {
  for (const ix of INDEXES) {
    if (await hasIndex(knex, 'tickets', ix.name)) continue;
    await knex.schema.alterTable('tickets', (t) => t.index(ix.columns, ix.name));
  }
}

export async function down(knex: Knex): Promise<void> {
  // NOTE(dialect): InnoDB dropped the implicit index of the department_id foreign key when ours
  // arrived (https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html); give the key a
  // plain index back before ours go, or MySQL refuses to drop them.
  if (isMysqlKnex(knex) && !(await hasIndex(knex, 'tickets', 'tickets_department_id_foreign')))
    await knex.schema.alterTable('tickets', (t) => t.index(['department_id'], 'tickets_department_id_foreign'));
  for (const ix of INDEXES) {
    if (!(await hasIndex(knex, 'tickets', ix.name))) continue;
    await knex.schema.alterTable('tickets', (t) => t.dropIndex(ix.columns, ix.name));
  }
}
