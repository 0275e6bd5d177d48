/** Admin: help desk settings (one form) and the audit log viewer. */
import { PORTAL_MAX_CC } from '../../domain/tickets/ticket-portal-service.ts';
import { Router } from 'express';
import { listAdminChoices } from '../../domain/admin/admin-choices.ts';
import { listAuditLog } from '../../domain/admin/audit-log-service.ts';
import type { ServiceContext } from '../../domain/context.ts';
import { ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import { getSettingsForm, updateSettings } from '../../domain/settings/settings-admin-service.ts';
import { timeZoneNames } from '../../domain/sla/schedule-service.ts';
import { ctxFrom } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { single } from '../shared/area.ts';
import { choiceOptions, pageNav, type FieldSpec } from './admin-crud.ts';
import { formatWhen } from './admin-agent-routes.ts';

const check = (name: string, label: string): FieldSpec => ({ name, label, type: 'checkbox' });

async function settingsFields(ctx: ServiceContext): Promise<FieldSpec[]> {
  const c = await listAdminChoices(ctx);
  const active = <T extends { isActive: boolean }>(l: T[]) => l.filter((x) => x.isActive);
  return [
    { name: 'general', label: 'General', type: 'heading' },
    { name: 'helpdesk_name', label: 'Help desk name', required: true, maxlength: 120 },
    { name: 'public_url', label: 'Help desk URL', type: 'readonly', hint: 'Set by the PUBLIC_URL environment variable; links in mail use it.' },
    { name: 'timezone', label: 'Time zone', type: 'select', options: timeZoneNames().map((z) => ({ value: z, label: z })) },
    { name: 'page_size', label: 'Rows per page', type: 'number', required: true },
    { name: 'defaults', label: 'Defaults for new tickets', type: 'heading' },
    { name: 'default_department_id', label: 'Department', type: 'select', required: true, options: choiceOptions(active(c.departments), 'Choose…') },
    { name: 'default_sla_plan_id', label: 'SLA plan', type: 'select', options: choiceOptions(active(c.slaPlans), 'No SLA') },
    { name: 'default_priority_id', label: 'Priority', type: 'select', required: true, options: choiceOptions(active(c.priorities), 'Choose…') },
    { name: 'default_topic_id', label: 'Help topic', type: 'select', options: choiceOptions(active(c.topics), 'None') },
    { name: 'default_schedule_id', label: 'Schedule', type: 'select', options: choiceOptions(active(c.schedules), '24/7') },
    { name: 'tickets', label: 'Tickets', type: 'heading' },
    { name: 'ticket_number_format', label: 'Ticket numbers', type: 'select', options: [{ value: 'random', label: 'Random digits' }, { value: 'sequential', label: 'Sequential' }] },
    { name: 'ticket_number_length', label: 'Digits in a random number', type: 'number', hint: '4 to 12.' },
    check('reopen_on_user_reply', 'A reply from the user reopens a closed ticket'),
    check('portal_allow_cc', `People opening a ticket on the portal may copy others in (CCs, up to ${PORTAL_MAX_CC}): they get the replies and may answer`),
    check('auto_claim_on_reply', 'An agent who replies to an unassigned ticket claims it'),
    { name: 'lock_minutes', label: 'Ticket lock (minutes)', type: 'number', hint: 'How long an agent working on a ticket holds it.' },
    { name: 'waiting_auto_close_days', label: 'Close tickets waiting on the requester after (days)', type: 'number', hint: 'A ticket an agent set to wait for the requester is closed (and the requester told) when they have not answered for this many days. 0 = never.' },
    { name: 'overdue_interval_seconds', label: 'Overdue check interval (seconds)', type: 'number' },
    { name: 'attachments', label: 'Attachments', type: 'heading' },
    { name: 'attachment_max_mb', label: 'Maximum file size (MB)', type: 'number' },
    { name: 'attachment_max_count', label: 'Files per message', type: 'number', hint: '0 turns attachments off.' },
    { name: 'attachment_allowed_types', label: 'Allowed file types', hint: 'Extensions separated by commas; empty allows any type.' },
    { name: 'mail', label: 'Email', type: 'heading' },
    { name: 'inbound_address', label: 'Help desk address (inbound)', type: 'email', hint: 'Users reply to it; mail to it threads into tickets.' },
    check('autoresponse_new_ticket', 'Auto-response to the user: new ticket'),
    check('autoresponse_new_message', 'Auto-response to the user: new message'),
    check('notice_response', 'Notice to the user: agent response'),
    check('notice_closed', 'Notice to the user: ticket closed'),
    check('alert_new_ticket', 'Alert to agents: new ticket'),
    check('alert_new_message', 'Alert to agents: new message'),
    check('alert_assigned', 'Alert to agents: ticket assigned'),
    check('alert_transfer', 'Alert to agents: ticket transferred'),
    check('alert_overdue', 'Alert to agents: ticket overdue'),
    { name: 'security', label: 'Sign-in and sessions', type: 'heading' },
    { name: 'login_max_failures', label: 'Failed sign-ins before lockout', type: 'number' },
    { name: 'login_lockout_minutes', label: 'Lockout (minutes)', type: 'number' },
    { name: 'require_2fa', label: 'Two-factor sign-in required for', type: 'select', options: [{ value: 'none', label: 'Nobody' }, { value: 'admins', label: 'Administrators' }, { value: 'all', label: 'All agents' }] },
    { name: 'session_idle_minutes', label: 'Idle timeout (minutes)', type: 'number' },
    { name: 'session_absolute_hours', label: 'Absolute session timeout (hours)', type: 'number' },
    { name: 'webhooks', label: 'Webhooks', type: 'heading' },
    {
      name: 'webhooks_allow_local_network', label: 'Allow webhooks to the local network', type: 'checkbox',
      hint: 'Lets webhooks reach loopback and private addresses (127.0.0.1, 10.x, 172.16–31.x, 192.168.x, fc00::/7): a system inside your network. Off, they reach public addresses only. Cloud metadata and other link-local addresses (169.254.x, fe80::) are refused either way.',
    },
  ];
}

export function adminSettingsRoutes(): Router {
  const router = Router();
  const show = async (req: any, res: any, extra: { errors?: FieldErrors; values?: Record<string, unknown>; status?: number } = {}) => {
    const ctx = ctxFrom(req, res);
    const values = { ...(extra.values ?? (await getSettingsForm(ctx))), public_url: ctx.publicUrl };
    await render(req, res, 'admin/crud/form', {
      cfg: { base: '/scp/admin/settings', title: 'Settings' }, heading: 'Settings', action: '/scp/admin/settings',
      fields: await settingsFields(ctx), item: null, actions: [], values, errors: extra.errors ?? {},
    }, { title: 'Settings', status: extra.status });
  };
  // ## Settings
  router.get('/settings', (req, res) => show(req, res));
  router.post('/settings', async (req, res) => {
    try {
      await updateSettings(ctxFrom(req, res), req.body ?? {});
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      const { _csrf, ...values } = req.body ?? {};
      return show(req, res, { errors: err.fields, values, status: 422 });
    }
    flash(req, 'success', 'Settings saved.');
    res.redirect(303, '/scp/admin/settings');
  });
  // ## Audit log
  router.get('/audit', async (req, res) => {
    const entity = single(req.query.entity)?.slice(0, 32) || undefined;
    const result = await listAuditLog(ctxFrom(req, res), { entity, page: single(req.query.page) });
    const zone = res.locals.settings?.timezone ?? 'UTC';
    const rows = result.items.map((e) => ({
      ...e, when: formatWhen(e.at, zone), who: e.agentName ?? (e.actorKind === 'agent' ? `Agent #${e.agentId ?? '?'}` : e.actorKind),
      before: e.before == null ? '' : JSON.stringify(e.before, null, 1), after: e.after == null ? '' : JSON.stringify(e.after, null, 1),
    }));
    await render(req, res, 'admin/audit/list', { rows, entity: entity ?? '', entities: result.entities, page: pageNav(result, '/scp/admin/audit', { entity }) }, { title: 'Audit log' });
  });
  return router;
}
