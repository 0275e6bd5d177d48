/**
 * Agent panel: the knowledge base at /scp/kb. Every agent lists, searches and reads the articles
 * (internal ones too); admins write and delete them (the services check; the pages only hide the
 * buttons). Deleting asks first, on its own page, so it works without JavaScript.
 */
import { Router, type Request, type Response } from 'express';
import { ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import { isAdmin } from '../../domain/actor.ts';
import * as articles from '../../domain/kb/kb-article-service.ts';
import { getKbArticleForAgent, kbId, listKbArticlesForAgent } from '../../domain/kb/kb-queries.ts';
import { kbCategoryChoices } from '../../domain/kb/kb-category-service.ts';
import { actorOf, ctxFrom, type AppDeps } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { single } from '../shared/area.ts';
import { pageNav } from '../admin/admin-crud.ts';
import type { FieldSpec } from '../admin/admin-crud.ts';

const VISIBILITY_LABELS: Record<string, string> = { public: 'Public', featured: 'Featured', internal: 'Internal' };

/** The article form's fields (the admin field partial draws them). */
async function articleFields(req: Request, res: Response): Promise<FieldSpec[]> {
  const c = await articles.getKbArticleFormChoices(ctxFrom(req, res));
  return [
    { name: 'title', label: 'Question', required: true, maxlength: 191 },
    { name: 'categoryId', label: 'Category', type: 'select', required: true, options: [{ value: '', label: '— Choose a category —' }, ...c.categories.map((x) => ({ value: x.id, label: x.isPublic ? x.name : `${x.name} (internal)` }))] },
    { name: 'visibility', label: 'Who may read it', type: 'select', options: [{ value: 'public', label: 'Public: in the portal' }, { value: 'featured', label: 'Featured: in the portal, shown first and on its home page' }, { value: 'internal', label: 'Internal: agents only' }] },
    { name: 'body', label: 'Answer', type: 'textarea', required: true, maxlength: articles.KB_BODY_MAX, hint: 'Plain text. A blank line starts a new paragraph; lines starting with "- " make a list; **bold**; web addresses become links.' },
    { name: 'topicIds', label: 'Related help topics', type: 'checkboxes', options: c.topics.map((t) => ({ value: t.id, label: t.isActive ? t.name : `${t.name} (disabled)` })), hint: 'In the portal, “Open a ticket” under the article preselects the first of them.' },
  ];
}

async function renderForm(req: Request, res: Response, id: number | null, values: Record<string, unknown>, errors: FieldErrors = {}, status = 200): Promise<void> {
  const fields = await articleFields(req, res);
  const title = id ? 'Edit article' : 'New article';
  await render(req, res, 'scp/kb/form', { fields, values, errors, action: id ? `/scp/kb/${id}` : '/scp/kb', cancel: id ? `/scp/kb/${id}` : '/scp/kb' }, { title, status });
}

/** POST handler of the form: saved → the article's page; invalid → the form again with the input kept (422). */
async function saveForm(req: Request, res: Response, id: number | null): Promise<void> {
  const ctx = ctxFrom(req, res);
  const body = { ...(req.body ?? {}) } as Record<string, unknown>;
  delete body._csrf;
  try {
    const saved = id ? (await articles.updateKbArticle(ctx, id, body), { id }) : await articles.createKbArticle(ctx, body);
    flash(req, 'success', id ? 'Your changes were saved.' : 'The article was created.');
    res.redirect(303, `/scp/kb/${saved.id}`);
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    await renderForm(req, res, id, body, err.fields, 422);
  }
}

/** The :id of the route, or 0 (which no article has: the service answers NotFound). */
const idOf = (req: Request) => kbId(req.params.id) ?? 0;

export function scpKbRoutes(_d: AppDeps): Router {
  const router = Router();
  // ## Knowledge base: list and search
  router.get('/kb', async (req, res) => {
    const query = { q: single(req.query.q)?.slice(0, 200), categoryId: single(req.query.category), visibility: single(req.query.visibility), page: single(req.query.page) };
    const ctx = ctxFrom(req, res);
    const page = await listKbArticlesForAgent(ctx, query);
    const categories = await kbCategoryChoices(ctx.db);
    const filtered = !!(query.q || kbId(query.categoryId) || VISIBILITY_LABELS[query.visibility ?? '']);
    await render(req, res, 'scp/kb/index', {
      articles: page.items, page: pageNav(page, '/scp/kb', { q: query.q, category: query.categoryId, visibility: query.visibility }), categories, visibilityLabels: VISIBILITY_LABELS,
      query: { q: query.q ?? '', category: query.categoryId ?? '', visibility: query.visibility ?? '' }, filtered, canEdit: isAdmin(actorOf(res)),
    }, { title: 'Knowledge base' });
  });
  // ## Create
  router.get('/kb/new', async (req, res) => renderForm(req, res, null, { visibility: 'public', categoryId: single(req.query.category) ?? '' }));
  router.post('/kb', async (req, res) => saveForm(req, res, null));
  // ## Read
  router.get('/kb/:id', async (req, res) => {
    const article = await getKbArticleForAgent(ctxFrom(req, res), idOf(req));
    await render(req, res, 'scp/kb/show', { article, visibilityLabel: VISIBILITY_LABELS[article.visibility], canEdit: isAdmin(actorOf(res)) }, { title: article.title });
  });
  // ## Edit
  router.get('/kb/:id/edit', async (req, res) => {
    const a = await articles.getKbArticleForEdit(ctxFrom(req, res), idOf(req));
    await renderForm(req, res, a.id, { ...a });
  });
  router.post('/kb/:id', async (req, res) => saveForm(req, res, idOf(req)));
  // ## Delete: a confirmation page, then the POST (which without confirm=yes only shows that page)
  router.get('/kb/:id/delete', async (req, res) => {
    const a = await articles.getKbArticleForEdit(ctxFrom(req, res), idOf(req));
    await render(req, res, 'scp/kb/delete', { article: a }, { title: 'Delete article' });
  });
  router.post('/kb/:id/delete', async (req, res) => {
    const ctx = ctxFrom(req, res);
    try {
      await articles.deleteKbArticle(ctx, idOf(req), { confirm: single(req.body?.confirm) });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      return render(req, res, 'scp/kb/delete', { article: await articles.getKbArticleForEdit(ctx, idOf(req)), errors: err.fields }, { title: 'Delete article', status: 422 });
    }
    flash(req, 'success', 'The article was deleted.');
    res.redirect(303, '/scp/kb');
  });
  return router;
}
