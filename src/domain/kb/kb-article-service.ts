/**
 * Knowledge base articles (osTicket's FAQs): a question, its answer (plain text with light
 * formatting, kb-format.ts), a category, a visibility — public, featured (public and shown first, on
 * the portal's home page too) or internal (agents only) — and the help topics it relates to. Every
 * agent reads them in the agent panel; administrators write them (osTicket's `faq.manage`: Tessera
 * has two roles, and admin is the one that manages shared content such as canned responses).
 * Each change is one transaction with its audit row and a new `kb_version` (kbChanged).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { NotFound, ValidationFailed } from '../errors.ts';
import { id, requiredText } from '../validation.ts';
import { assertAdmin, assertRefs, changes, idList, validateForm, type FormInput } from '../admin/admin-support.ts';
import { kbChanged } from './kb-category-service.ts';

type Db = Knex | Knex.Transaction;

export const KB_VISIBILITIES = ['public', 'featured', 'internal'] as const;
export type KbVisibility = (typeof KB_VISIBILITIES)[number];
/** The most characters an answer may have (a TEXT column holds 64 KiB on MySQL: 20,000 four-byte characters fit). */
export const KB_BODY_MAX = 15_000;

export const KbArticleInput = z.object({
  title: requiredText(191, 'Question'),
  body: z.preprocess((v) => (typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v), requiredText(KB_BODY_MAX, 'Answer')),
  categoryId: z.preprocess((v) => (v === '' ? undefined : v), id.optional()).refine((v) => v !== undefined, 'Choose a category'),
  visibility: z.enum(KB_VISIBILITIES, { error: 'Choose who may read it' }),
  topicIds: idList,
});
export type KbArticleInput = FormInput<typeof KbArticleInput>;
type Parsed = z.output<typeof KbArticleInput>;

/** What the audit log keeps of an article. */
interface ArticleSnapshot { title: string; body: string; categoryId: number; visibility: string; topicIds: number[] }

function validate(ctx: ServiceContext, raw: KbArticleInput): Promise<Parsed> {
  return validateForm(KbArticleInput, raw, (v) => [
    () => assertRefs(ctx.db, [['categoryId', 'kb_categories', v.categoryId], ['topicIds', 'help_topics', v.topicIds]]),
  ]);
}

const snapshotOf = (v: Parsed): ArticleSnapshot => ({ title: v.title, body: v.body, categoryId: Number(v.categoryId), visibility: v.visibility, topicIds: v.topicIds });

async function loadSnapshot(db: Db, articleId: number): Promise<ArticleSnapshot> {
  const row = Number.isInteger(articleId) && articleId > 0 ? await db('kb_articles').where({ id: articleId }).first() : undefined;
  if (!row) throw new NotFound('That article does not exist.', 'KB_ARTICLE_NOT_FOUND');
  const topicIds = (await db('kb_articles_topics').where({ article_id: articleId }).orderBy('topic_id').pluck('topic_id')).map(Number);
  return { title: row.title, body: row.body, categoryId: Number(row.category_id), visibility: row.visibility, topicIds };
}

async function writeTopics(trx: Knex.Transaction, articleId: number, topicIds: number[]): Promise<void> {
  await trx('kb_articles_topics').where({ article_id: articleId }).delete();
  if (topicIds.length) await trx('kb_articles_topics').insert(topicIds.map((topic_id) => ({ article_id: articleId, topic_id })));
}

/** Writes a new article. @throws Forbidden, ValidationFailed */
export async function createKbArticle(ctx: ServiceContext, raw: KbArticleInput): Promise<{ id: number }> {
  const agent = assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock();
    const [articleId] = await trx('kb_articles').insert({
      title: input.title, body: input.body, category_id: input.categoryId, visibility: input.visibility, updated_by_agent_id: agent.id, created_at: toDbDate(now), updated_at: toDbDate(now),
    });
    await writeTopics(trx, articleId, input.topicIds);
    await recordAudit(ctx, trx, { action: 'kb_article.create', entity: 'kb_article', entityId: articleId, after: snapshotOf(input) });
    await kbChanged(trx, now);
    return { id: articleId };
  });
}

/** Changes an article; the acting admin becomes its "updated by". @throws Forbidden, NotFound, ValidationFailed */
export async function updateKbArticle(ctx: ServiceContext, articleId: number, raw: KbArticleInput): Promise<void> {
  const agent = assertAdmin(ctx);
  await loadSnapshot(ctx.db, articleId);
  const input = await validate(ctx, raw);
  await inTransaction(ctx, async (trx) => {
    const before = await loadSnapshot(trx, articleId);
    const now = ctx.clock();
    await trx('kb_articles').where({ id: articleId }).update({
      title: input.title, body: input.body, category_id: input.categoryId, visibility: input.visibility, updated_by_agent_id: agent.id, updated_at: toDbDate(now),
    });
    await writeTopics(trx, articleId, input.topicIds);
    await recordAudit(ctx, trx, { action: 'kb_article.update', entity: 'kb_article', entityId: articleId, ...changes({ ...before }, { ...snapshotOf(input) }) });
    await kbChanged(trx, now);
  });
}

/**
 * Deletes an article (its topic links go with it), once the admin confirmed it (`confirm: 'yes'`, the
 * confirmation page's button). @throws Forbidden, ValidationFailed (not confirmed), NotFound
 */
export async function deleteKbArticle(ctx: ServiceContext, articleId: number, raw: { confirm?: unknown }): Promise<void> {
  assertAdmin(ctx);
  if (raw.confirm !== 'yes') throw new ValidationFailed({ confirm: 'Confirm that the article should be deleted.' });
  await inTransaction(ctx, async (trx) => {
    const before = await loadSnapshot(trx, articleId);
    await trx('kb_articles_topics').where({ article_id: articleId }).delete();
    await trx('kb_articles').where({ id: articleId }).delete();
    await recordAudit(ctx, trx, { action: 'kb_article.delete', entity: 'kb_article', entityId: articleId, before });
    await kbChanged(trx, ctx.clock());
  });
}

/** What the article form offers, for an admin: the categories and the help topics (by name). @throws Forbidden */
export async function getKbArticleFormChoices(ctx: ServiceContext): Promise<{ categories: { id: number; name: string; isPublic: boolean }[]; topics: { id: number; name: string; isActive: boolean }[] }> {
  assertAdmin(ctx);
  const [categories, topics] = await Promise.all([
    ctx.db('kb_categories').orderBy('sort_order').orderBy('name').select('id', 'name', 'is_public'),
    ctx.db('help_topics').orderBy('name').select('id', 'name', 'is_active'),
  ]);
  return {
    categories: categories.map((c: any) => ({ id: c.id, name: c.name, isPublic: dbBool(c.is_public) })),
    topics: topics.map((h: any) => ({ id: h.id, name: h.name, isActive: dbBool(h.is_active) })),
  };
}

/** An article as its edit form shows it. @throws Forbidden, NotFound */
export async function getKbArticleForEdit(ctx: ServiceContext, articleId: number): Promise<ArticleSnapshot & { id: number }> {
  assertAdmin(ctx);
  return { id: articleId, ...(await loadSnapshot(ctx.db, articleId)) };
}
