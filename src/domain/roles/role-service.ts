/**
 * Admin: roles (osTicket's) — a name, the ticket permissions it grants (role-permissions.ts) and notes.
 * Agents have one (agents.role_id) and may have another per extra department (departments_agents.role_id).
 * Every change writes a new `roles_version`, so each process re-reads the permissions (role-queries.ts).
 * A disabled role is no longer offered for agents; those who have it keep it (and its permissions). A
 * role in use cannot be deleted: the refusal names who uses it.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict } from '../errors.ts';
import { writeSettings } from '../settings/settings-service.ts';
import { optionalText, requiredText } from '../validation.ts';
import {
  assertAdmin, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type Choice, type FormInput,
} from '../admin/admin-support.ts';
import { PERMISSION_KEYS, parsePermissions, type Permission } from './role-permissions.ts';

type Db = Knex | Knex.Transaction;

export interface Role {
  id: number;
  name: string;
  permissions: Permission[];
  notes: string | null;
  isActive: boolean;
}
export interface RoleListItem extends Role {
  /** Agents whose role it is, plus extra-department accesses with it. */
  agentCount: number;
}

const toRole = (r: any): Role => ({ id: Number(r.id), name: r.name, permissions: parsePermissions(r.permissions), notes: r.notes ?? null, isActive: dbBool(r.is_active) });

/** Who uses a role is told by name (roleUsers), so usedBy stays empty: deleteRole checks it itself. */
export const roleSpec: CatalogSpec<Role> = { table: 'roles', entity: 'role', label: 'role', toDomain: toRole, usedBy: [] };

const permissionList = z.preprocess(
  (v) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]),
  z.array(z.enum(PERMISSION_KEYS as [Permission, ...Permission[]], { error: 'Choose permissions from the list' })).max(50).transform((a) => PERMISSION_KEYS.filter((k) => a.includes(k))),
);
export const RoleInput = z.object({ name: requiredText(120, 'Name'), permissions: permissionList, notes: optionalText(2000, 'Notes') });
export type RoleInput = FormInput<typeof RoleInput>;
type Parsed = z.output<typeof RoleInput>;

/** Every role by name, with how many agents have it. @throws Forbidden */
export async function listRoles(ctx: ServiceContext): Promise<RoleListItem[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('roles as r')
    .select('r.*')
    .select(ctx.db('agents as a').count('*').whereRaw('?? = ??', ['a.role_id', 'r.id']).as('agent_count'))
    .select(ctx.db('departments_agents as da').count('*').whereRaw('?? = ??', ['da.role_id', 'r.id']).as('access_count'))
    .orderBy('r.name');
  return rows.map((r: any) => ({ ...toRole(r), agentCount: Number(r.agent_count) + Number(r.access_count) }));
}

/** The roles to choose from on the agent form (disabled ones marked: an agent may still have one). @throws Forbidden */
export async function roleChoices(ctx: ServiceContext): Promise<Choice[]> {
  assertAdmin(ctx);
  return (await ctx.db('roles').orderBy(['name', 'id']).select('id', 'name', 'is_active')).map((r: any) => ({ id: Number(r.id), name: String(r.name), isActive: dbBool(r.is_active) }));
}

/** The role and who has it (roleUsers). @throws Forbidden, NotFound */
export async function getRole(ctx: ServiceContext, roleId: number): Promise<Role & { usedBy: string[] }> {
  assertAdmin(ctx);
  return { ...toRole(await loadRow(ctx.db, roleSpec, roleId)), usedBy: await roleUsers(ctx.db, roleId) };
}

/** The names of the agents who have the role, as their own or for an extra department ("Ann (Sales)"), by name. */
export async function roleUsers(db: Db, roleId: number): Promise<string[]> {
  const own = await db('agents').where({ role_id: roleId }).orderBy('name').pluck('name');
  const extra = await db('departments_agents as da').join('agents as a', 'a.id', 'da.agent_id').join('departments as d', 'd.id', 'da.department_id')
    .where('da.role_id', roleId).orderBy(['a.name', 'd.name']).select('a.name as agent', 'd.name as department');
  return [...own, ...extra.map((r: any) => `${r.agent} (in ${r.department})`)];
}

/** Each process reads the roles again (role-queries.ts). */
function newVersion(trx: Knex.Transaction, now: Date) {
  return writeSettings(trx, { roles_version: crypto.randomUUID() }, now);
}

function validate(ctx: ServiceContext, raw: RoleInput, exceptId?: number): Promise<Parsed> {
  return validateForm(RoleInput, raw, (v) => [() => assertUnique(ctx.db, roleSpec, 'name', v.name, exceptId)]);
}

const toRow = (input: Parsed) => ({ name: input.name, permissions: JSON.stringify(input.permissions), notes: input.notes ?? null });

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createRole(ctx: ServiceContext, raw: RoleInput): Promise<Role> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, roleSpec, 'name', input.name);
    const now = toDbDate(ctx.clock());
    const [roleId] = await trx('roles').insert({ ...toRow(input), is_active: true, created_at: now, updated_at: now });
    const role: Role = { id: roleId, name: input.name, permissions: input.permissions, notes: input.notes ?? null, isActive: true };
    await newVersion(trx, ctx.clock());
    await recordAudit(ctx, trx, { action: 'role.create', entity: 'role', entityId: roleId, after: role });
    return role;
  }), () => nameTaken('role'));
}

/** Changes take effect on the agents' next request. @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateRole(ctx: ServiceContext, roleId: number, raw: RoleInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, roleId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, roleSpec, 'name', input.name, roleId);
    const before = toRole(await loadRow(trx, roleSpec, roleId));
    await trx('roles').where({ id: roleId }).update({ ...toRow(input), updated_at: toDbDate(ctx.clock()) });
    await newVersion(trx, ctx.clock());
    await recordAudit(ctx, trx, { action: 'role.update', entity: 'role', entityId: roleId, ...changes({ ...before }, { name: input.name, permissions: input.permissions, notes: input.notes ?? null }) });
  }), () => nameTaken('role'));
}

/** Disabled: no longer offered on the agent form; the agents who have it keep it. @throws Forbidden, NotFound */
export function setRoleActive(ctx: ServiceContext, roleId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, roleSpec, roleId, active);
}

/** @throws Forbidden, NotFound, Conflict IN_USE (naming the agents who have it) */
export function deleteRole(ctx: ServiceContext, roleId: number): Promise<void> {
  return deleteCatalogRow(ctx, roleSpec, roleId, async (trx) => {
    const users = await roleUsers(trx, roleId);
    if (users.length) {
      const names = users.length > 10 ? `${users.slice(0, 10).join(', ')} and ${users.length - 10} more` : users.join(', ');
      throw new Conflict(`This role is still used by ${names}, so it cannot be deleted. Give them another role first (Admin → Agents), or disable it.`, 'IN_USE');
    }
    await newVersion(trx, ctx.clock());
  });
}

/** The role a new agent gets when the form names none: "Expanded access" (every permission but delete), while it exists. */
export async function defaultRoleId(db: Db): Promise<number | null> {
  const row = await db('roles').where({ name: 'Expanded access' }).first('id');
  return row ? Number(row.id) : null;
}
