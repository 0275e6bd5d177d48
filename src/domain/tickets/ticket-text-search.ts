/**
 * "Search message text": the tickets whose thread (messages, replies, internal notes) holds every
 * word searched for — each term the start of a word, case and accents ignored, as in the quick
 * search — newest activity first, among the tickets the agent may see, with the newest matching
 * entry quoted. The words are found by each database's full-text index
 * (migrations/20261129060000_add_thread_text_search.ts): InnoDB FULLTEXT in boolean mode on
 * MariaDB/MySQL, FTS5 on SQLite. Terms shorter than 3 characters and InnoDB's stop words (the, and,
 * for…) are not searched for on either database (InnoDB does not index them), and the page says so.
 * The newest MATCH_CAP matching entries are read; beyond them the page says the list is cut. A word in
 * very many entries is the slow case: the full-text index lists all of them before the newest are
 * taken (MariaDB: 1.3 s for a word in each of 550,000 entries; docs/benchmarks.md): MySQL/MariaDB stop
 * it after TIME_LIMIT_SECONDS and the page asks for a rarer word (tooCommon).
 */
import type { Knex } from 'knex';
import { dbDate, isMysql, isStatementTimeout, selectWithTimeLimit } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings } from '../settings/settings-service.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { formatDate } from './ticket-presenters.ts';
import { whereAgentMaySee } from './ticket-policy.ts';
import { searchTerms } from './ticket-search-index.ts';
import { STATUS_LABELS, type TicketStatus } from './ticket-status.ts';

type Db = Knex | Knex.Transaction;

/** Matching entries read at most (the newest); their tickets are the results. */
export const MATCH_CAP = 2000;
/** MySQL/MariaDB stop a search after this long (a word in a large share of a big thread table): the page asks for a rarer word. */
export const TIME_LIMIT_SECONDS = 3;
const MIN_TERM = 3;
/** InnoDB's default stop words: never indexed there, so left out on both databases alike. */
const STOP_WORDS = new Set(['about', 'are', 'com', 'for', 'from', 'how', 'that', 'the', 'this', 'was', 'what', 'when', 'where', 'who', 'will', 'with', 'und', 'www']);

export interface TextSearchHit {
  id: number;
  number: string;
  subject: string;
  status: TicketStatus;
  statusLabel: string;
  department: string;
  requester: string;
  updatedText: string;
  /** The newest matching entry: its kind and an excerpt around the first term found. */
  entry: { kind: 'message' | 'response' | 'note'; poster: string; before: string; match: string; after: string };
}

export interface TextSearchPage {
  q: string;
  terms: string[];
  /** Terms left out (too short, or stop words). */
  ignored: string[];
  hits: TextSearchHit[];
  total: number;
  /** More than MATCH_CAP entries matched: only the newest were read. */
  capped: boolean;
  /** The words are in so many entries that the search ran out of time (MySQL/MariaDB: TIME_LIMIT_SECONDS). */
  tooCommon: boolean;
  matchCap: number;
  page: number;
  pages: number;
}

/** The terms searched for, and those left out. */
function splitTerms(q: string): { terms: string[]; ignored: string[] } {
  const all = searchTerms(q);
  const terms = all.filter((t) => t.length >= MIN_TERM && !STOP_WORDS.has(t));
  return { terms, ignored: all.filter((t) => !terms.includes(t)) };
}

/**
 * The ids of the newest entries whose body holds every term as the start of a word: the index alone
 * (a column of the rows beside the id made MariaDB read every matching row to sort them: 4.0 s against
 * 1.3 s for a word in all 550,000 entries of the bench's 100k tickets).
 */
async function matchingEntryIds(db: Db, terms: string[], limitSeconds: number): Promise<number[]> {
  if (isMysql(db)) {
    // Terms are letters and digits only (searchWords): nothing in them is a boolean-mode operator.
    const against = terms.map((t) => `+${t}*`).join(' ');
    const [rows] = await selectWithTimeLimit(db, limitSeconds, '?? FROM ?? WHERE MATCH(??) AGAINST (? IN BOOLEAN MODE) ORDER BY ?? DESC LIMIT ?', ['id', 'thread_entries', 'body', against, 'id', MATCH_CAP + 1]);
    return (rows as { id: number }[]).map((r) => Number(r.id));
  }
  const match = terms.map((t) => `"${t.replace(/"/g, '""')}"*`).join(' AND ');
  return db('thread_entries_fts').whereRaw('?? MATCH ?', ['thread_entries_fts', match]).orderBy('rowid', 'desc').limit(MATCH_CAP + 1).pluck('rowid');
}

