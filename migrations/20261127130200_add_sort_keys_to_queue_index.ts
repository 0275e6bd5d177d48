import type { Knex } from 'knex';

// Found by sorting the Open queue at 1M tickets (200,000 open; docs/benchmarks.md): by priority or
// requester the page's ids came from an index without the priority or the requester, so MariaDB read
// every open ticket's row to find them (4–5 s with the data ten times the buffer pool). With both at
// the end of the queue's covering index, a sort on any column reads index entries only (the priority's
// urgency and the requester's name are then looked up per entry). It replaces the same index without
// them, its prefix.
const ADDED: [string, string[]] = ['tickets_queue_scope_sort', ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'number', 'subject', 'priority_id', 'user_id']];
const REPLACED: [string, string[]] = ['tickets_queue_scope_subject', ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'number', 'subject']];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(ADDED[1], ADDED[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(REPLACED[1], REPLACED[0]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(REPLACED[1], REPLACED[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(ADDED[1], ADDED[0]));
}
