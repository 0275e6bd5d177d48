import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Organizations (osTicket's, Zendesk's, Zammad's): the company a requester belongs to. Users join one
// by hand (the user page) or by the email domains the organization claims, when the help desk first
// meets them. An organization may copy its primary contacts or all its members on every new ticket of
// a member (osTicket's "add collaborators" flags), may let its primary contacts or all its members see
// all its tickets on the portal once signed in (osTicket's "ticket sharing" flags), and may have an
// account manager who is given the unassigned new tickets of its members
// (src/domain/users/organization-service.ts).
// users.organization_id is a plain indexed column, no foreign key: adding a constraint makes MariaDB
// copy the users table (ALGORITHM=COPY); the service checks the reference and clears it on delete.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'organizations', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.text('notes');
    t.string('auto_cc', 10).notNullable().defaultTo('none'); // none | primary | all
    t.string('portal_share', 10).notNullable().defaultTo('none'); // who of its members, signed in on the portal, see all its tickets: none | primary | all
    t.integer('manager_agent_id').unsigned().references('id').inTable('agents');
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  await createTable(knex, 'organization_domains', (t) => {
    t.string('domain', 191).notNullable().primary(); // lower case, no '@'
    t.integer('organization_id').unsigned().notNullable().references('id').inTable('organizations').onDelete('CASCADE');
    t.index(['organization_id']);
  });
  if (!(await knex.schema.hasColumn('users', 'organization_id'))) {
    await knex.schema.alterTable('users', (t) => {
      t.integer('organization_id').unsigned();
      t.boolean('is_primary_contact').notNullable().defaultTo(false);
      t.text('notes');
      t.index(['organization_id', 'name'], 'users_organization_name');
    });
  }
  // The directory sorts and searches users by name.
  await knex.schema.alterTable('users', (t) => {
    t.index(['name'], 'users_name');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropIndex(['name'], 'users_name');
  });
  if (await knex.schema.hasColumn('users', 'organization_id')) {
    await knex.schema.alterTable('users', (t) => {
      t.dropIndex(['organization_id', 'name'], 'users_organization_name');
      t.dropColumn('organization_id');
      t.dropColumn('is_primary_contact');
      t.dropColumn('notes');
    });
  }
  await knex.schema.dropTableIfExists('organization_domains');
  await knex.schema.dropTableIfExists('organizations');
}
