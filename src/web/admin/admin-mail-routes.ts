/** Admin: the mail log (outbox) with retry and discard. */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { ctxFrom } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { idParam, single } from '../shared/area.ts';
import { pageNav } from './admin-crud.ts';
import { MAIL_STATUSES, discardMail, getMailLogEntry, listMailLog, retryMail } from '../../domain/mail/mail-log-service.ts';


export function adminMailRoutes(_d: AppDeps): Router {
  const router = Router();
  router.get('/mail', async (req, res) => {
    const log = await listMailLog(ctxFrom(req, res), { status: single(req.query.status), page: single(req.query.page) });
    const page = pageNav(log, '/scp/admin/mail', { status: log.status ?? undefined });
    await render(req, res, 'admin/mail/list', { items: log.items, status: log.status, statuses: MAIL_STATUSES, page }, { title: 'Mail log' });
  });
  router.get('/mail/:id', async (req, res) => {
    const mail = await getMailLogEntry(ctxFrom(req, res), idParam(req));
    await render(req, res, 'admin/mail/show', { mail }, { title: `Mail #${mail.id}` });
  });
  router.post('/mail/:id/retry', async (req, res) => {
    const id = idParam(req);
    await retryMail(ctxFrom(req, res), id);
    flash(req, 'success', 'The message is queued and will be sent again.');
    res.redirect(303, `/scp/admin/mail/${id}`);
  });
  router.post('/mail/:id/discard', async (req, res) => {
    const id = idParam(req);
    await discardMail(ctxFrom(req, res), id);
    flash(req, 'success', 'The message was discarded and will not be sent.');
    res.redirect(303, `/scp/admin/mail/${id}`);
  });
  return router;
}
