import type { Knex } from 'knex';

// Found by sorting an agent's Answered and Overdue queues at 1M tickets (docs/benchmarks.md): by
// number, subject or requester MariaDB merged the agent's department and assignment indexes and read
// every matching ticket's row before sorting (0.5–1.2 s a page), because the queue index the agent's
// Open queue is read from (tickets_queue_scope_sort) lacked the two flags. With them at its end, those
// pages read index entries only. It replaces that index, its prefix.
const ADDED: [string, string[]] = ['tickets_queue_scope_sort_flags', ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'number', 'subject', 'priority_id', 'user_id', 'is_answered', 'is_overdue']];
const REPLACED: [string, string[]] = ['tickets_queue_scope_sort', ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'number', 'subject', 'priority_id', 'user_id']];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(ADDED[1], ADDED[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(REPLACED[1], REPLACED[0]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(REPLACED[1], REPLACED[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(ADDED[1], ADDED[0]));
}
