import type { Knex } from 'knex';

// The requester's name, copied onto the ticket when it is opened, so a queue in requester order walks
// an index (state, requester_name, id, then the visibility columns and the queue flags) and stops after
// the page, as subject and number order do (src/domain/tickets/ticket-queue-queries.ts idsIndex).
// Ordered by a lookup of each ticket's user, the Closed queue at 1M tickets sorted 800,000 entries with
// one name lookup each: ~2 s a page for an admin, 0.5–0.7 s for an agent (docs/benchmarks.md).
// Kept true by the one place a ticket row is written with its user (ticket-service openTicket); a user's
// name and a ticket's user never change after that (TEAM-CONTRACTS.md says what must follow if they do).
const INDEX: [string, string[]] = ['tickets_queue_requester', ['state', 'requester_name', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'is_answered', 'is_overdue']];
const BATCH = 20_000;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.string('requester_name', 120).notNullable().defaultTo(''));
  // Existing tickets, a range of ids at a time (one statement over 1M rows holds its locks and undo log
  // for the whole copy).
  const { max } = (await knex('tickets').max('id as max').first()) as { max: number | null };
  for (let from = 0; from < (max ?? 0); from += BATCH) {
    await knex('tickets').where('id', '>', from).andWhere('id', '<=', from + BATCH)
      .update({ requester_name: knex('users').select('name').where('users.id', knex.ref('tickets.user_id')) });
  }
  await knex.schema.alterTable('tickets', (t) => t.index(INDEX[1], INDEX[0]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(INDEX[1], INDEX[0]));
  await knex.schema.alterTable('tickets', (t) => t.dropColumn('requester_name'));
}
