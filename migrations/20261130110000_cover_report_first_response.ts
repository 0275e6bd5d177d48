import type { Knex } from 'knex';
import { hasIndex, isMysqlKnex } from './support/table-options.ts';

// Reports judge the first response of the tickets opened in a period against its target (met, missed;
// src/domain/reports/CONTEXT.md) in the read that counts them, which ranges over tickets_report_created
// (or tickets_report_dept_created for an agent of a few departments) and must stay index-only: a
// column outside the index reads every ticket of the period from the table (seconds at 1M tickets).
// That read now also needs the first-response due date (migration 20261129111000) and closed_at (an
// unanswered ticket is judged at its closing, a merged duplicate at its merge). Same names and leading
// columns; each index is dropped and made again with the two columns after first_response_at.
const INDEXES: [string, string[]][] = [
  ['tickets_report_created', ['created_at', 'department_id', 'first_response_at']],
  ['tickets_report_dept_created', ['department_id', 'created_at', 'first_response_at']],
];
const GROUPINGS = ['assignee_agent_id', 'topic_id', 'source', 'priority_id'];
const ADDED = ['first_response_due_at', 'closed_at'];

/** Whether index `name` of tickets has column `column`. NOTE(dialect): knex has no such question; each catalogue is asked. */
async function indexHasColumn(knex: Knex, name: string, column: string): Promise<boolean> {
  if (isMysqlKnex(knex)) {
    const [rows] = await knex.raw('SHOW INDEX FROM ?? WHERE Key_name = ? AND Column_name = ?', ['tickets', name, column]);
    return (rows as unknown[]).length > 0;
  }
  const rows = (await knex.raw('SELECT name FROM pragma_index_info(?) WHERE name = ?', [name, column])) as unknown[];
  return rows.length > 0;
}

/** Makes index `name` again with `columns` (a re-run after a partial failure finds it done or missing). */
async function remake(knex: Knex, name: string, columns: string[]): Promise<void> {
  // On MySQL the department_id foreign key keeps tickets_report_dept_closed, which starts with it too.
  if (await hasIndex(knex, 'tickets', name)) await knex.schema.alterTable('tickets', (t) => t.dropIndex([], name));
  await knex.schema.alterTable('tickets', (t) => t.index(columns, name));
}

export async function up(knex: Knex): Promise<void> {
  for (const [name, leading] of INDEXES) {
    if (!(await indexHasColumn(knex, name, ADDED[0]))) await remake(knex, name, [...leading, ...ADDED, ...GROUPINGS]);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, leading] of INDEXES) {
    if ((await indexHasColumn(knex, name, ADDED[0])) || !(await hasIndex(knex, 'tickets', name))) await remake(knex, name, [...leading, ...GROUPINGS]);
  }
}
