/** The user directory (/scp/users): list and search, a user's page with their tickets, edits and bans; an organization's page (/scp/orgs/:id). Rules in user-directory-service.ts and organization-service.ts. */
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { ctxFrom } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { idParam, single } from '../shared/area.ts';
import { ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import * as directory from '../../domain/users/user-directory-service.ts';
import { AUTO_CC_LABELS, getOrganizationForAgent, organizationChoices, PORTAL_SHARE_LABELS } from '../../domain/users/organization-service.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { safeZone } from '../../domain/reports/report-period.ts';
import { formatDate } from '../../domain/tickets/ticket-presenters.ts';
import { STATUS_LABELS, type TicketStatus } from '../../domain/tickets/ticket-status.ts';
import { pageNav } from '../admin/admin-crud.ts';


async function zoneOf(req: Request, res: Response): Promise<string> {
  return safeZone((await getSettings(ctxFrom(req, res).db)).timezone);
}

/** The user page; on a failed edit, with the agent's input and the errors (422). */
async function showUser(req: Request, res: Response, extra: { errors?: FieldErrors; values?: Record<string, unknown>; status?: number } = {}) {
  const ctx = ctxFrom(req, res);
  const id = idParam(req);
  const page = single(req.query.page);
  const { user, tickets } = await directory.getUser(ctx, id, { page });
  const zone = await zoneOf(req, res);
  const organizations = await organizationChoices(ctx.db);
  const values = extra.values ?? {
    name: user.name, email: user.email, phone: user.phone ?? '', notes: user.notes ?? '', organizationId: user.organizationId ?? '', isPrimaryContact: user.isPrimaryContact,
  };
  await render(req, res, 'scp/users/show', {
    user, zone, organizations, values, errors: extra.errors ?? {},
    createdText: formatDate(user.createdAt, zone),
    tickets: tickets.items.map((t) => ({ ...t, statusLabel: STATUS_LABELS[t.status as TicketStatus] ?? t.status, createdText: formatDate(t.createdAt, zone), updatedText: formatDate(t.updatedAt, zone) })),
    ticketPage: pageNav(tickets, `/scp/users/${id}`, {}),
    ticketTotal: tickets.totalText,
  }, { title: user.name, status: extra.status });
}

export function scpUserRoutes(_d: AppDeps): Router {
  const router = Router();
  // ## Directory
  router.get('/users', async (req, res) => {
    const query = { q: single(req.query.q)?.slice(0, 100), org: single(req.query.org), sort: single(req.query.sort), page: single(req.query.page) };
    const list = await directory.listUsers(ctxFrom(req, res), query);
    const zone = await zoneOf(req, res);
    await render(req, res, 'scp/users/index', {
      q: query.q ?? '', sort: list.sort, sorts: directory.USER_SORTS, organization: list.organization,
      users: list.items.map((u) => ({ ...u, createdText: formatDate(u.createdAt, zone) })),
      total: list.totalText, page: pageNav(list, '/scp/users', { q: query.q, org: list.organization ? String(list.organization.id) : undefined, sort: list.sort === 'name' ? undefined : list.sort }),
    }, { title: list.organization ? `Users of ${list.organization.name}` : 'Users' });
  });
  // ## One user
  router.get('/users/:id', (req, res) => showUser(req, res));
  router.post('/users/:id', async (req, res) => {
    const id = idParam(req);
    try {
      await directory.updateUser(ctxFrom(req, res), id, req.body ?? {});
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const { _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
      return showUser(req, res, { errors: err.fields, values, status: 422 });
    }
    flash(req, 'success', 'The user was saved.');
    res.redirect(303, `/scp/users/${id}`);
  });
  router.post('/users/:id/ban', async (req, res) => {
    const id = idParam(req);
    await directory.setUserBanned(ctxFrom(req, res), id, true);
    flash(req, 'success', 'The user is banned: their new tickets and messages are refused.');
    res.redirect(303, `/scp/users/${id}`);
  });
  router.post('/users/:id/unban', async (req, res) => {
    const id = idParam(req);
    await directory.setUserBanned(ctxFrom(req, res), id, false);
    flash(req, 'success', 'The ban was lifted.');
    res.redirect(303, `/scp/users/${id}`);
  });
  // ## An organization: its settings, first members and its members' tickets
  router.get('/orgs/:id', async (req, res) => {
    const ctx = ctxFrom(req, res);
    const id = idParam(req);
    const org = await getOrganizationForAgent(ctx, id, { page: single(req.query.page) });
    const zone = await zoneOf(req, res);
    await render(req, res, 'scp/users/organization', {
      ...org, autoCcLabel: AUTO_CC_LABELS[org.organization.autoCc], portalShareLabel: PORTAL_SHARE_LABELS[org.organization.portalShare],
      ticketRows: org.tickets.items.map((t) => ({ ...t, statusLabel: STATUS_LABELS[t.status as TicketStatus] ?? t.status, updatedText: formatDate(t.updatedAt, zone) })),
      ticketPage: pageNav(org.tickets, `/scp/orgs/${id}`, {}), ticketTotal: org.tickets.totalText,
    }, { title: org.organization.name });
  });
  return router;
}
