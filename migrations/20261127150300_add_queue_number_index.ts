import type { Knex } from 'knex';

// A queue page in number order walks this index within the queue's state and stops after the page
// (src/domain/tickets/ticket-queue-queries.ts idsIndex), as tickets_queue_subject does for the subject;
// the visibility columns and the queue flags follow, so every queue's and agent's conditions are tested
// in the index. The number is unique, so no id is needed for the order. Without it an agent's queue by
// number was sorted for each page (an agent's Mine queue at 1M tickets: 0.4 s from page 50 on). A
// number never changes and a state change already rewrites the other queue indexes.
const INDEX: [string, string[]] = ['tickets_queue_number', ['state', 'number', 'department_id', 'assignee_agent_id', 'team_id', 'is_answered', 'is_overdue']];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(INDEX[1], INDEX[0]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(INDEX[1], INDEX[0]));
}
