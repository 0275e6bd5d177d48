/**
 * Admin: agents — identity, role, primary department and extra department access, teams,
 * active/locked state and password-reset links. Passwords are only ever stored as bcrypt hashes.
 * The last active administrator cannot be demoted, locked, disabled or deleted.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, toDbDate, whereLike } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { createAccessToken } from '../auth/access-tokens.ts';
import { hashPassword } from '../auth/passwords.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict, ValidationFailed } from '../errors.ts';
import { defaultRoleId } from '../roles/role-service.ts';
import { queueMail } from '../mail/outbox-service.ts';
import { getSettings } from '../settings/settings-service.ts';
import { checkbox, email, parseForm, password, requiredText, signatureText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, checkForm, deleteCatalogRow, idList, loadRow, nameTaken, paginate, validateForm, writeOrConflict,
  type CatalogSpec, type FormCheck, type FormInput, type Page,
} from '../admin/admin-support.ts';

export const RESET_TTL_MINUTES = 60;
/** "Locked by an administrator" = locked until the end of time (unlock clears it). */
const LOCKED_FOREVER = new Date('9999-12-31T00:00:00.000Z');

export interface AgentDetail {
  id: number;
  name: string;
  username: string;
  email: string;
  role: 'admin' | 'agent';
  departmentId: number;
  extraDepartmentIds: number[];
  /** The agent's role (roles.id; null: none): their ticket permissions (administrators have every one anyway). */
  roleId: number | null;
  /** Extra departments with a role of their own (osTicket's extended access), by department id. */
  departmentRoles: Record<number, number>;
  teamIds: number[];
  isActive: boolean;
  lockedUntil: Date | null;
  failedLogins: number;
  lastLoginAt: Date | null;
  /** Appended to a reply when the agent chooses "My signature" (null: none); the agent edits it on their profile too. */
  signature: string | null;
  /** Away (vacation): no alerts, no automatic assignments; the agent sets it on their profile too. */
  isAway: boolean;
}
export type AgentListItem = Omit<AgentDetail, 'extraDepartmentIds' | 'teamIds' | 'departmentRoles'> & { departmentName: string; roleName: string | null };

const toAgentBase = (r: any) => ({
  id: r.id, name: r.name, username: r.username, email: r.email, role: (r.role === 'admin' ? 'admin' : 'agent') as AgentDetail['role'],
  departmentId: r.department_id, roleId: r.role_id === null || r.role_id === undefined ? null : Number(r.role_id), isActive: dbBool(r.is_active), lockedUntil: dbDate(r.locked_until), failedLogins: Number(r.failed_logins ?? 0),
  lastLoginAt: dbDate(r.last_login_at), signature: r.signature ?? null, isAway: dbBool(r.is_away),
});

export const agentSpec: CatalogSpec = {
  table: 'agents', entity: 'agent', label: 'agent', toDomain: (r) => ({ ...toAgentBase(r), lastLoginAt: undefined }),
  usedBy: [
    { table: 'tickets', column: 'assignee_agent_id', label: 'assigned ticket' },
    { table: 'thread_entries', column: 'agent_id', label: 'thread entry' },
    { table: 'ticket_events', column: 'agent_id', label: 'ticket event' },
    { table: 'ticket_filters', column: 'assignee_agent_id', label: 'ticket filter' },
    { table: 'organizations', column: 'manager_agent_id', label: 'organization' },
  ],
};

/** The form's role selects: `roleId`, and `deptRole_<department id>` per extra department ('' = the agent's role). */
const DEPT_ROLE = /^deptRole_(\d{1,10})$/;
const roleChoice = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.coerce.number({ error: 'Choose a role' }).int('Choose a role').positive('Choose a role').optional());

/** The raw form with its `deptRole_<id>` fields gathered into `departmentRoles` (absent when the form sent none: keep the agent's). */
function withDepartmentRoles(raw: unknown): Record<string, unknown> {
  const r = { ...((raw ?? {}) as Record<string, unknown>) };
  const entries = Object.entries(r).filter(([k]) => DEPT_ROLE.test(k));
  if (entries.length) r.departmentRoles = Object.fromEntries(entries.map(([k, v]) => [DEPT_ROLE.exec(k)![1], v]));
  return r;
}

