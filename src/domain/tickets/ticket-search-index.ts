/**
 * The quick search's word index: every word of a ticket's subject, normalised (searchWord), in
 * ticket_search_words (word, ticket_id). A search term matches a ticket whose subject has a word that
 * starts with it ("print" finds "Printer offline", as osTicket's and Zendesk's searches do), read as
 * a range of the index instead of testing every subject of the queue with LIKE '%term%', which no
 * B-tree index can seek (migrations/20261128080000_add_ticket_search_words.ts says more).
 *
 * A ticket is indexed after it is written, not by the request that writes it: tickets are opened with
 * search_indexed false (the column's default) and a subject edit sets it false again in the same
 * UPDATE, so neither costs a statement; indexPendingTickets (the background task, and `tessera
 * search:index`) indexes them in batches. Until then a search tests such a ticket's subject with LIKE
 * (see ticket-queue-queries.ts wordMatch), so a ticket is found from the moment it exists.
 */
import type { Knex } from 'knex';
import { isMysql, tableForcedIndex } from '../../db/dialect.ts';

/** Longest word kept (characters); longer words are indexed, and searched, by their first MAX_WORD. */
export const MAX_WORD = 40;
/** Tickets indexed per transaction. */
export const INDEX_BATCH = 500;

/** Splits text into words: runs of letters and digits (any script). */
const SPLIT = /[^\p{L}\p{N}]+/u;

/** A word as stored and searched: lower case, accents removed (NFKD without combining marks), at most MAX_WORD characters. */
export function searchWord(word: string): string {
  const w = word.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  return w.length > MAX_WORD ? Array.from(w).slice(0, MAX_WORD).join('') : w;
}

/** The distinct words of `text`, as stored. */
export function searchWords(text: string): string[] {
  const out = new Set<string>();
  for (const raw of text.split(SPLIT)) {
    const w = raw && searchWord(raw);
    if (w) out.add(w);
  }
  return [...out];
}

/** A search's terms: each word as typed (for LIKE on a ticket not indexed yet) and as stored. */
export interface SearchTerm { typed: string; word: string }

/** The terms of a search, at most 8 (each is one more condition), longest first: the first is read from the index, the rest tested. */
export function searchTerms(q: string): SearchTerm[] {
  const seen = new Set<string>();
  const terms: SearchTerm[] = [];
  for (const typed of q.split(SPLIT)) {
    const word = typed && searchWord(typed);
    if (!word || seen.has(word)) continue;
    seen.add(word);
    terms.push({ typed, word });
  }
  return terms.sort((a, b) => b.word.length - a.word.length).slice(0, 8);
}

/** The index range of the words that start with `word`: [word, word + U+10FFFF), in byte (code point) order. */
export function prefixRange(word: string): [string, string] {
  return [word, word + '\u{10FFFF}'];
}

/**
 * Indexes up to `limit` tickets whose words are not (or no longer) in the index, in one transaction:
 * their old words deleted, their subject's words inserted, search_indexed set. On MySQL the tickets
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
    const pending = trx.from(tableForcedIndex(trx, 'tickets', 't', 'tickets_search_pending')).where('t.search_indexed', false).orderBy('t.id').limit(limit).select('t.id', 't.subject');
    if (isMysql(trx)) pending.forUpdate().skipLocked();
    const rows = (await pending) as { id: number; subject: string }[];
    if (!rows.length) return 0;
    const ids = rows.map((r) => r.id);
    await trx('ticket_search_words').whereIn('ticket_id', ids).delete();
    const words = rows.flatMap((r) => searchWords(r.subject).map((word) => ({ word, ticket_id: r.id })));
    // 2 bound values a row: well under SQLite's 32,766 per statement.
    for (let i = 0; i < words.length; i += 5000) await trx('ticket_search_words').insert(words.slice(i, i + 5000));
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
