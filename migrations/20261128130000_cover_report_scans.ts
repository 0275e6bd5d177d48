import type { Knex } from 'knex';

// Reports read a period's tickets by created_at or closed_at (src/domain/reports/report-queries.ts).
// The four indexes they ranged over held the timestamp (and the department) only, so each of the
// period's tickets was then read from the table for the columns the figures need: at 1M tickets a
// 30-day report read ~80,000 rows per statement, mostly outside MariaDB's buffer pool. These
// replace them, same leading columns, with every column the report statements use after the range:
// the department (scope and default grouping), the first response or the closing facts, and the other
// groupings (agent, help topic, source, priority). The report is then read from the indexes alone.
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
// group from the overdue count's index, which now holds every grouping column too. Same name: the
// queue counts name it (src/domain/tickets/ticket-queue-queries.ts).
const OPEN_NOW = { name: 'tickets_dept_overdue', old: ['state', 'department_id', 'is_overdue'], wide: ['state', 'department_id', 'is_overdue', 'assignee_agent_id', 'topic_id', 'source', 'priority_id'] };

// Each new index is made before the old one goes: on MySQL the department_id foreign key always has
// an index that starts with its column.
export async function up(knex: Knex): Promise<void> {
  for (const { old, wide } of WIDENED) {
    if (!(await hasIndex(knex, wide[0]))) await knex.schema.alterTable('tickets', (t) => t.index(wide[1], wide[0]));
    if (await hasIndex(knex, old[0])) await knex.schema.alterTable('tickets', (t) => t.dropIndex(old[1], old[0]));
  }
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(OPEN_NOW.old, OPEN_NOW.name));
  await knex.schema.alterTable('tickets', (t) => t.index(OPEN_NOW.wide, OPEN_NOW.name));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(OPEN_NOW.wide, OPEN_NOW.name));
  await knex.schema.alterTable('tickets', (t) => t.index(OPEN_NOW.old, OPEN_NOW.name));
  for (const { old, wide } of [...WIDENED].reverse()) {
    if (!(await hasIndex(knex, old[0]))) await knex.schema.alterTable('tickets', (t) => t.index(old[1], old[0]));
    if (await hasIndex(knex, wide[0])) await knex.schema.alterTable('tickets', (t) => t.dropIndex(wide[1], wide[0]));
  }
}

// NOTE(dialect): knex has no hasIndex; ask each catalogue (frozen here, no app imports).
async function hasIndex(knex: Knex, name: string): Promise<boolean> {
  if (/mysql/.test(String(knex.client.config.client))) {
    const [rows] = await knex.raw('SHOW INDEX FROM tickets WHERE Key_name = ?', [name]);
    return (rows as unknown[]).length > 0;
  }
  const rows = await knex.raw(`SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?`, [name]);
  return (rows as unknown[]).length > 0;
}
