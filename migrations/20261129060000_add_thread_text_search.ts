import type { Knex } from 'knex';
import { isMysqlKnex } from './support/table-options.ts';

// Searching the text of the thread (messages, replies, notes): "Search message text" in the agent
// panel (src/domain/tickets/ticket-text-search.ts), which osTicket's advanced search has and the
// quick search (subjects and names) does not. Each database's own full-text index, kept by the
// database as entries are written:
// - MariaDB/MySQL: a FULLTEXT index on thread_entries.body (InnoDB; words of 3+ characters). The
//   first FULLTEXT index of a table rebuilds it: minutes at millions of entries, once.
// - SQLite: an FTS5 table over thread_entries (external content: it stores only the index), kept by
//   triggers, with the unicode61 tokenizer without diacritics (case and accents ignored, as the
//   quick search ignores them).
const FTS = 'thread_entries_fts';

export async function up(knex: Knex): Promise<void> {
  if (isMysqlKnex(knex)) {
    await knex.raw('ALTER TABLE ?? ADD FULLTEXT INDEX ?? (??)', ['thread_entries', 'thread_entries_body_fulltext', 'body']);
    return;
  }
  await knex.raw(`CREATE VIRTUAL TABLE ${FTS} USING fts5(body, content='thread_entries', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`);
  await knex.raw(`CREATE TRIGGER ${FTS}_ai AFTER INSERT ON thread_entries BEGIN INSERT INTO ${FTS}(rowid, body) VALUES (new.id, new.body); END`);
  await knex.raw(`CREATE TRIGGER ${FTS}_ad AFTER DELETE ON thread_entries BEGIN INSERT INTO ${FTS}(${FTS}, rowid, body) VALUES ('delete', old.id, old.body); END`);
  await knex.raw(`CREATE TRIGGER ${FTS}_au AFTER UPDATE OF body ON thread_entries BEGIN INSERT INTO ${FTS}(${FTS}, rowid, body) VALUES ('delete', old.id, old.body); INSERT INTO ${FTS}(rowid, body) VALUES (new.id, new.body); END`);
  await knex.raw(`INSERT INTO ${FTS}(${FTS}) VALUES ('rebuild')`);
}

export async function down(knex: Knex): Promise<void> {
  if (isMysqlKnex(knex)) {
    await knex.raw('ALTER TABLE ?? DROP INDEX ??', ['thread_entries', 'thread_entries_body_fulltext']);
    return;
  }
  for (const t of ['ai', 'ad', 'au']) await knex.raw(`DROP TRIGGER IF EXISTS ${FTS}_${t}`);
  await knex.raw(`DROP TABLE IF EXISTS ${FTS}`);
}
