import type { Knex } from 'knex';

// Found by the benchmark (docs/benchmarks.md):
// - outbox(ticket_id, id): threading headers read a ticket's earlier Message-IDs on every reply;
//   without it that read scanned the whole outbox.
// - tickets(state, department_id, is_overdue): the Overdue count filtered by department.
// - tickets(assignee_agent_id, state, department_id): "My tickets" filtered by department.
const INDEXES: [string, string, string[]][] = [
  ['outbox', 'outbox_ticket_id', ['ticket_id', 'id']],
  ['tickets', 'tickets_dept_overdue', ['state', 'department_id', 'is_overdue']],
  ['tickets', 'tickets_assignee_dept', ['assignee_agent_id', 'state', 'department_id']],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, name, columns] of INDEXES) {
    await knex.schema.alterTable(table, (t) => t.index(columns, name));
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, name, columns] of [...INDEXES].reverse()) {
    // NOTE(dialect): MySQL needs an index on a foreign key column; outbox.ticket_id keeps one of its own.
    if (table === 'outbox' && /mysql/.test(String(knex.client.config.client))) {
      await knex.schema.alterTable(table, (t) => t.index(['ticket_id'], 'outbox_ticket_id_fk'));
    }
    await knex.schema.alterTable(table, (t) => t.dropIndex(columns, name));
  }
}
