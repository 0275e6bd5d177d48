import type { Knex } from 'knex';
import { createTable } from './support/table-options.ts';

// CCs (osTicket's "collaborators", Zendesk's CCs): other people who follow a ticket. Each is a user
// (known by email, like a requester); they receive the agents' replies and the closing notice with
// their own access link, may read and answer the ticket on the portal and by email, and never see
// internal notes.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'ticket_collaborators', (t) => {
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.primary(['ticket_id', 'user_id']);
    // "Which tickets is this address CC'd on" (portal access checks).
    t.index(['user_id', 'ticket_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ticket_collaborators');
}
