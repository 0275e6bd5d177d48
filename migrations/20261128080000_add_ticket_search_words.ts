import type { Knex } from 'knex';
import { searchText } from '../src/domain/tickets/ticket-search-index.ts';

// The quick search's words (src/domain/tickets/ticket-search-index.ts). A search term matches a word
// of the subject that starts with it. Two forms of the same words, normalised (lower case, accents
// removed):
// - tickets.search_text: the subject's words, space-separated after a leading space, written with the
//   subject (opening a ticket, editing its subject: no statement more). `search_text LIKE '% term%'`
//   is the match itself. It replaces the subject in the queue's covering index
//   (tickets_queue_scope_sort_flags), so a page of a common word walks the queue in update order and
//   tests each ticket in the index, as `subject LIKE '%term%'` was tested there before.
// - ticket_search_words (word, ticket_id): one row per word and ticket, so the total of a word in few
//   or no subjects reads that word's range instead of testing every entry of the queue (the Closed
//   queue at 1M tickets: ~0.9 s; docs/benchmarks.md). Written by a background task
//   (src/jobs/search-index-task.ts), which indexes the tickets whose tickets.search_indexed is false: a
//   ticket is written with false (the column's default) and a subject edit sets it false again. Until
//   indexed, a ticket is found through tickets_search_pending and its search_text.
// Existing tickets get their search_text here, in batches (a JS normalisation: ~1–2 min at 1M tickets),
// and their words from the task (or `tessera search:index`) after the migration.
const SORT_INDEX = 'tickets_queue_scope_sort_flags';
const SORT_BEFORE = ['state', 'updated_at', 'id', 'department_id', 'assignee_agent_id', 'team_id', 'number', 'subject', 'priority_id', 'user_id', 'is_answered', 'is_overdue'];
const SORT_AFTER = SORT_BEFORE.map((c) => (c === 'subject' ? 'search_text' : c));
const BATCH = 2000;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ticket_search_words', (t) => {
    // Byte order (utf8mb4_bin on MySQL, SQLite's BINARY): a prefix is the range [p, p + U+10FFFF).
    t.string('word', 40).notNullable().collate('utf8mb4_bin');
    t.integer('ticket_id').unsigned().notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.primary(['word', 'ticket_id']);
    t.index(['ticket_id', 'word'], 'ticket_search_words_ticket');
  });
  await knex.schema.alterTable('tickets', (t) => {
    t.string('search_text', 255).notNullable().defaultTo('');
    t.boolean('search_indexed').notNullable().defaultTo(false);
  });
  // Existing tickets' search_text, a range of ids at a time, one UPDATE … CASE per batch.
  const { max } = (await knex('tickets').max('id as max').first()) as { max: number | null };
  for (let from = 0; from < (max ?? 0); from += BATCH) {
    const rows = (await knex('tickets').where('id', '>', from).andWhere('id', '<=', from + BATCH).select('id', 'subject')) as { id: number; subject: string }[];
    if (!rows.length) continue;
    const cases = rows.map(() => 'when ? then ?').join(' ');
    // sql-safe: `cases` is only placeholders; ids and texts are bound.
    await knex('tickets').where('id', '>', from).andWhere('id', '<=', from + BATCH)
      .update({ search_text: knex.raw(`case id ${cases} else search_text end`, rows.flatMap((r) => [r.id, searchText(r.subject)])) });
  }
  await knex.schema.alterTable('tickets', (t) => t.index(['search_indexed', 'id'], 'tickets_search_pending'));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(SORT_BEFORE, SORT_INDEX));
  await knex.schema.alterTable('tickets', (t) => t.index(SORT_AFTER, SORT_INDEX));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(SORT_AFTER, SORT_INDEX));
  await knex.schema.alterTable('tickets', (t) => t.index(SORT_BEFORE, SORT_INDEX));
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(['search_indexed', 'id'], 'tickets_search_pending'));
  await knex.schema.alterTable('tickets', (t) => {
    t.dropColumn('search_indexed');
    t.dropColumn('search_text');
  });
  await knex.schema.dropTable('ticket_search_words');
}
