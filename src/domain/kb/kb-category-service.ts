/**
 * Knowledge base categories (osTicket's FAQ categories): a name, a description, public or internal
 * (an internal category and all its articles are for agents only) and a sort order. Admins manage
 * them in the admin area (the shared CRUD pattern); a category with articles cannot be deleted.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { writeSettings } from '../settings/settings-service.ts';
import { optionalText, requiredText } from '../validation.ts';
import {
  assertAdmin, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

export interface KbCategory {
  id: number;
  name: string;
  description: string | null;
  isPublic: boolean;
  sortOrder: number;
}

export const toKbCategory = (r: any): KbCategory => ({ id: r.id, name: r.name, description: r.description ?? null, isPublic: dbBool(r.is_public), sortOrder: Number(r.sort_order ?? 0) });

export const kbCategorySpec: CatalogSpec<KbCategory> = {
  table: 'kb_categories', entity: 'kb_category', label: 'category', usedBy: [{ table: 'kb_articles', column: 'category_id', label: 'article' }], toDomain: toKbCategory,
};

export const KbCategoryInput = z.object({
  name: requiredText(120, 'Name'),
  description: optionalText(2000, 'Description'),
  visibility: z.enum(['public', 'internal'], { error: 'Choose public or internal' }),
  sortOrder: z.preprocess((v) => (v === '' || v === undefined ? 0 : v), z.coerce.number({ error: 'Sort order: enter a whole number' }).int('Sort order: enter a whole number').min(-9999, 'Sort order: at least -9999').max(9999, 'Sort order: at most 9999')),
});
export type KbCategoryInput = FormInput<typeof KbCategoryInput>;
type Parsed = z.output<typeof KbCategoryInput>;

const toRow = (v: Parsed) => ({ name: v.name, description: v.description ?? null, is_public: v.visibility === 'public', sort_order: v.sortOrder });

/**
 * Every change of the knowledge base writes a new `kb_version` into the settings (read with every
 * request anyway), so each process knows when to read the featured articles again (kb-queries.ts).
 */
export async function kbChanged(trx: Knex | Knex.Transaction, now: Date): Promise<void> {
  await writeSettings(trx, { kb_version: crypto.randomUUID() }, now);
}

function validate(ctx: ServiceContext, raw: KbCategoryInput, exceptId?: number): Promise<Parsed> {
  return validateForm(KbCategoryInput, raw, (v) => [() => assertUnique(ctx.db, kbCategorySpec, 'name', v.name, exceptId)]);
}

/** Every category in display order, with its number of articles. @throws Forbidden */
export async function listKbCategories(ctx: ServiceContext): Promise<(KbCategory & { articleCount: number })[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('kb_categories as c').orderBy('c.sort_order').orderBy('c.name')
    .select('c.*', ctx.db('kb_articles as a').whereRaw('a.category_id = c.id').count('*').as('article_count'));
  return rows.map((r: any) => ({ ...toKbCategory(r), articleCount: Number(r.article_count) }));
}

/** @throws Forbidden, NotFound */
export async function getKbCategory(ctx: ServiceContext, categoryId: number): Promise<KbCategory> {
  assertAdmin(ctx);
  return toKbCategory(await loadRow(ctx.db, kbCategorySpec, categoryId));
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createKbCategory(ctx: ServiceContext, raw: KbCategoryInput): Promise<KbCategory> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, kbCategorySpec, 'name', input.name);
    const now = ctx.clock();
    const [categoryId] = await trx('kb_categories').insert({ ...toRow(input), created_at: toDbDate(now), updated_at: toDbDate(now) });
    const category = toKbCategory({ ...toRow(input), id: categoryId });
    await recordAudit(ctx, trx, { action: 'kb_category.create', entity: 'kb_category', entityId: categoryId, after: category });
    await kbChanged(trx, now);
    return category;
  }), () => nameTaken('category'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateKbCategory(ctx: ServiceContext, categoryId: number, raw: KbCategoryInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, categoryId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, kbCategorySpec, 'name', input.name, categoryId);
    const before = toKbCategory(await loadRow(trx, kbCategorySpec, categoryId));
    const now = ctx.clock();
    await trx('kb_categories').where({ id: categoryId }).update({ ...toRow(input), updated_at: toDbDate(now) });
    await recordAudit(ctx, trx, { action: 'kb_category.update', entity: 'kb_category', entityId: categoryId, ...changes({ ...before }, { ...toKbCategory({ ...toRow(input), id: categoryId }) }) });
    await kbChanged(trx, now);
  }), () => nameTaken('category'));
}

/** Deletes a category without articles. @throws Forbidden, NotFound, Conflict IN_USE */
export function deleteKbCategory(ctx: ServiceContext, categoryId: number): Promise<void> {
  return deleteCatalogRow(ctx, kbCategorySpec, categoryId, (trx) => kbChanged(trx, ctx.clock()));
}

/** Categories for the article form's select (agents read them; internal ones marked). */
export async function kbCategoryChoices(db: Knex | Knex.Transaction): Promise<KbCategory[]> {
  return (await db('kb_categories').orderBy('sort_order').orderBy('name')).map(toKbCategory);
}
