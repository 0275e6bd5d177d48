import type { Knex } from 'knex';

// The dashboard lists the agent's most urgent open tickets (src/domain/reports/dashboard-service.ts):
// it orders all of the agent's open tickets by overdue, due date and priority. It read each of them
// from the table for those columns: 0.5 s at 1M tickets for an agent with 6,000 open tickets (the
// bench's 200,000 open, 60 % assigned over 20 agents). tickets_assignee_flags, which the queue counts
// name, now also holds due_at and priority_id, so that order is taken from index entries. Same name.
const NAME = 'tickets_assignee_flags';
const NARROW = ['assignee_agent_id', 'state', 'is_overdue', 'is_answered', 'department_id'];
const WIDE = [...NARROW, 'due_at', 'priority_id'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(NARROW, NAME));
  await knex.schema.alterTable('tickets', (t) => t.index(WIDE, NAME));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(WIDE, NAME));
  await knex.schema.alterTable('tickets', (t) => t.index(NARROW, NAME));
}