const primaryDept = z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number({ error: 'Choose a primary department' }).int().positive('Choose a primary department'));
export const AgentInput = z.object({
  name: requiredText(120, 'Name'),
  username: requiredText(64, 'Username').regex(/^[A-Za-z0-9._-]+$/, 'Use letters, digits, dot, dash or underscore'),
  email,
  role: z.enum(['admin', 'agent'], { error: 'Choose a role' }),
  departmentId: primaryDept,
  extraDepartmentIds: idList,
  /** Absent: "Expanded access" for a new agent (defaultRoleId), the same role on an update. */
  roleId: roleChoice,
  departmentRoles: z.record(z.string(), roleChoice).optional()
    .transform((m) => (m ? Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined).map(([k, v]) => [Number(k), v!])) as Record<number, number> : undefined)),
  teamIds: idList,
  signature: signatureText,
  isAway: checkbox.default(false),
});
export type AgentInput = FormInput<typeof AgentInput>;
export const CreateAgentInput = AgentInput.extend({
  password: z.preprocess((v) => (v === '' ? undefined : v), password.optional()),
  sendResetLink: checkbox,
});
export type CreateAgentInput = FormInput<typeof CreateAgentInput>;
type Parsed = z.output<typeof AgentInput>;

/** Agents by name, a page at a time, optionally filtered by name/username/email. @throws Forbidden */
export async function listAgents(ctx: ServiceContext, opts: { q?: string; page?: unknown }): Promise<Page<AgentListItem>> {
  assertAdmin(ctx);
  const settings = await getSettings(ctx.db);
  const q = ctx.db('agents as a').join('departments as d', 'd.id', 'a.department_id').select('a.*', 'd.name as department_name').orderBy([{ column: 'a.name' }, { column: 'a.id' }]);
  const needle = opts.q?.trim().slice(0, 100);
  if (needle) q.where((w) => { whereLike(w, 'a.name', needle); w.orWhere((o) => whereLike(o, 'a.username', needle)).orWhere((o) => whereLike(o, 'a.email', needle)); });
  q.leftJoin('roles as r', 'r.id', 'a.role_id').select('r.name as role_name');
  return paginate(ctx.db, q, opts.page, settings.page_size, (r) => ({ ...toAgentBase(r), departmentName: r.department_name, roleName: r.role_name ?? null }));
}

/** @throws Forbidden, NotFound */
export async function getAgent(ctx: ServiceContext, agentId: number): Promise<AgentDetail> {
  assertAdmin(ctx);
  return readAgent(ctx.db, agentId);
}

async function readAgent(db: Knex | Knex.Transaction, agentId: number): Promise<AgentDetail> {
  const row = await loadRow(db, agentSpec, agentId);
  const access = await db('departments_agents').where({ agent_id: agentId }).orderBy('department_id').select('department_id', 'role_id');
  const teamIds = (await db('teams_agents').where({ agent_id: agentId }).orderBy('team_id').pluck('team_id')).map(Number);
  const departmentRoles = Object.fromEntries(access.filter((a: any) => a.role_id).map((a: any) => [Number(a.department_id), Number(a.role_id)]));
  return { ...toAgentBase(row), extraDepartmentIds: access.map((a: any) => Number(a.department_id)), departmentRoles, teamIds };
}

