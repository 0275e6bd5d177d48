import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Roles (osTicket's `role`): a named set of ticket permissions an agent has in a department
// (src/domain/roles/). agents.role_id is the agent's role (in their primary department, and in
// their extra departments unless overridden); departments_agents.role_id overrides it in that one
// department (osTicket's "extended access" role; null = the agent's role). Administrators
// (agents.role = 'admin') have every permission whatever their role. Plain indexed columns, no
// foreign keys (adding one makes MariaDB copy the table; SQLite cannot add one): the services check
// the reference, and a role in use cannot be deleted (the indexes find its users).
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'roles', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.text('permissions').notNullable(); // JSON list of permission keys, e.g. ["ticket.reply","ticket.close"]
    t.text('notes');
    t.boolean('is_active').notNullable().defaultTo(true); // a disabled role is no longer offered; its agents keep it
    timestamps(t);
  });
  if (!(await knex.schema.hasColumn('agents', 'role_id'))) {
    await knex.schema.alterTable('agents', (t) => {
      t.integer('role_id').unsigned(); // null: no ticket permissions beyond reading and notes (every agent gets one)
      t.index(['role_id'], 'agents_role');
    });
  }
  if (!(await knex.schema.hasColumn('departments_agents', 'role_id'))) {
    await knex.schema.alterTable('departments_agents', (t) => {
      t.integer('role_id').unsigned(); // null: the agent's own role (agents.role_id)
      t.index(['role_id'], 'departments_agents_role');
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('departments_agents', 'role_id')) {
    await knex.schema.alterTable('departments_agents', (t) => {
      t.dropIndex(['role_id'], 'departments_agents_role');
      t.dropColumn('role_id');
    });
  }
  if (await knex.schema.hasColumn('agents', 'role_id')) {
    await knex.schema.alterTable('agents', (t) => {
      t.dropIndex(['role_id'], 'agents_role');
      t.dropColumn('role_id');
    });
  }
  await knex.schema.dropTableIfExists('roles');
}
