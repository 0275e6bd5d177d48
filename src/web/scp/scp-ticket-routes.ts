/** Agent panel: queues, the ticket page, triage and ticket actions, new ticket on behalf of a user. */
import { sendAttachment } from '../shared/send-attachment.ts';
import { Router, type Request, type Response } from 'express';
import multer from 'multer';
import { Conflict, ValidationFailed } from '../../domain/errors.ts';
import type { UploadedFile } from '../../domain/tickets/attachment-service.ts';
import {
  addInternalNote, assignTicket, changeTicketPriority, changeTicketSla, changeTicketStatus, claimTicket, editTicket,
  openTicketForUser, releaseTicket, replyToTicket, setTicketDueDate, transferTicket, type TicketActionResult,
} from '../../domain/tickets/ticket-agent-service.ts';
import { getAttachmentForAgent, getTicketChangesSince, getTicketForAgent } from '../../domain/tickets/ticket-agent-view.ts';
import { releaseTicketLock } from '../../domain/tickets/ticket-locks.ts';
import { addCollaborator, changeRequester, removeCollaborator } from '../../domain/tickets/ticket-collaborators.ts';
import { mergeTicket } from '../../domain/tickets/ticket-merge.ts';
import { deleteQueueView, getQueueViewForChange, openQueueView, saveQueueView, updateQueueView } from '../../domain/tickets/saved-queues.ts';
import { organizationNamed } from '../../domain/users/organization-service.ts';
import { bulkTicketAction, getBulkDeletion, MAX_BULK, type BulkResult } from '../../domain/tickets/ticket-bulk-service.ts';
import { deleteTicket, getTicketDeletion } from '../../domain/tickets/ticket-delete.ts';
import { addTask, setTask } from '../../domain/tickets/ticket-tasks.ts';
import { editThreadEntry, getEntryForEdit } from '../../domain/tickets/ticket-entry-edit.ts';
import { setTicketFields } from '../../domain/fields/ticket-field-edit.ts';
import { searchThreadText } from '../../domain/tickets/ticket-text-search.ts';
import { getNewTicketForm } from '../../domain/tickets/ticket-agent-forms.ts';
import { fillCannedResponse } from '../../domain/canned/canned-response-service.ts';
import { kbLinkForTicket } from '../../domain/kb/kb-ticket-links.ts';
import { countText } from '../../domain/bounded-count.ts';
import { exportQueueCsv, listQueue, QUEUE_LABELS, QUEUES, SORT_KEYS, ticketNamedBySearch, type QueuePage } from '../../domain/tickets/ticket-queue-queries.ts';
import type { ServiceContext } from '../../domain/context.ts';
import { idParam, single } from '../shared/area.ts';
import { sendCsv } from '../shared/csv.ts';
import { ctxFrom, type AppDeps } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';

const FILTERS = ['queue', 'dept', 'priority', 'sla', 'assignee', 'status', 'source', 'org', 'cf', 'q', 'sort', 'dir', 'page'] as const;


/** Query-string links of a queue page: each queue, each sortable column, previous/next page. */
function queueLinks(p: QueuePage) {
  const base = Object.fromEntries(FILTERS.filter((k) => p.params[k] !== undefined && k !== 'page').map((k) => [k, String(p.params[k])]));
  const url = (over: Record<string, string | undefined>) => {
    const qs = new URLSearchParams(Object.entries({ ...base, ...over }).filter(([, v]) => v !== undefined && v !== '') as [string, string][]);
    return `/scp/tickets${qs.size ? `?${qs}` : ''}`;
  };
  return {
    queues: QUEUES.map((q) => ({ name: q, label: QUEUE_LABELS[q], count: countText(p.counts[q]), url: url({ queue: q, sort: undefined, dir: undefined, status: undefined }), current: q === p.params.queue })),
    sort: Object.fromEntries(SORT_KEYS.map((k) => [k, { url: url({ sort: k, dir: p.sort === k && p.dir === 'asc' ? 'desc' : 'asc' }), aria: p.sort === k ? (p.dir === 'asc' ? 'ascending' : 'descending') : 'none' }])),
    pagination: { page: p.page, pages: p.pages, pagesText: p.pagesText, total: p.totalText, prevUrl: p.page > 1 ? url({ page: String(p.page - 1) }) : null, nextUrl: p.page < p.pages ? url({ page: String(p.page + 1) }) : null },
    csvUrl: url({}).replace('/scp/tickets', '/scp/tickets.csv'),
    /** The active filters, each with the link that drops it. */
    active: p.active.map((f) => ({ ...f, clearUrl: url({ [f.key]: undefined, page: undefined }) })),
    /** This page itself (where a bulk action comes back to). */
    selfUrl: url({ page: p.page > 1 ? String(p.page) : undefined }),
  };
}

