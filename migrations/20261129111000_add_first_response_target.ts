import type { Knex } from 'knex';
import { isMysqlKnex } from './support/table-options.ts';

// A first-response target per SLA plan (osTicket has only the resolution "grace period"): working
// minutes from opening until an agent's first reply is due (null: no such target).
// tickets.first_response_due_at is computed with the SLA due date; while the ticket has no agent
// response yet, the due date that applies (due_at) is the earlier of the two. See src/domain/sla/CONTEXT.md.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('sla_plans', 'first_response_minutes')) return;
  await knex.schema.alterTable('sla_plans', (t) => {
    t.integer('first_response_minutes');
  });
  await knex.schema.alterTable('tickets', (t) => {
    t.datetime('first_response_due_at', { precision: 3 });
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('sla_plans', 'first_response_minutes'))) return;
  await knex.schema.alterTable('tickets', (t) => {
    t.dropColumn('first_response_due_at');
  });
  // SQLite: knex drops a column by copying the table, whose DROP TABLE fails while departments and
  // tickets refer to a plan; SQLite's own DROP COLUMN (3.35+) changes it in place.
  if (isMysqlKnex(knex)) await knex.schema.alterTable('sla_plans', (t) => t.dropColumn('first_response_minutes'));
  else await knex.raw('ALTER TABLE ?? DROP COLUMN ??', ['sla_plans', 'first_response_minutes']);
}
