import type { Knex } from 'knex';

// Found by the benchmark at 1M tickets (docs/benchmarks.md): a quick search by subject word
// (`subject LIKE '%word%'`, which no B-tree can seek) walks the queue in update order and read each
// ticket's row to test its subject — 9,310 row reads (20 ms) for a page of 25 when the newest open
// tickets rarely contain the word — and its bounded total read another 2,034 rows through an index
// without the subject (9 ms). With the number and the subject at the end of the queue's index the
// test is made in the index itself, for the page and for the total, for admins and for agents whose
// visibility columns are already there. It replaces (state, updated_at, id, department_id,
// assignee_agent_id, team_id), its prefix.
const ADDED: [string, string[]] = ['tickets_queue_scope_subject', ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'number', 'subject']];
const REPLACED: [string, string[]] = ['tickets_queue_updated_scope', ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id']];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(ADDED[1], ADDED[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(REPLACED[1], REPLACED[0]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(REPLACED[1], REPLACED[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(ADDED[1], ADDED[0]));
}
