/**
 * Reading the knowledge base: the agent panel's list (every article; search, filters, pages) and
 * article page, and the portal's pages, which see only public articles of public categories (an
 * internal one is "not found", not "forbidden": its existence is not told).
 *
 * Search is words matched with LIKE on the question and the answer (each word somewhere in either,
 * wildcards escaped: whereLike). That reads every article of the filter, which is fine for a
 * knowledge base of hundreds or a few thousand articles; a larger one would want a word index like
 * the tickets' (ticket-search-index.ts). Case is ignored (for ASCII letters only on SQLite).
 *
 * The featured articles shown on the portal's home page are kept in each process and read again only
 * when the knowledge base changed (`kb_version` in the settings, read with every request anyway), so
 * the home page costs no statement for them.
 */
import { versionCache } from '../version-cache.ts';
import type { Knex } from 'knex';
import { dbBool, dbDate, whereLike } from '../../db/dialect.ts';
import { requireAgent } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { Forbidden, NotFound } from '../errors.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { formatDate } from '../tickets/ticket-presenters.ts';
import { paginate, type Page } from '../admin/admin-support.ts';
import { formatKbBody, kbExcerpt, type KbBlock } from './kb-format.ts';
import { KB_VISIBILITIES, type KbVisibility } from './kb-article-service.ts';

type Db = Knex | Knex.Transaction;

/** Articles per page, in both areas. */
export const KB_PAGE_SIZE = 20;
const PUBLIC = ['public', 'featured'];

export interface KbListItem {
  id: number;
  title: string;
  excerpt: string;
  visibility: KbVisibility;
  categoryId: number;
  categoryName: string;
  categoryIsPublic: boolean;
  updatedAt: string;
}

export interface KbArticleView extends KbListItem {
  body: string;
  blocks: KbBlock[];
  topics: { id: number; name: string }[];
  updatedBy: string | null;
  createdAt: string;
}

export interface KbQuery { q?: string; categoryId?: string; visibility?: string; page?: string }

/** Agents read the knowledge base (internal articles included). @throws Forbidden */
function assertAgentReader(ctx: ServiceContext): void {
  requireAgent(ctx.actor, 'Only agents may read the internal knowledge base.');
}

/** A positive id from a query or route parameter, or undefined. */
export function kbId(v: unknown): number | undefined {
  return typeof v === 'string' && /^\d{1,9}$/.test(v) && Number(v) > 0 ? Number(v) : undefined;
}

/** The search words (at most 8, each at most 50 characters). */
export function kbWords(q: string | undefined): string[] {
  return (q ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 8).map((w) => w.slice(0, 50));
}

function baseQuery(db: Db) {
  return db('kb_articles as a').join('kb_categories as c', 'c.id', 'a.category_id');
}

function applySearch(q: Knex.QueryBuilder, words: string[]): void {
  for (const w of words) q.where((o) => { whereLike(o, 'a.title', w); o.orWhere((b) => whereLike(b, 'a.body', w)); });
}

const toItem = (tz: string) => (r: any): KbListItem => ({
  id: r.id, title: r.title, excerpt: kbExcerpt(r.body), visibility: r.visibility, categoryId: r.category_id, categoryName: r.category_name,
  categoryIsPublic: dbBool(r.category_is_public), updatedAt: formatDate(dbDate(r.updated_at), tz),
});

const LIST_COLUMNS = ['a.id', 'a.title', 'a.body', 'a.visibility', 'a.category_id', 'a.updated_at', 'c.name as category_name', 'c.is_public as category_is_public'];

/** The agent panel's list: newest change first, filtered by words, category and visibility. @throws Forbidden */
export async function listKbArticlesForAgent(ctx: ServiceContext, query: KbQuery): Promise<Page<KbListItem>> {
  assertAgentReader(ctx);
  const settings = await getSettings(ctx.db);
  const q = baseQuery(ctx.db).select(LIST_COLUMNS).orderBy('a.updated_at', 'desc').orderBy('a.id', 'desc');
  const categoryId = kbId(query.categoryId);
  if (categoryId) q.where('a.category_id', categoryId);
  if ((KB_VISIBILITIES as readonly string[]).includes(query.visibility ?? '')) q.where('a.visibility', query.visibility!);
  applySearch(q, kbWords(query.q));
  return paginate(ctx.db, q, query.page, KB_PAGE_SIZE, toItem(settings.timezone));
}

