/** Portal: my tickets, open a ticket, check status, the user's ticket page, replies, attachments. */
import { Router, type Request, type Response } from 'express';
import multer from 'multer';
import { actorOf, ctxFrom, type AppDeps } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { formRateLimited, rateLimitedText, single } from '../shared/area.ts';
import { regenerateSession, saveSession } from '../shared/session.ts';
import { sendAttachment } from '../shared/send-attachment.ts';
import { Forbidden, InvalidTransition, ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import type { Settings } from '../../domain/settings/settings-service.ts';
import type { UploadedFile } from '../../domain/tickets/attachment-service.ts';
import * as portal from '../../domain/tickets/ticket-portal-service.ts';

type Model = { errors?: FieldErrors; values?: Record<string, unknown>; filesDropped?: boolean };

/**
 * Lets this browser session read `ticketId` as `userId`: a new session id, keeping earlier tickets of
 * the same user (and their sign-in, when they signed in with their email).
 */
async function grantTicketAccess(req: Request, access: { userId: number; ticketId: number }): Promise<void> {
  const same = req.session.userId === access.userId;
  const earlier = same ? (req.session.ticketIds ?? []) : [];
  const signedIn = same && req.session.allTickets === true;
  await regenerateSession(req);
  req.session.userId = access.userId;
  req.session.ticketIds = [...new Set([...earlier, access.ticketId])].slice(-50);
  if (signedIn) req.session.allTickets = true;
  await saveSession(req);
}

function attachmentHint(s: Settings): string {
  if (s.attachment_max_count === 0) return '';
  const mb = Math.round((s.attachment_max_bytes / 1024 / 1024) * 10) / 10;
  const types = s.attachment_allowed_types.length ? ` Allowed types: ${s.attachment_allowed_types.join(', ')}.` : '';
  return `Up to ${s.attachment_max_count} files, at most ${mb} MB each.${types}`;
}

/**
 * Parses a multipart body into memory with the limits from the settings. A refused upload does not
 * throw: it comes back as a message for the form (413 too large, 422 too many or unexpected).
 */
async function receiveUploads(req: Request, res: Response, opts: { dropFiles?: boolean } = {}): Promise<{ files: UploadedFile[]; hadFiles: boolean; error?: { status: number; message: string } }> {
  const s = res.locals.settings as Settings;
  // dropFiles: the fields only (a refused request keeps what was typed); each file is read past, not kept.
  let dropped = false;
  const upload = multer({
    storage: multer.memoryStorage(),
    defParamCharset: 'utf8',
    ...(opts.dropFiles ? { fileFilter: (_req: Request, _file: Express.Multer.File, cb: (e: null, keep: boolean) => void) => ((dropped = true), cb(null, false)) } : {}),
    limits: { fileSize: s.attachment_max_bytes, files: s.attachment_max_count, fields: FORM_FIELDS_MAX, fieldSize: 512 * 1024, parts: FORM_FIELDS_MAX + s.attachment_max_count },
  }).array('attachments');
  const err = await new Promise<any>((resolve) => upload(req, res, (e?: unknown) => resolve(e)));
  const files = ((req.files as Express.Multer.File[] | undefined) ?? []).map((f) => ({ filename: f.originalname, contentType: f.mimetype, data: f.buffer }));
  if (!err) return { files, hadFiles: files.length > 0 || dropped };
  const mb = Math.round((s.attachment_max_bytes / 1024 / 1024) * 10) / 10;
  const error =
    err.code === 'LIMIT_FILE_SIZE' ? { status: 413, message: `"${err.filename ?? 'A file'}" is larger than ${mb} MB. Attach a smaller file.` }
    : err.code === 'LIMIT_FILE_COUNT' ? { status: 422, message: s.attachment_max_count ? `Attach at most ${s.attachment_max_count} files.` : 'Attachments are not accepted.' }
    : typeof err.code === 'string' && err.code.startsWith('LIMIT_') ? { status: 422, message: 'The form was too large or had an unexpected field. Please try again.' }
    : { status: 400, message: 'The upload was interrupted. Please try again.' };
  return { files: [], hadFiles: true, error };
}

/** Form fields a portal form may send: its own and the custom fields (each a cf_<key>). */
const FORM_FIELDS_MAX = 200;

const NUMBER_RE = /^[A-Za-z0-9-]{1,20}$/;

async function renderNew(req: Request, res: Response, model: Model = {}, status = 200): Promise<void> {
  const { topics, defaultTopicId } = await portal.listPublicTopics(ctxFrom(req, res).db);
  const fields = await portal.listPortalFields(ctxFrom(req, res), topics);
  const actor = actorOf(res);
  const prefill = actor.kind === 'user' ? { email: actor.email, name: actor.name } : {};
  // ?topicId= preselects a public topic (the knowledge base's "Open a ticket" link); others are ignored.
  const asked = Number(single(req.query.topicId));
  const topicId = topics.some((t) => t.id === asked) ? asked : defaultTopicId;
  const values = model.values ?? { ...prefill, topicId: topicId ?? '' };
  const settings = res.locals.settings as Settings;
  await render(req, res, 'portal/tickets/new', { ...model, values, portalMaxCc: portal.PORTAL_MAX_CC, topics, fields, attachmentHint: attachmentHint(settings), attachmentsAllowed: settings.attachment_max_count > 0 }, { status, title: 'Open a new ticket' });
}

async function renderStatus(req: Request, res: Response, model: Model = {}, status = 200): Promise<void> {
  const tickets = (await portal.listSessionTickets(ctxFrom(req, res))).items;
  await render(req, res, 'portal/tickets/status', { ...model, tickets }, { status, title: 'Check ticket status' });
}

/** A ticket merged into another: this session may read that one too, and goes there. */
async function followMerge(req: Request, res: Response, m: portal.MergedTicket): Promise<void> {
  const actor = actorOf(res);
  if (actor.kind === 'user') await grantTicketAccess(req, { userId: actor.id, ticketId: m.mergedInto.id });
  flash(req, 'info', `Ticket #${m.mergedFrom} was merged into ticket #${m.mergedInto.number}: the conversation goes on here.`);
  res.redirect(303, `/tickets/${m.mergedInto.number}`);
}

async function renderTicket(req: Request, res: Response, model: Model = {}, status = 200): Promise<void> {
  const ticket = await portal.getTicketForUser(ctxFrom(req, res), req.params.number);
  if ('mergedInto' in ticket) return followMerge(req, res, ticket);
  const settings = res.locals.settings as Settings;
  await render(req, res, 'portal/tickets/show', { ...model, ticket, attachmentHint: attachmentHint(settings), attachmentsAllowed: settings.attachment_max_count > 0 }, { status, title: `Ticket #${ticket.number}` });
}

/** What the user typed, for re-showing a form (one value per field; the honeypot is not echoed). */
function typed(body: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) if (k !== '_csrf' && k !== 'website' && typeof v === 'string') out[k] = v;
  return out;
}

