/** The admin area at /scp/admin: admins only (the services check again). */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { requireAdmin } from '../scp/scp-auth.ts';
import { adminMailRoutes } from './admin-mail-routes.ts';
import { adminApiKeyRoutes } from './admin-api-key-routes.ts';
import { adminCatalogRoutes } from './admin-catalog-routes.ts';
import { adminAgentRoutes } from './admin-agent-routes.ts';
import { adminSettingsRoutes } from './admin-settings-routes.ts';
import { adminPeopleRoutes } from './admin-people-routes.ts';
import { adminKbRoutes } from './admin-kb-routes.ts';
import { adminMailTemplateRoutes } from './admin-mail-template-routes.ts';
import { adminWebhookRoutes } from './admin-webhook-routes.ts';

/** Sections listed on the admin index page. */
const SECTIONS = [
  { href: '/scp/admin/settings', label: 'Settings', about: 'Name, time zone, defaults, ticket numbers, attachments, mail, sign-in.' },
  { href: '/scp/admin/agents', label: 'Agents', about: 'Accounts, roles, department access, locks and password resets.' },
  { href: '/scp/admin/roles', label: 'Roles', about: 'What agents may do on the tickets of a department: reply, close, assign, transfer, merge, edit, delete, tasks.' },
  { href: '/scp/admin/teams', label: 'Teams', about: 'Groups of agents with a lead.' },
  { href: '/scp/admin/departments', label: 'Departments', about: 'Routing, SLA, manager, outgoing email, members.' },
  { href: '/scp/admin/help-topics', label: 'Help topics', about: 'What users choose from; routes to department, priority and SLA.' },
  { href: '/scp/admin/sla-plans', label: 'SLA plans', about: 'Grace periods and schedules.' },
  { href: '/scp/admin/schedules', label: 'Schedules', about: '24/7 or business hours, time zones and holidays.' },
  { href: '/scp/admin/priorities', label: 'Priorities', about: 'Names, urgency and colours.' },
  { href: '/scp/admin/canned-responses', label: 'Canned responses', about: 'Reply texts agents insert on the ticket page.' },
  { href: '/scp/admin/ticket-fields', label: 'Custom fields', about: 'Extra questions per help topic (asset tag, order number…), asked when a ticket is opened and edited by agents.' },
  { href: '/scp/admin/filters', label: 'Ticket filters', about: 'Rules that route new tickets (department, topic, priority, SLA, agent or team), turn off the auto-response, or refuse them.' },
  { href: '/scp/admin/organizations', label: 'Organizations', about: 'Companies users belong to: email domains, who is copied on new tickets, account manager.' },
  { href: '/scp/admin/bans', label: 'Ban list', about: 'Addresses and domains whose tickets and messages are refused.' },
  { href: '/scp/admin/kb-categories', label: 'Knowledge base categories', about: 'Groups of articles, public or internal; the articles themselves are under Knowledge base.' },
  { href: '/scp/admin/mail-templates', label: 'Email templates', about: 'The wording of the auto-responses, notices, alerts and links the help desk mails.' },
  { href: '/scp/admin/mail', label: 'Mail log', about: 'Outgoing mail: queued, sent, failed.' },
  { href: '/scp/admin/api-keys', label: 'API keys', about: 'Keys for the REST API.' },
  { href: '/scp/admin/webhooks', label: 'Webhooks', about: 'Signed HTTP calls to other systems when tickets change, with a delivery log and retries.' },
  { href: '/scp/admin/audit', label: 'Audit log', about: 'Every admin change and sign-in event.' },
];

export function adminRouter(d: AppDeps): Router {
  const router = Router();
  router.use(requireAdmin);
  router.get('/', async (req, res) => {
    await render(req, res, 'admin/index', { sections: SECTIONS }, { title: 'Admin' });
  });
  router.use(adminCatalogRoutes());
  router.use(adminAgentRoutes());
  router.use(adminPeopleRoutes());
  router.use(adminSettingsRoutes());
  router.use(adminKbRoutes());
  router.use(adminMailTemplateRoutes());
  router.use(adminMailRoutes(d));
  router.use(adminApiKeyRoutes(d));
  router.use(adminWebhookRoutes());
  return router;
}