/** True when `row` is an active, unlocked admin and no other such admin exists. */
async function isLastActiveAdmin(trx: Knex | Knex.Transaction, row: any, now: Date): Promise<boolean> {
  const locked = dbDate(row.locked_until);
  if (row.role !== 'admin' || !dbBool(row.is_active) || (locked && locked > now)) return false;
  const other = await trx('agents').where({ role: 'admin', is_active: true }).whereNot('id', row.id)
    .where((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', toDbDate(now))).first('id');
  return !other;
}

async function guardAdminAccess(ctx: ServiceContext, trx: Knex | Knex.Transaction, row: any, verb: string, field?: string): Promise<void> {
  if (ctx.actor.kind === 'agent' && ctx.actor.id === row.id && verb !== 'demoted')
    throw new Conflict(`You cannot have your own account ${verb}. Ask another administrator.`, 'SELF');
  if (await isLastActiveAdmin(trx, row, ctx.clock())) {
    const message = `This is the last active administrator, so the account cannot be ${verb}. Make another agent an administrator first.`;
    throw new Conflict(message, 'LAST_ADMIN', field ? { fields: { [field]: message } } : undefined);
  }
}

/** References, username and email: checked with the rest of the form, so every problem shows at once. */
const accountChecks = (db: Knex | Knex.Transaction, v: Partial<Parsed>, exceptId?: number): FormCheck[] => [
  () => assertRefs(db, [['departmentId', 'departments', v.departmentId], ['extraDepartmentIds', 'departments', v.extraDepartmentIds], ['teamIds', 'teams', v.teamIds], ['roleId', 'roles', v.roleId]]),
  () => assertRefs(db, Object.entries(v.departmentRoles ?? {}).map(([d, r]): [string, string, number] => [`deptRole_${d}`, 'roles', r])),
  () => assertUnique(db, agentSpec, 'username', v.username, exceptId),
  () => assertUnique(db, agentSpec, 'email', v.email, exceptId),
];

/** The username and email checked again in the write's transaction (see assertUnique). */
async function uniqueAgain(trx: Knex.Transaction, input: Parsed, exceptId?: number): Promise<void> {
  await assertUnique(trx, agentSpec, 'username', input.username, exceptId);
  await assertUnique(trx, agentSpec, 'email', input.email, exceptId);
}

/** Extra departments (each with its own role, or null: the agent's) and teams. `departmentRoles` absent: each keeps the role it had. */
async function writeAccess(trx: Knex.Transaction, agentId: number, input: Parsed) {
  const kept = input.departmentRoles ?? Object.fromEntries((await trx('departments_agents').where({ agent_id: agentId }).whereNotNull('role_id').select('department_id', 'role_id')).map((a: any) => [Number(a.department_id), Number(a.role_id)]));
  await trx('departments_agents').where({ agent_id: agentId }).delete();
  await trx('teams_agents').where({ agent_id: agentId }).delete();
  for (const d of input.extraDepartmentIds.filter((d) => d !== input.departmentId)) await trx('departments_agents').insert({ department_id: d, agent_id: agentId, role_id: kept[d] ?? null });
  for (const t of input.teamIds) await trx('teams_agents').insert({ team_id: t, agent_id: agentId });
}

/** The last active administrator keeps the role (checked with the form, and again in the write's transaction). @throws Conflict LAST_ADMIN */
async function guardDemotion(ctx: ServiceContext, db: Knex | Knex.Transaction, row: any): Promise<void> {
  if (row.role === 'admin') await guardAdminAccess(ctx, db, row, 'demoted', 'role');
}

/** The form as stored: extra departments without the primary one, department roles only for extra departments. */
const snapshot = (input: Parsed, roleId: number | null, departmentRoles: Record<number, number>) => {
  const extraDepartmentIds = input.extraDepartmentIds.filter((d) => d !== input.departmentId);
  return { ...input, extraDepartmentIds, roleId, departmentRoles: Object.fromEntries(Object.entries(departmentRoles).filter(([d]) => extraDepartmentIds.includes(Number(d)))) };
};
const conflictOnUnique = () => nameTaken('agent', 'username', 'username or email');

/** Parses and checks the create form, reporting a missing password-or-link and taken names together with the other field errors. */
function validateCreateInput(db: Knex | Knex.Transaction, raw: CreateAgentInput): Promise<z.output<typeof CreateAgentInput>> {
  const form = parseForm(CreateAgentInput, withDepartmentRoles(raw));
  const r = (raw ?? {}) as Record<string, unknown>;
  const wantsLink = checkbox.safeParse(r.sendResetLink).data === true;
  if (!form.fields.password && !(typeof r.password === 'string' && r.password) && !wantsLink)
    form.fields.password = 'Set an initial password, or choose to send a password-reset link';
  return checkForm(form, (v) => accountChecks(db, v));
}

/**
 * Creates an agent with an initial password chosen by the admin, or a password-reset link mailed
 * to them (or both). @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN
 */
export async function createAgent(ctx: ServiceContext, raw: CreateAgentInput): Promise<AgentDetail> {
  assertAdmin(ctx);
  const { password: plain, sendResetLink, ...input } = await validateCreateInput(ctx.db, raw);
  const roleId = input.roleId ?? (await defaultRoleId(ctx.db));
  if (!roleId) throw new ValidationFailed({ roleId: 'Choose a role' });
  // Without a chosen password the hash is of random bytes nobody knows: only the reset link opens the account.
  const hash = await hashPassword(plain ?? crypto.randomBytes(32).toString('hex'));
  const agentId = await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await uniqueAgain(trx, input);
    const now = toDbDate(ctx.clock());
    const [newId] = await trx('agents').insert({
      name: input.name, username: input.username, email: input.email, role: input.role, role_id: roleId, department_id: input.departmentId, signature: input.signature, is_away: input.isAway, password_hash: hash,
      is_active: true, failed_logins: 0, password_changed_at: plain ? now : null, created_at: now, updated_at: now,
    });
    await writeAccess(trx, newId, input);
    await recordAudit(ctx, trx, { action: 'agent.create', entity: 'agent', entityId: newId, after: { ...snapshot(input, roleId, input.departmentRoles ?? {}), initialPassword: plain ? 'set by admin' : 'reset link' } });
    if (sendResetLink) await queueReset(ctx, trx, await loadRow(trx, agentSpec, newId));
    return newId;
  }), conflictOnUnique);
  return readAgent(ctx.db, agentId);
}