/** The queue's parameters as they arrive (one value each). */
const queryOf = (req: Request): Record<string, string> => Object.fromEntries(FILTERS.map((k) => [k, single(req.query[k])]).filter(([, v]) => v !== undefined));

/**
 * An organization typed by name (the filter form, where there are too many to list): its id, to go to
 * the queue filtered by it; what was wrong with the name, shown at the field with the name kept; or
 * undefined when no name was typed (or an organization was chosen by id).
 */
async function organizationByName(req: Request, res: Response): Promise<number | { value: string; error: string } | undefined> {
  const typed = single(req.query.orgName);
  if (typed === undefined || !typed.trim() || single(req.query.org)) return undefined;
  try {
    return await organizationNamed(ctxFrom(req, res), typed);
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    return { value: typed.slice(0, 120), error: Object.values(err.fields)[0] ?? err.message };
  }
}

const ticketIdOf = (req: Request) => Number(req.params.id);
/** Says what a bulk action did: how many tickets it changed, and each it skipped with the reason. */
function flashBulkResult(req: Request, r: BulkResult, done: 'deleted' | 'changed'): void {
  const plural = (n: number) => `${n} ticket${n === 1 ? '' : 's'}`;
  if (r.changed) flash(req, 'success', `${plural(r.changed)} ${done}.`);
  if (!r.skipped.length) return;
  const hidden = r.skipped.filter((k) => !k.number).length;
  const named = r.skipped.filter((k) => k.number).map((k) => `#${k.number} (${k.reason})`);
  flash(req, r.changed ? 'info' : 'error', `Not ${done}: ${[...named, ...(hidden ? [`${plural(hidden)} not found`] : [])].join('; ')}.`);
}

/** Where a bulk action goes back to: a queue page, else the default queue. */
const backOf = (v: unknown) => (typeof v === 'string' && /^\/scp\/tickets(\?[^\s]*)?$/.test(v) ? v : '/scp/tickets');
/** Ticked ticket ids as they arrive (one, several, none), at most one more than a bulk action takes (the service refuses more). */
const idsOf = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).slice(0, MAX_BULK + 1).map(String);
const filesOf = (req: Request): UploadedFile[] =>
  ((req.files as Express.Multer.File[] | undefined) ?? []).map((f) => ({ filename: Buffer.from(f.originalname, 'latin1').toString('utf8'), contentType: f.mimetype, data: f.buffer }));
/** The form fields plus the ticket from the URL (the URL wins). */
const inputOf = (req: Request) => ({ ...(req.body ?? {}), ticketId: ticketIdOf(req) });

async function showTicket(req: Request, res: Response, extra: { status?: number; activeForm?: string; errors?: Record<string, string>; values?: Record<string, unknown> } = {}) {
  const view = await getTicketForAgent(ctxFrom(req, res), ticketIdOf(req));
  const model = { ...view, activeForm: extra.activeForm ?? '', errors: extra.errors ?? {}, values: extra.values ?? {} };
  await render(req, res, 'scp/tickets/show', model, { status: extra.status, title: `#${view.ticket.number} ${view.ticket.subject}` });
}

/** "This ticket changed": what happened since the page was loaded; a reply or note can be confirmed. */
async function showConflict(req: Request, res: Response, action: string) {
  const changes = await getTicketChangesSince(ctxFrom(req, res), ticketIdOf(req), Number(single(req.body?.seen)) || 0);
  const resubmit = action === 'reply' || action === 'note' ? { action, values: req.body ?? {} } : null;
  await render(req, res, 'scp/tickets/conflict', { ...changes, resubmit }, { status: 409, title: 'This ticket changed' });
}

type Action = (ctx: ServiceContext, input: any, files: UploadedFile[]) => Promise<TicketActionResult>;

/** Runs one ticket action: success → flash + back to the ticket; bad input → the page again (422); stale → the changes (409). */
async function runAction(req: Request, res: Response, name: string, fn: Action, done: string) {
  try {
    const r = await fn(ctxFrom(req, res), inputOf(req), filesOf(req));
    flash(req, r.changed ? 'success' : 'info', r.changed ? done : 'Nothing changed.');
    const lost = 'canStillSee' in r && r.canStillSee === false;
    if (lost) {
      await releaseTicketLock(ctxFrom(req, res), r.ticketId);
      flash(req, 'info', 'You no longer have access to this ticket in its new department.');
    }
    res.redirect(303, lost ? '/scp/tickets' : `/scp/tickets/${r.ticketId}`);
  } catch (err) {
    if (err instanceof ValidationFailed) return showTicket(req, res, { status: 422, activeForm: name, errors: err.fields, values: req.body ?? {} });
    if (err instanceof Conflict && err.code === 'TICKET_CHANGED') return showConflict(req, res, name);
    throw err;
  }
}

