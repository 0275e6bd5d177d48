/**
 * Portal: the knowledge base at /kb — public categories, featured articles first, a search box —
 * a category's page and an article's page. Internal categories and articles answer 404 here.
 */
import { Router } from 'express';
import type { Settings } from '../../domain/settings/settings-service.ts';
import { featuredKbArticles, getPublicKbArticle, getPublicKbCategory, kbId, kbWords, listPublicKbCategories, searchPublicKb } from '../../domain/kb/kb-queries.ts';
import { type AppDeps } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { single } from '../shared/area.ts';
import { pageNav } from '../admin/admin-crud.ts';

export function portalKbRoutes(d: AppDeps): Router {
  const router = Router();
  // ## Knowledge base: index, or search results when there are words
  router.get('/kb', async (req, res) => {
    const q = single(req.query.q)?.slice(0, 200) ?? '';
    if (kbWords(q).length) {
      const results = await searchPublicKb(d.db, q, single(req.query.page));
      return render(req, res, 'portal/kb/index', { q, results: results.items, page: pageNav(results, '/kb', { q }), categories: [], featured: [] }, { title: 'Knowledge base search' });
    }
    const [categories, featured] = await Promise.all([listPublicKbCategories(d.db), featuredKbArticles(d.db, res.locals.settings as Settings)]);
    await render(req, res, 'portal/kb/index', { q, results: null, page: null, categories, featured }, { title: 'Knowledge base' });
  });
  router.get('/kb/c/:id', async (req, res) => {
    const { category, articles } = await getPublicKbCategory(d.db, kbId(req.params.id), single(req.query.page));
    await render(req, res, 'portal/kb/category', { category, articles: articles.items, page: pageNav(articles, `/kb/c/${category.id}`, {}) }, { title: category.name });
  });
  router.get('/kb/:id', async (req, res) => {
    const article = await getPublicKbArticle(d.db, kbId(req.params.id));
    const topicId = article.topics[0]?.id;
    await render(req, res, 'portal/kb/article', { article, openTicketUrl: topicId ? `/tickets/new?topicId=${topicId}` : '/tickets/new' }, { title: article.title });
  });
  return router;
}
