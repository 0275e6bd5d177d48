import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  // End users (requesters), known by email.
  await createTable(knex, 'users', (t) => {
    t.increments('id');
    t.string('email', 191).notNullable().unique(); // lower-cased on write
    t.string('name', 120).notNullable();
    t.string('phone', 40);
    t.boolean('is_banned').notNullable().defaultTo(false);
    timestamps(t);
  });
  await createTable(knex, 'tickets', (t) => {
    t.increments('id');
    t.string('number', 20).notNullable().unique(); // public number, never the row id
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    t.string('subject', 255).notNullable();
    t.string('status', 16).notNullable(); // 'open' | 'resolved' | 'closed'
    t.string('state', 8).notNullable(); // 'open' | 'closed': the queue-level state of the status
    t.integer('department_id').unsigned().notNullable().references('id').inTable('departments');
    t.integer('topic_id').unsigned().references('id').inTable('help_topics');
    t.integer('priority_id').unsigned().notNullable().references('id').inTable('priorities');
    t.integer('sla_plan_id').unsigned().references('id').inTable('sla_plans');
    t.integer('assignee_agent_id').unsigned().references('id').inTable('agents');
    t.integer('team_id').unsigned().references('id').inTable('teams');
    t.string('source', 16).notNullable(); // web | email | phone | api | chat | walk-in | other
    t.datetime('sla_due_at', { precision: 3 }); // computed from the SLA plan and schedule
    t.datetime('manual_due_at', { precision: 3 }); // set by an agent; wins over sla_due_at
    t.datetime('due_at', { precision: 3 }); // the due date that applies (manual ?? sla), indexed
    t.boolean('is_overdue').notNullable().defaultTo(false);
    t.boolean('is_answered').notNullable().defaultTo(false);
    t.datetime('sla_started_at', { precision: 3 }).notNullable(); // opened or last reopened
    t.datetime('first_response_at', { precision: 3 });
    t.datetime('last_message_at', { precision: 3 });
    t.datetime('last_response_at', { precision: 3 });
    t.datetime('closed_at', { precision: 3 });
    t.integer('reopen_count').notNullable().defaultTo(0);
    t.string('ip', 45);
    t.text('extra'); // JSON text: custom fields kept from the API
    t.integer('version').notNullable().defaultTo(1); // optimistic concurrency
    timestamps(t);
    // The queues agents open all day: never a scan of the tickets table.
    t.index(['state', 'department_id', 'updated_at'], 'tickets_queue_dept_updated');
    t.index(['state', 'department_id', 'due_at'], 'tickets_queue_dept_due');
    t.index(['state', 'updated_at'], 'tickets_queue_updated');
    t.index(['assignee_agent_id', 'state', 'updated_at'], 'tickets_assignee');
    t.index(['team_id', 'state'], 'tickets_team');
    t.index(['state', 'is_overdue', 'due_at'], 'tickets_overdue');
    t.index(['user_id', 'created_at'], 'tickets_user');
    t.index(['created_at'], 'tickets_created');
    t.index(['closed_at'], 'tickets_closed');
  });
  await createTable(knex, 'thread_entries', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.string('kind', 10).notNullable(); // 'message' (from the user) | 'response' (agent) | 'note' (internal)
    t.integer('user_id').unsigned().references('id').inTable('users');
    t.integer('agent_id').unsigned().references('id').inTable('agents');
    t.string('poster_name', 120); // name shown for the author at the time of posting
    t.text('body', 'mediumtext').notNullable(); // plain text; rendered escaped with line breaks kept
    t.string('source', 16).notNullable(); // channel the entry arrived by
    t.string('message_id', 191); // email Message-ID of this entry (inbound or outbound)
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['ticket_id', 'id']);
    t.index(['message_id']);
  });
  await createTable(knex, 'files', (t) => {
    t.increments('id');
    t.string('sha256', 64).notNullable();
    t.integer('size').unsigned().notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['sha256']);
  });
  await createTable(knex, 'attachments', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('entry_id').unsigned().references('id').inTable('thread_entries').onDelete('CASCADE');
    t.integer('file_id').unsigned().notNullable().references('id').inTable('files');
    t.string('filename', 255).notNullable(); // normalised before storing
    t.string('content_type', 127).notNullable();
    t.integer('size').unsigned().notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['ticket_id']);
    t.index(['entry_id']);
  });
  await createTable(knex, 'ticket_events', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.string('event', 32).notNullable(); // created, assigned, transferred, sla_changed, overdue, status_changed, reopened …
    t.string('actor_kind', 8).notNullable(); // 'agent' | 'user' | 'system' | 'api'
    t.integer('agent_id').unsigned().references('id').inTable('agents');
    t.integer('user_id').unsigned().references('id').inTable('users');
    t.text('data'); // JSON text: { from, to, comment, … }
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['ticket_id', 'id']);
    t.index(['event', 'created_at']);
  });
  // Collision avoidance: who is working on a ticket right now (short-lived).
  await createTable(knex, 'ticket_locks', (t) => {
    t.integer('ticket_id').unsigned().primary().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('agent_id').unsigned().notNullable().references('id').inTable('agents').onDelete('CASCADE');
    t.datetime('expires_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['ticket_locks', 'ticket_events', 'attachments', 'files', 'thread_entries', 'tickets', 'users'])
    await knex.schema.dropTableIfExists(t);
}
