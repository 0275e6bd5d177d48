import type { Knex } from 'knex';
import { hasIndex } from './support/table-options.ts';

// Reports read a period's tickets by created_at or closed_at (src/domain/reports/report-queries.ts).
// The four indexes they ranged over held the timestamp (and the department) only, so each of the
// period's tickets was then read from the table for the columns the figures need: at 1M tickets a
// 30-day report read ~80,000 rows per statement, mostly outside MariaDB's buffer pool. These
// replace them, same leading columns, with every column the report statements use after the range:
// the department (scope and default grouping), the first response or the closing facts, and the other
// groupings (agent, help topic, source, priority). The report is then read from the indexes alone.
// One index is new (the open tickets', below).
const WIDENED: { old: [string, string[]]; wide: [string, string[]] }[] = [
  {
    old: ['tickets_created', ['created_at']],
    wide: ['tickets_report_created', ['created_at', 'department_id', 'first_response_at', 'assignee_agent_id', 'topic_id', 'source', 'priority_id']],
  },
  {
    old: ['tickets_closed', ['closed_at']],
    wide: ['tickets_report_closed', ['closed_at', 'state', 'department_id', 'created_at', 'due_at', 'assignee_agent_id', 'topic_id', 'source', 'priority_id']],
  },
  {
    old: ['tickets_dept_created', ['department_id', 'created_at']],
    wide: ['tickets_report_dept_created', ['department_id', 'created_at', 'first_response_at', 'assignee_agent_id', 'topic_id', 'source', 'priority_id']],
  },
  {
    old: ['tickets_dept_closed', ['department_id', 'closed_at']],
    wide: ['tickets_report_dept_closed', ['department_id', 'closed_at', 'state', 'created_at', 'due_at', 'assignee_agent_id', 'topic_id', 'source', 'priority_id']],
  },
];

// The report's open tickets right now (not bound to its period: 200,000 at 1M tickets) are counted per
// group from an index of their own. Not by widening tickets_dept_overdue: the queues read that one's
// (state, department_id, is_overdue) ranges in id order (the primary key after its last column), and
// any column after is_overdue would make them sort.
const OPEN_NOW: [string, string[]] = ['tickets_report_open', ['state', 'department_id', 'is_overdue', 'assignee_agent_id', 'topic_id', 'source', 'priority_id']];

// Each new index is made before the old one goes: on MySQL the department_id foreign key always has
// an index that starts with its column.
export async function up(knex: Knex): Promise<void> {
  for (const { old, wide } of WIDENED) {
    if (!(await hasIndex(knex, 'tickets', wide[0]))) await knex.schema.alterTable('tickets', (t) => t.index(wide[1], wide[0]));
    if (await hasIndex(knex, 'tickets', old[0])) await knex.schema.alterTable('tickets', (t) => t.dropIndex(old[1], old[0]));
  }
  if (!(await hasIndex(knex, 'tickets', OPEN_NOW[0]))) await knex.schema.alterTable('tickets', (t) => t.index(OPEN_NOW[1], OPEN_NOW[0]));
}

export async function down(knex: Knex): Promise<void> {
  if (await hasIndex(knex, 'tickets', OPEN_NOW[0])) await knex.schema.alterTable('tickets', (t) => t.dropIndex(OPEN_NOW[1], OPEN_NOW[0]));
  for (const { old, wide } of [...WIDENED].reverse()) {
    if (!(await hasIndex(knex, 'tickets', old[0]))) await knex.schema.alterTable('tickets', (t) => t.index(old[1], old[0]));
    if (await hasIndex(knex, 'tickets', wide[0])) await knex.schema.alterTable('tickets', (t) => t.dropIndex(wide[1], wide[0]));
  }
}
