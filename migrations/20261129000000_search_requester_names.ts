import type { Knex } from 'knex';
import { searchText } from '../src/domain/tickets/ticket-search-index.ts';

// The quick search also finds a ticket by its requester's name (src/domain/tickets/ticket-search-index.ts):
// tickets.search_text holds the name's words after the subject's. Existing tickets get theirs here, a
// range of ids at a time, one UPDATE … CASE per batch (a JS normalisation, as 20261128080000 did: ~1–2
// min at 1M tickets), and are marked for the word index again (search_indexed false): the background
// task (or `tessera search:index`) re-indexes them; until then they are found by their search_text.
const BATCH = 2000;

async function rewrite(knex: Knex, text: (r: { subject: string; requester_name: string }) => string): Promise<void> {
  const { max } = (await knex('tickets').max('id as max').first()) as { max: number | null };
  for (let from = 0; from < (max ?? 0); from += BATCH) {
    const rows = (await knex('tickets').where('id', '>', from).andWhere('id', '<=', from + BATCH).select('id', 'subject', 'requester_name')) as { id: number; subject: string; requester_name: string }[];
    if (!rows.length) continue;
    const cases = rows.map(() => 'when ? then ?').join(' ');
    // sql-safe: `cases` is only placeholders; ids and texts are bound.
    await knex('tickets').where('id', '>', from).andWhere('id', '<=', from + BATCH)
      .update({ search_text: knex.raw(`case id ${cases} else search_text end`, rows.flatMap((r) => [r.id, text(r)])), search_indexed: false });
  }
}

export async function up(knex: Knex): Promise<void> {
  await rewrite(knex, (r) => searchText(r.subject, r.requester_name ?? ''));
}

export async function down(knex: Knex): Promise<void> {
  await rewrite(knex, (r) => searchText(r.subject));
}
