import type { Knex } from 'knex';

// An agent's "away" mark (osTicket's vacation mode): no alerts to the department or team, no automatic
// assignment (ticket filters, an organization's account manager); listed "(away)" where agents are
// chosen. Set on their profile or by an admin (src/domain/auth/agent-account-service.ts).
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('agents', 'is_away')) return;
  await knex.schema.alterTable('agents', (t) => {
    t.boolean('is_away').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('agents', 'is_away'))) return;
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('is_away');
  });
}
