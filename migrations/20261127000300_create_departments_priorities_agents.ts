import type { Knex } from 'knex';
import { createTable, isMysqlKnex, timestamps } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'priorities', (t) => {
    t.increments('id');
    t.string('name', 60).notNullable().unique();
    t.integer('urgency').notNullable(); // 1 = most urgent; queues sort by it
    t.string('color', 7).notNullable().defaultTo('#888888');
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  await createTable(knex, 'departments', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.integer('sla_plan_id').unsigned().references('id').inTable('sla_plans');
    t.integer('schedule_id').unsigned().references('id').inTable('schedules'); // wins over the plan's
    t.integer('manager_agent_id').unsigned(); // FK added below, agents reference departments too
    t.boolean('is_public').notNullable().defaultTo(true);
    t.string('email_address', 191); // outgoing identity; also routes inbound mail to this department
    t.string('email_name', 120);
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  await createTable(knex, 'agents', (t) => {
    t.increments('id');
    t.string('username', 64).notNullable().unique();
    t.string('email', 191).notNullable().unique(); // lower-cased on write
    t.string('name', 120).notNullable();
    t.string('password_hash', 100).notNullable(); // bcrypt
    t.string('role', 16).notNullable().defaultTo('agent'); // 'admin' | 'agent'
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.datetime('locked_until', { precision: 3 });
    t.datetime('last_login_at', { precision: 3 });
    t.datetime('password_changed_at', { precision: 3 });
    t.text('totp_secret'); // base32, only while 2FA is enabled or being enrolled
    t.boolean('totp_enabled').notNullable().defaultTo(false);
    t.text('recovery_codes'); // JSON array of bcrypt hashes, each used once
    timestamps(t);
  });
  // NOTE(dialect): departments and agents reference each other. MySQL gets the foreign key by
  // ALTER; SQLite cannot add one without rebuilding the table, so there the service keeps it whole.
  if (isMysqlKnex(knex)) {
    await knex.schema.alterTable('departments', (t) => {
      t.foreign('manager_agent_id').references('id').inTable('agents').onDelete('SET NULL');
    });
  }
  // Extra department access beyond the agent's primary department.
  await createTable(knex, 'departments_agents', (t) => {
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments').onDelete('CASCADE');
    t.integer('agent_id').unsigned().notNullable().references('id').inTable('agents').onDelete('CASCADE');
    t.primary(['department_id', 'agent_id']);
    t.index(['agent_id']);
  });
  await createTable(knex, 'teams', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.integer('lead_agent_id').unsigned().references('id').inTable('agents').onDelete('SET NULL');
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  await createTable(knex, 'teams_agents', (t) => {
    t.integer('team_id').unsigned().notNullable().references('id').inTable('teams').onDelete('CASCADE');
    t.integer('agent_id').unsigned().notNullable().references('id').inTable('agents').onDelete('CASCADE');
    t.primary(['team_id', 'agent_id']);
    t.index(['agent_id']);
  });
  await createTable(knex, 'help_topics', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.boolean('is_public').notNullable().defaultTo(true);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.integer('department_id').unsigned().references('id').inTable('departments');
    t.integer('priority_id').unsigned().references('id').inTable('priorities');
    t.integer('sla_plan_id').unsigned().references('id').inTable('sla_plans');
    timestamps(t);
  });
}

export async function down(knex: Knex): Promise<void> {
  if (isMysqlKnex(knex) && (await knex.schema.hasTable('departments')))
    await knex.schema.alterTable('departments', (t) => t.dropForeign(['manager_agent_id']));
  for (const t of ['help_topics', 'teams_agents', 'teams', 'departments_agents', 'agents', 'departments', 'priorities'])
    await knex.schema.dropTableIfExists(t);
}
