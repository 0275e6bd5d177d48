import type { Knex } from 'knex';
import { isMysqlKnex } from './support/table-options.ts';

// A next-response target per SLA plan (Zendesk's "next reply time", Zammad's "update time"; osTicket
// has none): working minutes from a requester's message, once the ticket has had its first response,
// until an agent's reply is due (null: no such target). tickets.next_response_due_at is set by the
// oldest message still unanswered and cleared by the reply; while set, the due date that applies
// (due_at) is the earlier of it and the resolution due date. See src/domain/sla/CONTEXT.md.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('sla_plans', 'next_response_minutes')) return;
  await knex.schema.alterTable('sla_plans', (t) => {
    t.integer('next_response_minutes');
  });
  await knex.schema.alterTable('tickets', (t) => {
    t.datetime('next_response_due_at', { precision: 3 });
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('sla_plans', 'next_response_minutes'))) return;
  // SQLite: knex drops a column by copying the table, whose DROP TABLE fails while other tables refer
  // to it; SQLite's own DROP COLUMN (3.35+) changes it in place.
  for (const [table, column] of [['tickets', 'next_response_due_at'], ['sla_plans', 'next_response_minutes']] as const) {
    if (isMysqlKnex(knex)) await knex.schema.alterTable(table, (t) => t.dropColumn(column));
    else await knex.raw('ALTER TABLE ?? DROP COLUMN ??', [table, column]);
  }
}
