/**
 * Admin: API keys (list, new, edit note/address/permissions, disable, enable, delete) on the shared
 * CRUD pattern. Creating a key answers with the key itself, once, on a page that is never cached:
 * it is not put in the session for a redirect, so it is stored nowhere but as its hash.
 */
import { Router } from 'express';
import * as keys from '../../domain/api-keys/api-key-service.ts';
import { ValidationFailed } from '../../domain/errors.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { formatDate } from '../../domain/tickets/ticket-presenters.ts';
import type { AppDeps } from '../shared/deps.ts';
import { ctxFrom } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { crudRoutes, type CrudConfig, type FieldSpec } from './admin-crud.ts';

const yesNo = (b: boolean) => (b ? 'Yes' : 'No');
/** A date as agent pages show it, in the help desk's zone; 'Never' for none. */
const when = (d: Date | null, zone: string) => (d ? formatDate(d, zone) : 'Never');

const FIELDS: FieldSpec[] = [
  { name: 'allowedIp', label: 'Allowed source address', required: true, maxlength: 64, hint: 'The key works only from this address (10.0.0.5), range (10.0.0.0/24 or 2001:db8::/32), or * for anywhere.' },
  { name: 'note', label: 'Note', maxlength: 255, hint: 'What the key is for, e.g. the system that uses it.' },
  { name: 'canCreateTickets', label: 'May create tickets (POST /api/tickets.json, .xml, .email)', type: 'checkbox' },
  { name: 'canManageTickets', label: 'May read and manage tickets (the JSON API at /api/v1)', type: 'checkbox' },
];

const config: CrudConfig = {
  path: 'api-keys', title: 'API keys', singular: 'API key', columns: ['Key', 'Note', 'Allowed from', 'Create', 'Manage', 'Last used'],
  defaults: { canCreateTickets: true },
  list: async (ctx) => {
    const { timezone } = await getSettings(ctx.db);
    return {
      rows: (await keys.listApiKeys(ctx)).map((k) => ({
        id: k.id, isActive: k.isActive, cells: [`${k.prefix}…`, k.note ?? '', k.allowedIp, yesNo(k.canCreateTickets), yesNo(k.canManageTickets), when(k.lastUsedAt, timezone)],
      })),
    };
  },
  fields: async () => FIELDS,
  load: async (ctx, id) => {
    const k = await keys.getApiKey(ctx, id);
    const { timezone } = await getSettings(ctx.db);
    return {
      values: { allowedIp: k.allowedIp, note: k.note, canCreateTickets: k.canCreateTickets, canManageTickets: k.canManageTickets },
      name: `${k.prefix}…`, isActive: k.isActive,
      facts: [['Key', `${k.prefix}… (the whole key was shown once, when it was created)`], ['Created', when(k.createdAt, timezone)], ['Last used', when(k.lastUsedAt, timezone)]],
    };
  },
  create: async () => {
    throw new Error('API keys are created by the route below');
  },
  update: (ctx, id, body) => keys.updateApiKey(ctx, { ...body, keyId: id }),
  setActive: keys.setApiKeyActive,
  remove: keys.deleteApiKey,
};

export function adminApiKeyRoutes(_d: AppDeps): Router {
  const router = Router();
  // ## Create: the key is shown on this response only.
  router.post(['/api-keys', '/api-keys/new'], async (req, res) => {
    const { _csrf, ...body } = (req.body ?? {}) as Record<string, unknown>;
    try {
      const created = await keys.createApiKey(ctxFrom(req, res), body as keys.CreateApiKeyInput);
      res.set('Cache-Control', 'no-store');
      await render(req, res, 'admin/api-keys/created', { keyId: created.id, apiKey: created.key }, { title: 'API key created', status: 201 });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const cfg = { base: '/scp/admin/api-keys', title: config.title };
      await render(req, res, 'admin/crud/form', { cfg, heading: 'New API key', action: cfg.base, fields: FIELDS, item: null, itemId: null, actions: [], values: body, errors: err.fields }, { title: 'New API key', status: 422 });
    }
  });
  router.use(crudRoutes(config));
  return router;
}
