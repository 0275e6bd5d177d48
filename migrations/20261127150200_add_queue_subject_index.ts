import type { Knex } from 'knex';

// A queue page in subject order walks this index in (subject, id) order within the queue's state and
// stops after the page (src/domain/tickets/ticket-queue-queries.ts idsIndex); the visibility columns and
// the queue flags follow, so every queue's and agent's conditions are tested in the index. Without it
// the Closed queue's entries were sorted for each page (800,000 at 1M tickets: 0.36–0.62 s for an
// admin, 0.23–0.30 s for an agent), and an agent's Mine queue ~0.4 s. A subject rarely changes and a
// state change already rewrites the other queue indexes, so a ticket write gains little.
const INDEX: [string, string[]] = ['tickets_queue_subject', ['state', 'subject', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'is_answered', 'is_overdue']];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(INDEX[1], INDEX[0]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(INDEX[1], INDEX[0]));
}
