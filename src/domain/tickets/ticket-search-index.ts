/**
 * The quick search's words. A search term matches a ticket whose subject or requester's name has a
 * word that starts with it ("print" finds "Printer offline", "zoe" Zoë Müller's tickets, as osTicket's
 * and Zendesk's searches do), case and accents ignored; every term must match ("zoe printer"). The
 * words (searchWords) are kept in two forms
 * (migrations/20261128080000_add_ticket_search_words.ts says why):
 * - tickets.search_text (searchText): written with the subject, in the same statement; the match is
 *   `search_text LIKE '% term%'`, tested in the queue's covering index as a page walks the queue;
 * - ticket_search_words (word, ticket_id): a word's range of it lists its tickets, so the total of a
 *   word in few or no subjects is read, not searched for. Written after the ticket, not by the request
 *   that writes it: tickets are opened with search_indexed false (the column's default) and a subject
 *   edit sets it false again in its UPDATE, so neither costs a statement; indexPendingTickets (the
 *   background task, and `tessera search:index`) indexes them in batches, from their search_text.
 *   Until then a search finds such a ticket through tickets_search_pending and its search_text.
 */
import type { Knex } from 'knex';
import { isMysql, isSqlite, tableForcedIndex } from '../../db/dialect.ts';

/** Longest word kept (characters); longer words are indexed, and searched, by their first MAX_WORD. */
export const MAX_WORD = 40;
/** Tickets indexed per transaction. */
export const INDEX_BATCH = 500;

/** Splits text into words: runs of letters and digits (any script). */
const SPLIT = /[^\p{L}\p{N}]+/u;

/** Text as words are stored and searched: lower case, accents removed (NFKD without combining marks). */
function normalise(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** At most MAX_WORD characters of a word. */
const truncated = (w: string) => (w.length > MAX_WORD ? Array.from(w).slice(0, MAX_WORD).join('') : w);

/**
 * The distinct words of `text`, as stored: split after normalising, so a character whose
 * decomposition holds a space or a separator ("½" → "1⁄2") gives the same words in a subject and in a search.
 */
export function searchWords(text: string): string[] {
  const out = new Set<string>();
  for (const w of normalise(text).split(SPLIT)) if (w) out.add(truncated(w));
  return [...out];
}

/** Longest search_text (characters: the column's size). */
export const SEARCH_TEXT_MAX = 255;

/**
 * tickets.search_text for a subject and its requester's name: their distinct words, the subject's
 * first, each after a space (" printer offline zoe muller"), so that `LIKE '% term%'` is "a word starts
 * with term". Words that would not fit are left out, of the text and of the word index alike (a
 * subject has at most 255 characters: the name's words are the ones left out of a very long one).
 * The requester's name is the user's stored name, which a ticket copies when it is opened and which
 * nothing changes afterwards (a later ticket with another name keeps the stored one).
 */
export function searchText(subject: string, requesterName = ''): string {
  let text = '';
  for (const w of searchWords(`${subject} ${requesterName}`)) {
    if (text.length + 1 + w.length > SEARCH_TEXT_MAX) break;
    text += ' ' + w;
  }
  return text;
}

/** The words of a search_text (as the word index holds them). */
export function wordsOfSearchText(text: string): string[] {
  return text.split(' ').filter(Boolean);
}

/** The terms of a search, as stored (searchWords), without repeats, at most 8 (each is one more condition). */
export function searchTerms(q: string): string[] {
  return searchWords(q).slice(0, 8);
}

/** The index range of the words that start with `word`: [word, word + U+10FFFF), in byte (code point) order. */
export function prefixRange(word: string): [string, string] {
  return [word, word + '\u{10FFFF}'];
}

/**
 * Indexes up to `limit` tickets whose words are not (or no longer) in the index, in one transaction:
 * their old words deleted, the words of their search_text inserted, search_indexed set. On MySQL the tickets
 * are claimed FOR UPDATE SKIP LOCKED, so processes running this side by side take different tickets,
 * and a subject edited meanwhile waits for this commit and marks its ticket again. Returns how many
 * tickets it indexed.
 */
export async function indexPendingTickets(db: Knex, limit = INDEX_BATCH): Promise<number> {
  // READ COMMITTED on MySQL: no gap locks, so tickets being opened meanwhile (new entries at the end of
  // tickets_search_pending) do not wait for the batch, and two indexers deleting the words of tickets
  // that have none yet do not deadlock on the same gap of ticket_search_words.
  return db.transaction(async (trx) => {
    // Through tickets_search_pending, in id order, stopped at the limit: a locking read locks what it
    // reads, and a scan of the table (a small one, sorted) would claim every ticket for one indexer.
    const pending = () => trx.from(tableForcedIndex(trx, 'tickets', 't', 'tickets_search_pending')).where('t.search_indexed', false).orderBy('t.id').limit(limit);
    // NOTE(dialect): on SQLite the write comes first, so the transaction takes the database's write lock
    // (waiting busy_timeout) before it reads: read first, its write fails at once (SQLITE_BUSY) if
    // another process wrote meanwhile (`tessera search:index` beside a running server). The old words
    // of the same tickets, in the same order (nothing else can write until this commits).
    if (isSqlite(trx)) await trx('ticket_search_words').whereIn('ticket_id', pending().select('t.id')).delete();
    const select = pending().select('t.id', 't.search_text');
    if (isMysql(trx)) select.forUpdate().skipLocked();
    const rows = (await select) as { id: number; search_text: string }[];
    if (!rows.length) return 0;
    const ids = rows.map((r) => r.id);
    if (!isSqlite(trx)) await trx('ticket_search_words').whereIn('ticket_id', ids).delete();
    const words = rows.flatMap((r) => wordsOfSearchText(r.search_text).map((word) => ({ word, ticket_id: r.id })));
    // NOTE(dialect): knex writes a multi-row INSERT on SQLite as a compound SELECT, at most 500 terms.
    const chunk = isSqlite(trx) ? 500 : 5000;
    for (let i = 0; i < words.length; i += chunk) await trx('ticket_search_words').insert(words.slice(i, i + chunk));
    await trx('tickets').whereIn('id', ids).update({ search_indexed: true });
    return rows.length;
  }, isMysql(db) ? { isolationLevel: 'read committed' } : undefined);
}

/** Indexes every ticket not indexed yet (batch after batch) and returns how many; `max` stops earlier. */
export async function indexAllPending(db: Knex, max = Infinity, onBatch?: (done: number) => void): Promise<number> {
  let done = 0;
  while (done < max) {
    const n = await indexPendingTickets(db, Math.min(INDEX_BATCH, max - done));
    done += n;
    if (n) onBatch?.(done);
    if (n < INDEX_BATCH) break;
  }
  return done;
}