async function loadArticle(db: Db, articleId: number | undefined, settings: Settings, publicOnly: boolean): Promise<KbArticleView> {
  const q = baseQuery(db).leftJoin('agents as g', 'g.id', 'a.updated_by_agent_id').where('a.id', articleId ?? 0)
    .first([...LIST_COLUMNS, 'a.created_at', 'g.name as updated_by']);
  if (publicOnly) q.whereIn('a.visibility', PUBLIC).where('c.is_public', true);
  const row = articleId ? await q : undefined;
  if (!row) throw new NotFound('We could not find that article.', 'KB_ARTICLE_NOT_FOUND');
  const topics = db('kb_articles_topics as x').join('help_topics as h', 'h.id', 'x.topic_id').where('x.article_id', row.id).orderBy('h.name').select('h.id', 'h.name');
  if (publicOnly) topics.where({ 'h.is_public': true, 'h.is_active': true });
  return {
    ...toItem(settings.timezone)(row), body: row.body, blocks: formatKbBody(row.body), topics: await topics, updatedBy: row.updated_by ?? null,
    createdAt: formatDate(dbDate(row.created_at), settings.timezone),
  };
}

/** One article for the agent panel (any visibility). @throws Forbidden, NotFound */
export async function getKbArticleForAgent(ctx: ServiceContext, articleId: number | undefined): Promise<KbArticleView> {
  assertAgentReader(ctx);
  return loadArticle(ctx.db, articleId, await getSettings(ctx.db), false);
}

/** One public article for the portal (its public, active help topics only). @throws NotFound */
export async function getPublicKbArticle(db: Db, articleId: number | undefined): Promise<KbArticleView> {
  return loadArticle(db, articleId, await getSettings(db), true);
}

export interface PublicKbCategory { id: number; name: string; description: string | null; articleCount: number }

/** The portal's index: public categories with their number of public articles (empty ones left out). */
export async function listPublicKbCategories(db: Db): Promise<PublicKbCategory[]> {
  const rows = await db('kb_categories as c').join('kb_articles as a', 'a.category_id', 'c.id').where('c.is_public', true).whereIn('a.visibility', PUBLIC)
    .groupBy('c.id', 'c.name', 'c.description', 'c.sort_order').orderBy('c.sort_order').orderBy('c.name')
    .select('c.id', 'c.name', 'c.description').count({ n: 'a.id' });
  return rows.map((r: any) => ({ id: r.id, name: r.name, description: r.description ?? null, articleCount: Number(r.n) }));
}

/** A public category and a page of its public articles (featured first, then by question). @throws NotFound */
export async function getPublicKbCategory(db: Db, categoryId: number | undefined, page: unknown): Promise<{ category: PublicKbCategory; articles: Page<KbListItem> }> {
  const c = categoryId ? await db('kb_categories').where({ id: categoryId, is_public: true }).first() : undefined;
  if (!c) throw new NotFound('We could not find that category.', 'KB_CATEGORY_NOT_FOUND');
  const settings = await getSettings(db);
  const q = baseQuery(db).select(LIST_COLUMNS).where('a.category_id', c.id).whereIn('a.visibility', PUBLIC)
    .orderByRaw("case when a.visibility = 'featured' then 0 else 1 end").orderBy('a.title').orderBy('a.id');
  const articles = await paginate(db, q, page, KB_PAGE_SIZE, toItem(settings.timezone));
  return { category: { id: c.id, name: c.name, description: c.description ?? null, articleCount: articles.total }, articles };
}

/** The portal's search: public articles of public categories with every word, by question. */
export async function searchPublicKb(db: Db, q: string | undefined, page: unknown): Promise<Page<KbListItem>> {
  const settings = await getSettings(db);
  const query = baseQuery(db).select(LIST_COLUMNS).where('c.is_public', true).whereIn('a.visibility', PUBLIC).orderBy('a.title').orderBy('a.id');
  applySearch(query, kbWords(q));
  return paginate(db, query, page, KB_PAGE_SIZE, toItem(settings.timezone));
}

/** At most this many featured articles are shown (portal home and KB index). */
export const KB_FEATURED_MAX = 10;
const featuredCache = versionCache<{ id: number; title: string }[]>(() => []);

/** The featured articles of public categories (see the module comment: read once per `kb_version`). */
export function featuredKbArticles(db: Db, settings: Pick<Settings, 'kb_version'>): Promise<{ id: number; title: string }[]> {
  return featuredCache(settings.kb_version, () => baseQuery(db).where({ 'a.visibility': 'featured', 'c.is_public': true }).orderBy('c.sort_order').orderBy('a.title').limit(KB_FEATURED_MAX)
    .select('a.id', 'a.title').then((rows: any[]) => rows.map((r) => ({ id: Number(r.id), title: String(r.title) }))));
}