/** Updates identity, role and access. @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN / LAST_ADMIN */
export async function updateAgent(ctx: ServiceContext, agentId: number, raw: AgentInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validateForm(AgentInput, withDepartmentRoles(raw), (v) => [
    ...accountChecks(ctx.db, v, agentId),
    async () => v.role === 'agent' && guardDemotion(ctx, ctx.db, await loadRow(ctx.db, agentSpec, agentId)),
  ]);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await uniqueAgain(trx, input, agentId);
    const row = await loadRow(trx, agentSpec, agentId);
    const before = await readAgent(trx, agentId);
    if (input.role !== 'admin') await guardDemotion(ctx, trx, row);
    await trx('agents').where({ id: agentId }).update({
      name: input.name, username: input.username, email: input.email, role: input.role, role_id: input.roleId ?? before.roleId, department_id: input.departmentId, signature: input.signature, is_away: input.isAway, updated_at: toDbDate(ctx.clock()),
    });
    await writeAccess(trx, agentId, input);
    await recordAudit(ctx, trx, { action: 'agent.update', entity: 'agent', entityId: agentId, ...changes({ ...before }, snapshot(input, input.roleId ?? before.roleId, input.departmentRoles ?? before.departmentRoles)) });
  }), conflictOnUnique);
}

async function changeState(ctx: ServiceContext, agentId: number, action: string, verb: string | null, patch: Record<string, unknown>, endSessions: boolean): Promise<void> {
  assertAdmin(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await loadRow(trx, agentSpec, agentId);
    if (verb) await guardAdminAccess(ctx, trx, row, verb);
    await trx('agents').where({ id: agentId }).update({ ...patch, updated_at: toDbDate(ctx.clock()) });
    if (endSessions) await trx('sessions').where({ agent_id: agentId }).delete();
    const before = Object.fromEntries(Object.keys(patch).map((k) => [k, row[k]]));
    await recordAudit(ctx, trx, { action: `agent.${action}`, entity: 'agent', entityId: agentId, before, after: patch });
  });
}

/** Enables or disables an agent; disabling ends their sessions. @throws Forbidden, NotFound, Conflict LAST_ADMIN / SELF */
export function setAgentActive(ctx: ServiceContext, agentId: number, active: boolean): Promise<void> {
  return changeState(ctx, agentId, active ? 'enable' : 'disable', active ? null : 'disabled', { is_active: active }, !active);
}

/** Locks an agent out until an admin unlocks them; ends their sessions. @throws Forbidden, NotFound, Conflict LAST_ADMIN / SELF */
export function lockAgent(ctx: ServiceContext, agentId: number): Promise<void> {
  return changeState(ctx, agentId, 'lock', 'locked', { locked_until: toDbDate(LOCKED_FOREVER) }, true);
}

/** Clears a lockout (by failed sign-ins or by an admin). @throws Forbidden, NotFound */
export function unlockAgent(ctx: ServiceContext, agentId: number): Promise<void> {
  return changeState(ctx, agentId, 'unlock', null, { locked_until: null, failed_logins: 0 }, false);
}

/**
 * Deletes an agent with no ticket history (otherwise: disable). Department manager links are
 * cleared here because SQLite has no foreign key for them. @throws Forbidden, NotFound, Conflict IN_USE / LAST_ADMIN / SELF
 */
export function deleteAgent(ctx: ServiceContext, agentId: number): Promise<void> {
  return deleteCatalogRow(ctx, agentSpec, agentId, async (trx) => {
    await guardAdminAccess(ctx, trx, await loadRow(trx, agentSpec, agentId), 'deleted');
    await trx('departments').where({ manager_agent_id: agentId }).update({ manager_agent_id: null });
    await trx('sessions').where({ agent_id: agentId }).delete();
  });
}

async function queueReset(ctx: ServiceContext, trx: Knex.Transaction, row: any): Promise<void> {
  const token = await createAccessToken(trx, { kind: 'password_reset', agentId: row.id, ttlMinutes: RESET_TTL_MINUTES }, ctx.clock());
  const link = `${ctx.publicUrl}/scp/password/reset?token=${encodeURIComponent(token)}`;
  await queueMail(ctx, trx, { template: 'password-reset', to: row.email, toName: row.name, automatic: 'auto-generated', vars: { name: row.name, link, minutes: RESET_TTL_MINUTES } });
  await recordAudit(ctx, trx, { action: 'agent.password_reset_sent', entity: 'agent', entityId: row.id });
}

/** Mails the agent a single-use password-reset link valid for an hour. @throws Forbidden, NotFound, Conflict AGENT_DISABLED */
export async function sendAgentPasswordReset(ctx: ServiceContext, agentId: number): Promise<void> {
  assertAdmin(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await loadRow(trx, agentSpec, agentId);
    if (!dbBool(row.is_active)) throw new Conflict('This agent is disabled. Enable the account before sending a reset link.', 'AGENT_DISABLED');
    await queueReset(ctx, trx, row);
  });
}