export function portalTicketRoutes(d: AppDeps): Router {
  const router = Router();

  // ## My tickets: only what this browser session has proven (never every ticket of the email address)
  router.get('/tickets', async (req, res) => {
    const list = await portal.listSessionTickets(ctxFrom(req, res), { page: single(req.query.page), state: single(req.query.state) });
    const url = (page: number) => `/tickets?${new URLSearchParams({ ...(list.state === 'all' ? {} : { state: list.state }), page: String(page) })}`;
    await render(req, res, 'portal/tickets/index', {
      tickets: list.items, list, prevUrl: list.page > 1 ? url(list.page - 1) : null, nextUrl: list.hasNext ? url(list.page + 1) : null,
    }, { title: 'My tickets' });
  });

  // ## Open a ticket (POST limited per IP, as are status checks and access links: portal-routes.ts)
  router.get('/tickets/new', async (req, res) => renderNew(req, res));
  router.post('/tickets', async (req, res) => {
    const limited = formRateLimited(res);
    if (limited) {
      const { hadFiles } = await receiveUploads(req, res, { dropFiles: true });
      const errors = { _: rateLimitedText(limited, 'Many tickets have been opened from your network in the last hour. Your message is kept below.') };
      return renderNew(req, res, { errors, values: typed(req.body), filesDropped: hadFiles }, 429);
    }
    const up = await receiveUploads(req, res);
    if (up.error) return renderNew(req, res, { errors: { attachments: up.error.message }, values: typed(req.body), filesDropped: true }, up.error.status);
    try {
      const t = await portal.openPortalTicket(ctxFrom(req, res), req.body, up.files);
      await grantTicketAccess(req, { userId: t.userId, ticketId: t.id });
      res.redirect(303, `/tickets/${t.number}/opened`);
    } catch (err) {
      // Refused (a banned sender, a ticket filter): said on the form, the text kept.
      if (err instanceof Forbidden && (err.code === 'USER_BANNED' || err.code === 'TICKET_REJECTED')) return renderNew(req, res, { errors: { _: err.message }, values: typed(req.body), filesDropped: up.hadFiles }, 403);
      if (!(err instanceof ValidationFailed)) throw err;
      await renderNew(req, res, { errors: err.fields, values: typed(req.body), filesDropped: up.hadFiles }, 422);
    }
  });

  // ## Check status: email + number opens the ticket, or mails an access link
  router.get('/tickets/status', async (req, res) => {
    const number = single(req.query.number);
    await renderStatus(req, res, { values: { number: number && NUMBER_RE.test(number) ? number : '' } });
  });
  router.post('/tickets/status', async (req, res) => {
    const limited = formRateLimited(res);
    if (limited) return renderStatus(req, res, { errors: { _: rateLimitedText(limited, 'Too many checks from your network.') }, values: typed(req.body) }, 429);
    const ctx = ctxFrom(req, res);
    try {
      if (single(req.body?.action) === 'link') {
        await portal.requestAccessLink(ctx, req.body);
        flash(req, 'info', 'If that email address and ticket number match a ticket, we have emailed a link to it. Check your inbox (and spam folder).');
        return res.redirect(303, '/tickets/status');
      }
      const access = await portal.openPortalSession(ctx, req.body);
      await grantTicketAccess(req, access);
      res.redirect(303, `/tickets/${access.number}`);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      await renderStatus(req, res, { errors: err.fields, values: typed(req.body) }, 422);
    }
  });
  router.get('/tickets/access', async (req, res) => {
    const access = await portal.useAccessLink(ctxFrom(req, res), single(req.query.token));
    if (!access) {
      flash(req, 'error', 'That link is not valid or has expired. Enter your email address and ticket number below, or ask for a new link.');
      return res.redirect(303, '/tickets/status');
    }
    await grantTicketAccess(req, access);
    res.redirect(303, `/tickets/${access.number}`);
  });

  // ## The user's ticket
  router.get('/tickets/:number/opened', async (req, res) => {
    const ticket = await portal.getTicketForUser(ctxFrom(req, res), req.params.number);
    if ('mergedInto' in ticket) return followMerge(req, res, ticket);
    await render(req, res, 'portal/tickets/opened', { ticket }, { title: `Ticket #${ticket.number} opened` });
  });
  router.get('/tickets/:number', async (req, res) => {
    if (actorOf(res).kind !== 'user') {
      flash(req, 'info', 'To see a ticket, enter your email address and the ticket number, or use the link in our emails.');
      return res.redirect(303, `/tickets/status${NUMBER_RE.test(req.params.number) ? `?number=${req.params.number}` : ''}`);
    }
    await renderTicket(req, res);
  });
  router.post('/tickets/:number/reply', async (req, res) => {
    const up = await receiveUploads(req, res);
    if (up.error) return renderTicket(req, res, { errors: { attachments: up.error.message }, values: typed(req.body), filesDropped: true }, up.error.status);
    try {
      const r = await portal.replyToTicketAsUser(ctxFrom(req, res), { number: req.params.number, message: req.body?.message }, up.files);
      flash(req, 'success', r.reopened ? 'Your message was added and the ticket has been reopened.' : 'Your message was added.');
      res.redirect(303, `/tickets/${r.number}`);
    } catch (err) {
      if (err instanceof InvalidTransition || (err instanceof Forbidden && err.code === 'USER_BANNED')) return renderTicket(req, res, { errors: { message: err.message }, values: typed(req.body) }, err.status);
      if (!(err instanceof ValidationFailed)) throw err;
      await renderTicket(req, res, { errors: err.fields, values: typed(req.body), filesDropped: up.hadFiles }, 422);
    }
  });
  // ## The requester copies people in or takes them off (when the help desk allows it)
  router.post('/tickets/:number/cc', async (req, res) => {
    try {
      const r = await portal.changeCcsAsRequester(ctxFrom(req, res), req.params.number, { add: req.body ?? {} });
      flash(req, 'success', 'They are copied on this ticket now: they get our replies and may answer.');
      res.redirect(303, `/tickets/${r.number}`);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      await renderTicket(req, res, { errors: err.fields, values: typed(req.body) }, 422);
    }
  });
  router.post('/tickets/:number/uncc', async (req, res) => {
    const r = await portal.changeCcsAsRequester(ctxFrom(req, res), req.params.number, { removeUserId: req.body?.userId });
    flash(req, 'success', 'They are no longer copied on this ticket.');
    res.redirect(303, `/tickets/${r.number}`);
  });
  router.post('/tickets/:number/close', async (req, res) => {
    try {
      const r = await portal.closeTicketByUser(ctxFrom(req, res), req.params.number);
      if (r.closed) flash(req, 'success', 'Your ticket is closed.');
      else flash(req, 'info', 'Thank you: we have noted that your request is solved. Our team is finishing some follow-up work on this ticket and will close it when that is done.');
      res.redirect(303, `/tickets/${r.number}`);
    } catch (err) {
      if (!(err instanceof InvalidTransition)) throw err;
      await renderTicket(req, res, { errors: { _: err.message } }, err.status);
    }
  });

  // ## Attachments: always a download, never rendered by the browser
  router.get('/attachments/:id', async (req, res) => {
    const f = await portal.getAttachmentForUser(ctxFrom(req, res), req.params.id);
    sendAttachment(res, f);
  });
  return router;
}
