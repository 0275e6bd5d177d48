import type { Knex } from 'knex';
import { createTable } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  // Outgoing mail, fully rendered, written in the same transaction as the change that caused it.
  await createTable(knex, 'outbox', (t) => {
    t.increments('id');
    t.string('template', 64).notNullable();
    t.integer('ticket_id').unsigned().references('id').inTable('tickets').onDelete('SET NULL');
    t.string('to_address', 191).notNullable();
    t.string('to_name', 120);
    t.string('from_address', 191);
    t.string('from_name', 120);
    t.string('reply_to', 191);
    t.string('subject', 255).notNullable();
    t.text('text_body', 'mediumtext').notNullable();
    t.text('html_body', 'mediumtext');
    t.text('headers'); // JSON text of extra headers (In-Reply-To, References, Auto-Submitted)
    t.string('message_id', 191).notNullable().unique();
    t.string('status', 12).notNullable().defaultTo('queued'); // queued | sending | sent | failed | discarded
    t.integer('attempts').notNullable().defaultTo(0);
    t.datetime('next_attempt_at', { precision: 3 }).notNullable();
    t.datetime('locked_at', { precision: 3 });
    t.string('locked_by', 64);
    t.text('last_error');
    t.datetime('sent_at', { precision: 3 });
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['created_at']);
  });
  // Every inbound message seen, for de-duplication by Message-ID and for the log.
  await createTable(knex, 'inbound_messages', (t) => {
    t.increments('id');
    t.string('message_id', 191).notNullable().unique();
    t.string('from_address', 191);
    t.string('subject', 255);
    t.string('channel', 8).notNullable(); // smtp | pipe | imap | api
    t.string('outcome', 12).notNullable(); // threaded | created | ignored | rejected
    t.string('reason', 255);
    t.integer('ticket_id').unsigned().references('id').inTable('tickets').onDelete('SET NULL');
    t.integer('entry_id').unsigned().references('id').inTable('thread_entries').onDelete('SET NULL');
    t.datetime('received_at', { precision: 3 }).notNullable();
    t.index(['from_address', 'received_at']);
  });
  // Banned senders: an exact address or '@domain'.
  await createTable(knex, 'bans', (t) => {
    t.increments('id');
    t.string('pattern', 191).notNullable().unique();
    t.string('note', 255);
    t.datetime('created_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['bans', 'inbound_messages', 'outbox']) await knex.schema.dropTableIfExists(t);
}
