/**
 * Admin: webhooks on the shared CRUD pattern (list, new, edit, disable/enable, delete), with "Rotate
 * secret" and "Send test ping" as extra actions, and each webhook's delivery log (with "Redeliver").
 * The signing secret is shown on the webhook's own page, which is never cached.
 */
import { Router } from 'express';
import * as hooks from '../../domain/webhooks/webhook-service.ts';
import * as log from '../../domain/webhooks/webhook-log-service.ts';
import { WEBHOOK_EVENTS, WEBHOOK_EVENT_NAMES, eventLabel } from '../../domain/webhooks/webhook-events.ts';
import { ctxFrom } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { idParam, single } from '../shared/area.ts';
import { crudRoutes, pageNav, type CrudConfig, type FieldSpec } from './admin-crud.ts';

const FIELDS: FieldSpec[] = [
  { name: 'name', label: 'Name', required: true, maxlength: 120, hint: 'What it is for, e.g. "Slack #support" or "CRM sync".' },
  { name: 'url', label: 'Payload URL', type: 'text', required: true, maxlength: hooks.URL_MAX, hint: 'An http:// or https:// address; Tessera POSTs JSON to it. Redirects are not followed.' },
  {
    name: 'events', label: 'Events', type: 'checkboxes', hint: 'Each ticket change of a ticked kind is sent (see docs/WEBHOOKS.md for the payload).',
    options: WEBHOOK_EVENT_NAMES.map((e) => ({ value: e, label: WEBHOOK_EVENTS[e].label, group: WEBHOOK_EVENTS[e].group })),
  },
  { name: 'isActive', label: 'Active (send deliveries)', type: 'checkbox' },
];

/** The events of a webhook, short: the labels when few, else how many. */
function eventsText(events: string[]): string {
  if (events.length === WEBHOOK_EVENT_NAMES.length) return 'All events';
  return events.length <= 3 ? events.map(eventLabel).join(', ') : `${events.length} events`;
}

const config: CrudConfig = {
  path: 'webhooks', title: 'Webhooks', singular: 'webhook', columns: ['Name', 'URL', 'Events', 'Last delivery'],
  defaults: { isActive: true, events: ['created'] },
  list: async (ctx) => ({
    rows: (await hooks.listWebhooks(ctx)).map((h) => ({ id: h.id, isActive: h.isActive, cells: [h.name, h.url, eventsText(h.events), h.lastStatus ?? 'None yet'] })),
  }),
  fields: async () => FIELDS,
  load: async (ctx, id) => {
    const h = await hooks.getWebhook(ctx, id);
    return {
      values: { name: h.name, url: h.url, events: h.events, isActive: h.isActive },
      name: h.name, isActive: h.isActive,
      facts: [
        ['Signing secret', h.secret],
        ['Signature', 'X-Tessera-Signature: sha256= + hex HMAC-SHA256(secret, X-Tessera-Timestamp + "." + body)'],
        ['Deliveries', 'Delivery log', `/scp/admin/webhooks/${h.id}/deliveries`],
      ],
    };
  },
  create: hooks.createWebhook,
  update: hooks.updateWebhook,
  setActive: hooks.setWebhookActive,
  remove: hooks.deleteWebhook,
  actions: [
    { name: 'ping', label: 'Send test ping', when: (item) => item.isActive, run: log.sendWebhookPing, done: 'A test ping is queued: it goes out within seconds (see the delivery log).' },
    {
      name: 'rotate-secret', label: 'Rotate secret', confirm: 'Make a new signing secret? The current one stops working at once: update the receiver too.',
      run: hooks.rotateWebhookSecret, done: 'The webhook has a new signing secret.',
    },
  ],
};


export function adminWebhookRoutes(): Router {
  const router = Router();
  // Every webhook page may show its signing secret: never kept by a browser or a proxy.
  router.use('/webhooks', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  // ## Delivery log
  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const ctx = ctxFrom(req, res);
    const id = idParam(req, 'id');
    const hook = await hooks.getWebhook(ctx, id);
    const list = await log.listDeliveries(ctx, id, { status: single(req.query.status), page: single(req.query.page) });
    const base = `/scp/admin/webhooks/${id}/deliveries`;
    await render(req, res, 'admin/webhooks/deliveries', { hook, items: list.items, status: list.status, statuses: log.DELIVERY_STATUSES, page: pageNav(list, base, { status: list.status ?? undefined }) }, { title: `Deliveries: ${hook.name}` });
  });
  router.get('/webhooks/:id/deliveries/:deliveryId', async (req, res) => {
    const ctx = ctxFrom(req, res);
    const hook = await hooks.getWebhook(ctx, idParam(req, 'id'));
    const delivery = await log.getDelivery(ctx, hook.id, idParam(req, 'deliveryId'));
    await render(req, res, 'admin/webhooks/delivery', { hook, delivery }, { title: `Delivery #${delivery.id}` });
  });
  router.post('/webhooks/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    const [id, deliveryId] = [idParam(req, 'id'), idParam(req, 'deliveryId')];
    await log.redeliverWebhookDelivery(ctxFrom(req, res), id, deliveryId);
    flash(req, 'success', 'The delivery is queued and will be sent again within seconds.');
    res.redirect(303, `/scp/admin/webhooks/${id}/deliveries/${deliveryId}`);
  });
  router.use(crudRoutes(config));
  return router;
}