const ACTIONS: [string, Action, string][] = [
  ['reply', replyToTicket, 'Reply posted.'],
  ['note', addInternalNote, 'Internal note added.'],
  ['assign', assignTicket, 'Ticket assigned.'],
  ['claim', claimTicket, 'You claimed the ticket.'],
  ['release', releaseTicket, 'Ticket released.'],
  ['transfer', transferTicket, 'Ticket transferred.'],
  ['priority', changeTicketPriority, 'Priority changed.'],
  ['sla', changeTicketSla, 'SLA plan changed; the due date was recomputed.'],
  ['due', setTicketDueDate, 'Due date changed.'],
  ['status', changeTicketStatus, 'Status changed.'],
  ['edit', editTicket, 'Ticket updated.'],
  ['cc', addCollaborator, 'CC added: they will get the replies to this ticket.'],
  ['uncc', removeCollaborator, 'CC removed.'],
  ['requester', changeRequester, 'Requester changed: the replies go to them from now on.'],
  ['task', addTask, 'Task added.'],
  ['taskset', setTask, 'Task updated.'],
  ['fields', setTicketFields, 'Custom fields saved.'],
  ['merge', mergeTicket, 'Tickets merged: the other ticket’s thread is now in this one, and it is closed.'],
];

export function scpTicketRoutes(d: AppDeps): Router {
  const router = Router();
  // Files are checked against the settings by the services; multer only caps what it buffers.
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 64 * 1024 * 1024, files: 20, fields: 200 } }).array('attachments', 20);

  // ## Queues
  router.get('/tickets', async (req, res) => {
    const orgName = await organizationByName(req, res);
    if (typeof orgName === 'number') return res.redirect(303, `/scp/tickets?${new URLSearchParams({ ...queryOf(req), org: String(orgName) })}`);
    const page = await listQueue(ctxFrom(req, res), queryOf(req));
    const named = await ticketNamedBySearch(ctxFrom(req, res), page);
    if (named) return res.redirect(303, `/scp/tickets/${named}`);
    const view = [...page.views, ...page.sharedViews].find((v) => String(v.id) === single(req.query.view)) ?? null;
    const title = view ? view.name : `${QUEUE_LABELS[page.params.queue]} tickets`;
    const drafts = { name: single(req.query.viewName)?.slice(0, 60) ?? null, shared: single(req.query.viewShared) === 'on', rename: single(req.query.viewRename)?.slice(0, 60) ?? null, orgName: orgName ?? null };
    await render(req, res, 'scp/tickets/index', { ...page, links: queueLinks(page), queueLabel: title, currentView: view, drafts }, { title });
  });

  // ## Bulk actions on the ticked tickets of a queue page
  router.post('/tickets/bulk', async (req, res) => {
    const back = backOf(req.body?.back);
    const deleting = req.body?.do === 'delete';
    // Delete asks first: the confirmation page lists the ticked tickets and posts back here with confirm=yes.
    if (deleting && req.body?.confirm !== 'yes') return res.redirect(303, `/scp/tickets/delete?${new URLSearchParams([...idsOf(req.body?.ids).map((v) => ['ids', v]), ['back', back]])}`);
    try {
      flashBulkResult(req, await bulkTicketAction(ctxFrom(req, res), { ids: req.body?.ids, do: req.body?.do, ban: req.body?.ban }), deleting ? 'deleted' : 'changed');
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      flash(req, 'error', Object.values(err.fields)[0] ?? err.message);
    }
    res.redirect(303, back);
  });
  // The confirmation of a bulk delete: what goes with each ticked ticket, and which would be skipped.
  router.get('/tickets/delete', async (req, res) => {
    const back = backOf(single(req.query.back));
    try {
      const page = await getBulkDeletion(ctxFrom(req, res), { ids: idsOf(req.query.ids) });
      await render(req, res, 'scp/tickets/delete-many', { ...page, back }, { title: 'Delete tickets' });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      flash(req, 'error', Object.values(err.fields)[0] ?? err.message);
      res.redirect(303, back);
    }
  });

  // ## Saved views: a queue with its filters kept under a name (the agent's own; shared with every agent if they choose)
  router.post('/queues', async (req, res) => {
    try {
      const id = await saveQueueView(ctxFrom(req, res), req.body ?? {});
      flash(req, 'success', 'View saved: it is listed beside the queues.');
      res.redirect(303, `/scp/queues/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      flash(req, 'error', `The view was not saved: ${Object.values(err.fields)[0] ?? err.message}`);
      const { _csrf, name, shared, ...params } = (req.body ?? {}) as Record<string, unknown>;
      // Back to the same queue, the typed name and the "share" tick kept in the form (viewName, viewShared).
      const back = Object.entries({ ...params, viewName: name, viewShared: shared }).filter(([, v]) => typeof v === 'string' && v.trim()).map(([k, v]) => [k, String(v).slice(0, 130)]);
      res.redirect(303, `/scp/tickets?${new URLSearchParams(back as [string, string][])}`);
    }
  });
  router.get('/queues/:id', async (req, res) => {
    const query = await openQueueView(ctxFrom(req, res), idParam(req));
    const draft = single(req.query.viewRename);
    res.redirect(303, `/scp/tickets?${query ? `${query}&` : ''}${new URLSearchParams({ view: String(idParam(req)), ...(draft ? { viewRename: draft.slice(0, 60) } : {}) })}`);
  });
  // Rename, share or unshare: the owner, or an admin for a shared view.
  router.post('/queues/:id', async (req, res) => {
    try {
      await updateQueueView(ctxFrom(req, res), idParam(req), req.body ?? {});
      flash(req, 'success', 'View changed.');
      res.redirect(303, `/scp/queues/${idParam(req)}`);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      flash(req, 'error', `The view was not changed: ${Object.values(err.fields)[0] ?? err.message}`);
      res.redirect(303, `/scp/queues/${idParam(req)}?${new URLSearchParams({ viewRename: String(single(req.body?.name) ?? '').slice(0, 60) })}`);
    }
  });
  // Delete: a confirmation page, then the POST (which without confirm=yes shows that page again).
  router.get('/queues/:id/delete', async (req, res) => {
    await render(req, res, 'scp/tickets/delete-view', { view: await getQueueViewForChange(ctxFrom(req, res), idParam(req)), errors: {} }, { title: 'Delete view' });
  });
  router.post('/queues/:id/delete', async (req, res) => {
    try {
      await deleteQueueView(ctxFrom(req, res), idParam(req), { confirm: single(req.body?.confirm) });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      return render(req, res, 'scp/tickets/delete-view', { view: await getQueueViewForChange(ctxFrom(req, res), idParam(req)), errors: err.fields }, { title: 'Delete view', status: 422 });
    }
    flash(req, 'success', 'View deleted.');
    res.redirect(303, '/scp/tickets');
  });

  router.get('/tickets.csv', async (req, res) => {
    const csv = await exportQueueCsv(ctxFrom(req, res), queryOf(req));
    sendCsv(res, 'tickets.csv', csv);
  });

  // ## Search message text (the thread's full-text index)
  router.get('/search', async (req, res) => {
    const page = await searchThreadText(ctxFrom(req, res), { q: single(req.query.q), page: single(req.query.page) });
    await render(req, res, 'scp/tickets/search', { ...page }, { title: page.q ? `Search: ${page.q}` : 'Search message text' });
  });

  // ## New ticket on behalf of a user
  router.get('/tickets/new', async (req, res) => {
    const form = await getNewTicketForm(ctxFrom(req, res));
    // From a user's page: the requester filled in (?email=&name=).
    const requester = { email: single(req.query.email)?.slice(0, 191), name: single(req.query.name)?.slice(0, 120) };
    await render(req, res, 'scp/tickets/new', { ...form, values: { ...form.defaults, ...(requester.email ? requester : {}) } }, { title: 'New ticket' });
  });
  router.post('/tickets', upload, async (req, res) => {
    try {
      const t = await openTicketForUser(ctxFrom(req, res), req.body ?? {}, filesOf(req));
      flash(req, 'success', `Ticket #${t.number} created.`);
      res.redirect(303, `/scp/tickets/${t.id}`);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const form = await getNewTicketForm(ctxFrom(req, res));
      await render(req, res, 'scp/tickets/new', { ...form, errors: err.fields, values: req.body ?? {} }, { status: 422, title: 'New ticket' });
    }
  });

  // ## Ticket page and actions
  router.get('/tickets/:id', async (req, res) => {
    // ?canned=<id>: the reply form filled with that canned response (the Insert button without JavaScript).
    // ?kb=<id>: the same with a link to a public knowledge base article.
    const cannedId = single(req.query.canned);
    const kbId = single(req.query.kb);
    if (cannedId === undefined && kbId === undefined) return showTicket(req, res);
    const message = cannedId !== undefined
      ? await fillCannedResponse(ctxFrom(req, res), ticketIdOf(req), Number(cannedId))
      : await kbLinkForTicket(ctxFrom(req, res), ticketIdOf(req), Number(kbId));
    await showTicket(req, res, { activeForm: 'reply', values: { message } });
  });
  router.get('/tickets/:id/kb/:articleId', async (req, res) => {
    const text = await kbLinkForTicket(ctxFrom(req, res), ticketIdOf(req), Number(req.params.articleId));
    res.type('text/plain').set('Cache-Control', 'private, no-store').send(text);
  });
  // The same text for the page's script, which inserts it where the agent is typing.
  router.get('/tickets/:id/canned/:cannedId', async (req, res) => {
    const text = await fillCannedResponse(ctxFrom(req, res), ticketIdOf(req), Number(req.params.cannedId));
    res.type('text/plain').set('Cache-Control', 'private, no-store').send(text);
  });
  for (const [name, fn, done] of ACTIONS) {
    const mw = name === 'reply' || name === 'note' ? [upload] : [];
    router.post(`/tickets/:id/${name}`, ...mw, async (req: Request, res: Response) => runAction(req, res, name, fn, done));
  }

  // ## Delete: a confirmation page (what goes, what stays, ban the requester?), then the POST
  router.get('/tickets/:id/delete', async (req, res) => {
    const deletion = await getTicketDeletion(ctxFrom(req, res), ticketIdOf(req));
    await render(req, res, 'scp/tickets/delete', { deletion, errors: {}, values: {} }, { title: `Delete #${deletion.ticket.number}` });
  });
  router.post('/tickets/:id/delete', async (req, res) => {
    try {
      const r = await deleteTicket(ctxFrom(req, res), { ticketId: ticketIdOf(req), ban: req.body?.ban });
      flash(req, 'success', `Ticket #${r.number} deleted.${r.ban ? ' Its requester’s address is on the ban list.' : ''}`);
      res.redirect(303, '/scp/tickets');
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const deletion = await getTicketDeletion(ctxFrom(req, res), ticketIdOf(req));
      await render(req, res, 'scp/tickets/delete', { deletion, errors: err.fields, values: req.body ?? {} }, { status: 422, title: `Delete #${deletion.ticket.number}` });
    }
  });

  // ## Editing a thread entry: the editor with the entry's earlier texts, then the POST
  const showEntryEditor = async (req: Request, res: Response, extra: { status?: number; errors?: Record<string, string>; values?: Record<string, unknown>; notice?: string; unsaved?: string } = {}) => {
    const edit = await getEntryForEdit(ctxFrom(req, res), ticketIdOf(req), idParam(req, 'entryId'));
    await render(req, res, 'scp/tickets/entry-edit', { edit, errors: extra.errors ?? {}, values: extra.values ?? {}, notice: extra.notice ?? '', unsaved: extra.unsaved ?? '' }, { status: extra.status, title: `#${edit.ticket.number}: ${edit.canEdit ? 'edit' : 'history'}` });
  };
  router.get('/tickets/:id/entries/:entryId/edit', async (req, res) => showEntryEditor(req, res));
  router.post('/tickets/:id/entries/:entryId/edit', async (req, res) => {
    try {
      const r = await editThreadEntry(ctxFrom(req, res), { ...(req.body ?? {}), ticketId: ticketIdOf(req), entryId: idParam(req, 'entryId') });
      flash(req, r.changed ? 'success' : 'info', r.changed ? 'Entry saved.' : 'Nothing changed.');
      res.redirect(303, `/scp/tickets/${r.ticketId}#entry-${r.entryId}`);
    } catch (err) {
      if (err instanceof ValidationFailed) return showEntryEditor(req, res, { status: 422, errors: err.fields, values: req.body ?? {} });
      // Edited by someone else meanwhile: their text in the editor, the agent's own beside it to copy from.
      if (err instanceof Conflict && err.code === 'ENTRY_CHANGED') return showEntryEditor(req, res, { status: 409, notice: err.message, unsaved: String(single(req.body?.body) ?? '') });
      throw err;
    }
  });

  // ## Attachments (same permission check as the ticket; always a download)
  router.get('/attachments/:id', async (req, res) => {
    const a = await getAttachmentForAgent(ctxFrom(req, res), Number(req.params.id));
    sendAttachment(res, a);
  });
  void d;
  return router;
}
