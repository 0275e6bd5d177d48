/** Admin: email templates — the notifications' wording (list, edit with preview, reset to the built-in text). */
import { Router, type Request, type Response } from 'express';
import { NotFound, ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import type { RenderedMail } from '../../mail/mail-render.ts';
import { getMailTemplate, listMailTemplates, previewMailTemplate, resetMailTemplate, saveMailTemplate } from '../../domain/mail/mail-template-service.ts';
import { ctxFrom } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';

const BASE = '/scp/admin/mail-templates';

function nameParam(req: Request): string {
  const s = String(req.params.name);
  if (!/^[a-z][a-z-]{0,63}$/.test(s)) throw new NotFound('We could not find that page.');
  return s;
}

/** The form's two fields as typed (anything but text is shown as empty). */
function typed(req: Request): { subject: string; body: string } {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return { subject: text(req.body?.subject), body: text(req.body?.body) };
}

async function showEdit(req: Request, res: Response, extra: { values?: { subject: string; body: string }; errors?: FieldErrors; preview?: RenderedMail; status?: number } = {}) {
  const tpl = await getMailTemplate(ctxFrom(req, res), nameParam(req));
  await render(req, res, 'admin/mail-templates/edit', {
    base: BASE, tpl, values: extra.values ?? tpl.values, errors: extra.errors ?? {}, preview: extra.preview ?? tpl.current, previewOfTyped: !!extra.preview,
  }, { title: `Email template: ${tpl.label}`, status: extra.status });
}

export function adminMailTemplateRoutes(): Router {
  const router = Router();
  // ## Email templates
  router.get('/mail-templates', async (req, res) => {
    await render(req, res, 'admin/mail-templates/list', { base: BASE, items: await listMailTemplates(ctxFrom(req, res)) }, { title: 'Email templates' });
  });
  router.get('/mail-templates/:name', (req, res) => showEdit(req, res));
  router.post('/mail-templates/:name', async (req, res) => {
    const name = nameParam(req);
    try {
      await saveMailTemplate(ctxFrom(req, res), name, typed(req));
    } catch (err) {
      if (err instanceof ValidationFailed) return showEdit(req, res, { values: typed(req), errors: err.fields, status: 422 });
      throw err;
    }
    flash(req, 'success', 'The template was saved; the next mail of this kind uses it.');
    res.redirect(303, `${BASE}/${name}`);
  });
  router.post('/mail-templates/:name/preview', async (req, res) => {
    try {
      const preview = await previewMailTemplate(ctxFrom(req, res), nameParam(req), typed(req));
      await showEdit(req, res, { values: typed(req), preview });
    } catch (err) {
      if (err instanceof ValidationFailed) return showEdit(req, res, { values: typed(req), errors: err.fields, status: 422 });
      throw err;
    }
  });
  router.post('/mail-templates/:name/reset', async (req, res) => {
    const name = nameParam(req);
    await resetMailTemplate(ctxFrom(req, res), name);
    flash(req, 'success', 'The template is back to the built-in text.');
    res.redirect(303, `${BASE}/${name}`);
  });
  return router;
}
