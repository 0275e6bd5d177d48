/** Admin: agents (paginated list, create with a password or a reset link, access, lock/unlock, reset link). */
import { Router } from 'express';
import { listAdminChoices } from '../../domain/admin/admin-choices.ts';
import * as agents from '../../domain/agents/agent-service.ts';
import { getSettings } from '../../domain/settings/settings-service.ts';
import { formatDate } from '../../domain/tickets/ticket-presenters.ts';
import { SIGNATURE_MAX } from '../../domain/validation.ts';
import { choiceOptions, crudRoutes, type CrudConfig, type FieldSpec } from './admin-crud.ts';

const FAR_FUTURE_YEAR = 9000;

/** A date as agent pages show it (formatDate) in the help desk's zone (settings.timezone), or '—'. */
export function formatWhen(d: Date | null, zone: string): string {
  return d ? formatDate(d, zone) : '—';
}

const isLocked = (lockedUntil: Date | null, now: Date) => !!lockedUntil && lockedUntil > now;

const agentConfig: CrudConfig = {
  path: 'agents', title: 'Agents', singular: 'agent', columns: ['Name', 'Username', 'Email', 'Role', 'Department', 'Last sign-in'],
  search: true,
  secret: ['password'],
  defaults: { role: 'agent', sendResetLink: true },
  list: async (ctx, query) => {
    const page = await agents.listAgents(ctx, query);
    const { timezone } = await getSettings(ctx.db);
    const now = ctx.clock();
    return {
      page,
      rows: page.items.map((a) => ({
        id: a.id, isActive: a.isActive, status: !a.isActive ? 'Disabled' : isLocked(a.lockedUntil, now) ? 'Locked' : a.isAway ? 'Away' : 'Active',
        cells: [a.name, a.username, a.email, a.role === 'admin' ? 'Administrator' : 'Agent', a.departmentName, formatWhen(a.lastLoginAt, timezone)],
      })),
    };
  },
  fields: async (ctx, mode) => {
    const c = await listAdminChoices(ctx);
    const fields: FieldSpec[] = [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'username', label: 'Username', required: true, maxlength: 64 },
      { name: 'email', label: 'Email', type: 'email', required: true },
      { name: 'role', label: 'Role', type: 'select', options: [{ value: 'agent', label: 'Agent' }, { value: 'admin', label: 'Administrator' }] },
      { name: 'departmentId', label: 'Primary department', type: 'select', required: true, options: choiceOptions(c.departments, 'Choose…') },
      {
        name: 'extraDepartmentIds', label: 'Extra department access', type: 'checkboxes', options: choiceOptions(c.departments),
        hint: 'The primary department is always included.', impliedBy: { field: 'departmentId', note: 'primary department' },
      },
      { name: 'teamIds', label: 'Teams', type: 'checkboxes', options: choiceOptions(c.teams) },
      { name: 'signature', label: 'Signature', type: 'textarea', maxlength: SIGNATURE_MAX, hint: 'Added below a reply when the agent chooses “My signature”. The agent can change it on their profile.' },
      { name: 'isAway', label: 'Away (vacation, leave): no department or team alerts, no automatic assignments', type: 'checkbox', hint: 'The agent can set and clear it on their profile too.' },
    ];
    if (mode === 'new') {
      fields.push(
        { name: 'signin', label: 'First sign-in', type: 'heading' },
        { name: 'password', label: 'Initial password', type: 'password', hint: 'At least 10 characters. Leave empty to let the agent choose one from the reset link.' },
        { name: 'sendResetLink', label: `Email a password-reset link (valid ${agents.RESET_TTL_MINUTES} minutes)`, type: 'checkbox' },
      );
    }
    return fields;
  },
  load: async (ctx, id) => {
    const a = await agents.getAgent(ctx, id);
    const { timezone } = await getSettings(ctx.db);
    const locked = isLocked(a.lockedUntil, ctx.clock());
    const { lockedUntil, lastLoginAt, failedLogins, ...values } = a;
    return {
      values, name: a.name, isActive: a.isActive, locked, failedLogins,
      facts: [
        ['Status', !a.isActive ? 'Disabled' : locked ? 'Locked' : 'Active'],
        ['Locked until', locked ? (lockedUntil!.getUTCFullYear() >= FAR_FUTURE_YEAR ? 'an administrator unlocks the account' : formatWhen(lockedUntil, timezone)) : '—'],
        ['Failed sign-ins', String(failedLogins)],
        ['Last sign-in', formatWhen(lastLoginAt, timezone)],
      ],
    };
  },
  create: agents.createAgent,
  update: agents.updateAgent,
  setActive: agents.setAgentActive,
  remove: agents.deleteAgent,
  actions: [
    { name: 'reset-password', label: 'Send password-reset link', when: (i) => i.isActive, run: agents.sendAgentPasswordReset, done: 'A password-reset link was emailed to the agent.' },
    { name: 'unlock', label: 'Unlock', when: (i) => !!i.locked || Number(i.failedLogins) > 0, run: agents.unlockAgent, done: 'The agent was unlocked.' },
    { name: 'lock', label: 'Lock', confirm: 'Lock this agent out until an administrator unlocks the account?', when: (i) => !i.locked, run: agents.lockAgent, done: 'The agent was locked and signed out.' },
  ],
};

export function adminAgentRoutes(): Router {
  return crudRoutes(agentConfig);
}
