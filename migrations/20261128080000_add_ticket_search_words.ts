import type { Knex } from 'knex';

// The quick search's word index (src/domain/tickets/ticket-search-index.ts): every word of a ticket's
// subject, normalised (lower case, accents removed), one row per word and ticket. A search for a word
// reads its range (word prefix) instead of testing every subject of the queue with LIKE '%word%', which
// no B-tree index can seek: a word in few or no subjects read every entry of the queue's state (the Open
// queue at 1M tickets ~0.1 s, Closed 0.4 s; docs/benchmarks.md).
//
// tickets.search_indexed says whether the ticket's words are there. A ticket is written with false (the
// column's default: opening a ticket costs no statement more) and a subject edit sets it false again;
// the background task (src/jobs/search-index-task.ts) indexes such tickets in batches and sets it true.
// Until then a search tests that ticket's subject with LIKE, through tickets_search_pending. Existing
// tickets start unindexed: the task (or `tessera search:index`) indexes them after this migration.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ticket_search_words', (t) => {
    // Byte order (utf8mb4_bin on MySQL, SQLite's BINARY): a prefix is the range [p, p + U+10FFFF).
    t.string('word', 40).notNullable().collate('utf8mb4_bin');
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.primary(['word', 'ticket_id']);
    t.index(['ticket_id', 'word'], 'ticket_search_words_ticket');
  });
  await knex.schema.alterTable('tickets', (t) => t.boolean('search_indexed').notNullable().defaultTo(false));
  await knex.schema.alterTable('tickets', (t) => t.index(['search_indexed', 'id'], 'tickets_search_pending'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(['search_indexed', 'id'], 'tickets_search_pending'));
  await knex.schema.alterTable('tickets', (t) => t.dropColumn('search_indexed'));
  await knex.schema.dropTable('ticket_search_words');
}
