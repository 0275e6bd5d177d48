/** Admin: organizations and the ban list (the shared CRUD pattern; rules in organization-service.ts and ban-list-service.ts). */
import { Router } from 'express';
import { listAdminChoices } from '../../domain/admin/admin-choices.ts';
import * as orgs from '../../domain/users/organization-service.ts';
import * as bans from '../../domain/users/ban-list-service.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { formatWhen } from './admin-agent-routes.ts';
import { choiceOptions, crudRoutes, type CrudConfig } from './admin-crud.ts';

const organizationConfig: CrudConfig = {
  path: 'organizations', title: 'Organizations', singular: 'organization', columns: ['Name', 'Email domains', 'Members', 'Copied on new tickets', 'Portal', 'Account manager'],
  search: true,
  defaults: { autoCc: 'none', portalShare: 'none' },
  list: async (ctx, query) => {
    const page = await orgs.listOrganizations(ctx, query);
    return {
      page,
      rows: page.items.map((o) => ({
        id: o.id, isActive: o.isActive,
        cells: [o.name, o.domains.join(', ') || '—', String(o.memberCount), orgs.AUTO_CC_LABELS[o.autoCc], orgs.PORTAL_SHARE_LABELS[o.portalShare], o.managerName ?? '—'],
      })),
    };
  },
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    return [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'domains', label: 'Email domains', type: 'textarea', maxlength: 4000, hint: 'One per line, e.g. example.com. People writing from these domains for the first time join the organization (users already known keep theirs).' },
      { name: 'autoCc', label: 'Copy on each new ticket of a member', type: 'select', options: orgs.AUTO_CC.map((v) => ({ value: v, label: orgs.AUTO_CC_LABELS[v] })), hint: 'They become CCs: they get the replies and may answer (at most 20 per ticket).' },
      { name: 'portalShare', label: 'On the portal', type: 'select', options: orgs.PORTAL_SHARE.map((v) => ({ value: v, label: orgs.PORTAL_SHARE_LABELS[v] })), hint: 'Members signed in with their email (a link we mail them) see these tickets, may read and answer them, not close them.' },
      { name: 'managerAgentId', label: 'Account manager', type: 'select', options: choiceOptions(c.agents, 'None'), hint: 'Gets the members’ new tickets that no filter or agent assigned, when they work in the ticket’s department.' },
      { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 5000, hint: 'For agents.' },
    ];
  },
  load: async (ctx, id) => {
    const o = await orgs.getOrganization(ctx, id);
    return {
      values: { ...o, domains: o.domains.join('\n') }, name: o.name, isActive: o.isActive,
      facts: [['Members', `${o.memberCount} (the organization’s page: members and tickets)`, `/scp/orgs/${o.id}`]],
    };
  },
  create: orgs.createOrganization,
  update: orgs.updateOrganization,
  setActive: orgs.setOrganizationActive,
  remove: orgs.deleteOrganization,
};

const banConfig: CrudConfig = {
  path: 'bans', title: 'Ban list', singular: 'ban', columns: ['Address or domain', 'Note', 'Added'],
  search: true,
  list: async (ctx, query) => {
    const page = await bans.listBans(ctx, query);
    const { timezone } = await getSettings(ctx.db);
    return { page, rows: page.items.map((b) => ({ id: b.id, isActive: true, status: 'Banned', cells: [b.pattern, b.note ?? '', formatWhen(b.createdAt, timezone)] })) };
  },
  fields: async () => [
    { name: 'pattern', label: 'Email address or @domain', required: true, maxlength: 191, hint: 'ann@example.com bans one address; @example.com every address of that domain. Their tickets and messages are refused, by the portal, email and the API.' },
    { name: 'note', label: 'Note', maxlength: 255, hint: 'Why, for the next admin.' },
  ],
  load: async (ctx, id) => {
    const b = await bans.getBan(ctx, id);
    return { values: { ...b }, name: b.pattern, isActive: true };
  },
  create: bans.createBan,
  update: bans.updateBan,
  remove: bans.deleteBan,
};

/** Organizations and the ban list. */
export function adminPeopleRoutes(): Router {
  const router = Router();
  for (const cfg of [organizationConfig, banConfig]) router.use(crudRoutes(cfg));
  return router;
}
