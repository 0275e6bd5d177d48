import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// Ticket filters (osTicket's "Filters", Zendesk's triggers on creation): rules on a new ticket's
// requester, subject and message that route it (department, help topic, priority, SLA plan,
// assignee or team), turn its auto-response off or refuse it, applied in order as the ticket is
// opened (src/domain/filters/ticket-filter-service.ts). The rules are a short JSON list.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'ticket_filters', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.boolean('is_active').notNullable().defaultTo(true);
    t.integer('exec_order').notNullable().defaultTo(99);
    t.string('target', 8).notNullable().defaultTo('any'); // any | web | email | api | agent
    t.boolean('match_all').notNullable().defaultTo(true);
    t.boolean('stop_on_match').notNullable().defaultTo(false);
    t.text('rules').notNullable(); // [{ field, op, value }]
    t.boolean('reject').notNullable().defaultTo(false);
    t.boolean('no_autoresponse').notNullable().defaultTo(false);
    t.integer('department_id').unsigned().references('id').inTable('departments');
    t.integer('topic_id').unsigned().references('id').inTable('help_topics');
    t.integer('priority_id').unsigned().references('id').inTable('priorities');
    t.integer('sla_plan_id').unsigned().references('id').inTable('sla_plans');
    t.integer('assignee_agent_id').unsigned().references('id').inTable('agents');
    t.integer('team_id').unsigned().references('id').inTable('teams');
    t.text('notes');
    timestamps(t);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ticket_filters');
}
