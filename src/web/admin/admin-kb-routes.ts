/** Admin: knowledge base categories (the shared CRUD pattern; the articles are in the agent panel at /scp/kb). */
import { Router } from 'express';
import * as categories from '../../domain/kb/kb-category-service.ts';
import { crudRoutes, type CrudConfig } from './admin-crud.ts';

const VISIBILITY_OPTIONS = [{ value: 'public', label: 'Public: shown in the portal' }, { value: 'internal', label: 'Internal: agents only (with all its articles)' }];

const kbCategoryConfig: CrudConfig = {
  path: 'kb-categories', title: 'Knowledge base categories', singular: 'category', columns: ['Name', 'Visibility', 'Order', 'Articles'],
  defaults: { visibility: 'public', sortOrder: '0' },
  list: async (ctx) => ({
    rows: (await categories.listKbCategories(ctx)).map((c) => ({
      id: c.id, isActive: true, status: 'Active', cells: [c.name, c.isPublic ? 'Public' : 'Internal', String(c.sortOrder), String(c.articleCount)],
    })),
  }),
  fields: async () => [
    { name: 'name', label: 'Name', required: true, maxlength: 120 },
    { name: 'description', label: 'Description', type: 'textarea', maxlength: 2000, hint: 'Shown under the name in the portal.' },
    { name: 'visibility', label: 'Visibility', type: 'select', options: VISIBILITY_OPTIONS },
    { name: 'sortOrder', label: 'Sort order', type: 'number', hint: 'Lower numbers come first; then by name.' },
  ],
  load: async (ctx, id) => {
    const c = await categories.getKbCategory(ctx, id);
    return { values: { ...c, visibility: c.isPublic ? 'public' : 'internal' }, name: c.name, isActive: true };
  },
  create: categories.createKbCategory,
  update: categories.updateKbCategory,
  remove: categories.deleteKbCategory,
};

export function adminKbRoutes(): Router {
  return crudRoutes(kbCategoryConfig);
}