/** An excerpt of `body` around the first of `terms` it contains (as typed, case ignored), else its start. */
function excerpt(body: string, terms: string[]): { before: string; match: string; after: string } {
  const text = body.replace(/\s+/g, ' ').trim();
  const lower = text.toLowerCase();
  let at = -1;
  let len = 0;
  for (const t of terms) {
    const i = lower.indexOf(t);
    if (i >= 0 && (at < 0 || i < at)) [at, len] = [i, t.length];
  }
  if (at < 0) return { before: '', match: '', after: text.length > 200 ? `${text.slice(0, 200)}…` : text };
  const from = Math.max(0, at - 80);
  const to = Math.min(text.length, at + len + 120);
  return { before: (from > 0 ? '…' : '') + text.slice(from, at), match: text.slice(at, at + len), after: text.slice(at + len, to) + (to < text.length ? '…' : '') };
}

/**
 * One page of the tickets the agent may see whose thread holds the words of `q`.
 * @throws Forbidden (not staff)
 */
export async function searchThreadText(ctx: ServiceContext, raw: { q?: unknown; page?: unknown }, opts: { limitSeconds?: number } = {}): Promise<TextSearchPage> {
  assertStaff(ctx.actor);
  const q = typeof raw.q === 'string' ? raw.q.trim().slice(0, 100) : '';
  const { terms, ignored } = splitTerms(q);
  const settings = await getSettings(ctx.db);
  const pageSize = settings.page_size;
  const requested = Math.max(1, Math.min(1000, Number.parseInt(String(raw.page ?? '1'), 10) || 1));
  const empty: TextSearchPage = { q, terms, ignored, hits: [], total: 0, capped: false, tooCommon: false, matchCap: MATCH_CAP, page: 1, pages: 1 };
  if (!terms.length) return empty;

  let found: number[];
  try {
    found = (await matchingEntryIds(ctx.db, terms, opts.limitSeconds ?? TIME_LIMIT_SECONDS)).map(Number);
  } catch (err) {
    if (isStatementTimeout(err)) return { ...empty, tooCommon: true };
    throw err;
  }
  const capped = found.length > MATCH_CAP;
  const entryIds = found.slice(0, MATCH_CAP);
  const entries: { id: number; ticket_id: number }[] = entryIds.length ? await ctx.db('thread_entries').whereIn('id', entryIds).orderBy('id', 'desc').select('id', 'ticket_id') : [];
  const newestEntry = new Map<number, number>();
  for (const e of entries) if (!newestEntry.has(Number(e.ticket_id))) newestEntry.set(Number(e.ticket_id), Number(e.id));
  if (!newestEntry.size) return { ...empty, capped };

  // The tickets among them the agent may see (the rule of ticket-policy.ts, as a condition), newest activity first.
  const visible = whereAgentMaySee(ctx.db('tickets as t').whereIn('t.id', [...newestEntry.keys()]), ctx.actor);
  const ids: number[] = (await visible.clone().orderBy('t.updated_at', 'desc').orderBy('t.id', 'desc').pluck('t.id')).map(Number);
  const total = ids.length;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(requested, pages);
  const pageIds = ids.slice((page - 1) * pageSize, page * pageSize);
  if (!pageIds.length) return { ...empty, capped, total };

  const [rows, bodies] = await Promise.all([
    ctx.db('tickets as t').join('users as u', 'u.id', 't.user_id').leftJoin('departments as d', 'd.id', 't.department_id').whereIn('t.id', pageIds)
      .select('t.id', 't.number', 't.subject', 't.status', 't.updated_at', 'u.name as requester', 'd.name as department'),
    ctx.db('thread_entries').whereIn('id', pageIds.map((id) => newestEntry.get(id)!)).select('id', 'ticket_id', 'kind', 'poster_name', 'body'),
  ]);
  const byId = new Map(rows.map((r: any) => [Number(r.id), r]));
  const entryOf = new Map(bodies.map((e: any) => [Number(e.ticket_id), e]));
  const hits = pageIds.map((id): TextSearchHit => {
    const r: any = byId.get(id);
    const e: any = entryOf.get(id);
    return {
      id, number: r.number, subject: r.subject, status: r.status, statusLabel: STATUS_LABELS[r.status as TicketStatus] ?? r.status,
      department: r.department ?? '', requester: r.requester ?? '', updatedText: formatDate(dbDate(r.updated_at), settings.timezone),
      entry: { kind: e?.kind ?? 'message', poster: e?.poster_name ?? '', ...excerpt(String(e?.body ?? ''), terms) },
    };
  });
  return { q, terms, ignored, hits, total, capped, tooCommon: false, matchCap: MATCH_CAP, page, pages };
}
