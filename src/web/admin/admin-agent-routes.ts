/** Admin: agents (paginated list, create with a password or a reset link, access, lock/unlock, reset link). */
import { Router } from 'express';
import { listAdminChoices } from '../../domain/admin/admin-choices.ts';
import * as agents from '../../domain/agents/agent-service.ts';
import * as roles from '../../domain/roles/role-service.ts';
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
  path: 'agents', title: 'Agents', singular: 'agent', columns: ['Name', 'Username', 'Email', 'Account', 'Role', 'Department', 'Last sign-in'],
  search: true,
  secret: ['password'],
  // A new agent: every permission but delete ("Expanded access", while it exists), as agents had before roles.
  defaults: async (ctx) => ({ role: 'agent', sendResetLink: true, roleId: (await roles.defaultRoleId(ctx.db)) ?? '' }),
  list: async (ctx, query) => {
    const page = await agents.listAgents(ctx, query);
    const { timezone } = await getSettings(ctx.db);
    const now = ctx.clock();
    return {
      page,
      rows: page.items.map((a) => ({
        id: a.id, isActive: a.isActive, status: !a.isActive ? 'Disabled' : isLocked(a.lockedUntil, now) ? 'Locked' : a.isAway ? 'Away' : 'Active',
        cells: [a.name, a.username, a.email, a.role === 'admin' ? 'Administrator' : 'Agent', a.roleName ?? '—', a.departmentName, formatWhen(a.lastLoginAt, timezone)],
      })),
    };
  },
  fields: async (ctx, mode, item) => {
    const c = await listAdminChoices(ctx);
    // Disabled roles are not offered, unless the agent has one (kept, marked).
    const current = item ? [item.values.roleId, ...Object.values(item.values.departmentRoles as Record<number, number>)] : [];
    const roleOpts = choiceOptions((await roles.roleChoices(ctx)).filter((r) => r.isActive || current.includes(r.id)))!;
    const fields: FieldSpec[] = [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'username', label: 'Username', required: true, maxlength: 64 },
      { name: 'email', label: 'Email', type: 'email', required: true },
      { name: 'role', label: 'Account', type: 'select', options: [{ value: 'agent', label: 'Agent' }, { value: 'admin', label: 'Administrator' }], hint: 'Administrators reach the admin area and have every ticket permission in every department, whatever their role.' },
      { name: 'roleId', label: 'Role', type: 'select', required: true, options: roleOpts, hint: 'What the agent may do on the tickets of their departments (Admin → Roles).' },
      { name: 'departmentId', label: 'Primary department', type: 'select', required: true, options: choiceOptions(c.departments, 'Choose…') },
      {
        name: 'extraDepartmentIds', label: 'Extra department access', type: 'checkboxes', options: choiceOptions(c.departments),
        hint: 'The primary department is always included.', impliedBy: { field: 'departmentId', note: 'primary department' },
      },
      { name: 'deptRoles', label: 'Role per extra department', type: 'heading' },
      ...c.departments.map((d): FieldSpec => ({
        name: `deptRole_${d.id}`, label: `Role in ${d.name}${d.isActive ? '' : ' (disabled)'}`, type: 'select', options: [{ value: '', label: 'The agent’s role' }, ...roleOpts],
        hint: d === c.departments[0] ? 'Only where the agent has extra access (ticked above); ignored for the primary department.' : undefined,
      })),
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
    const { lockedUntil, lastLoginAt, failedLogins, ...detail } = a;
    // The per-department role selects (deptRole_<department id>).
    const values = { ...detail, ...Object.fromEntries(Object.entries(a.departmentRoles).map(([d, r]) => [`deptRole_${d}`, r])) };
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
