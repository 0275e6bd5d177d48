/**
 * Admin: departments — name, default SLA plan, manager, public or not, outgoing email identity,
 * the signature agents may add to replies, members (agents with extra access) and an own schedule.
 */
import { z } from 'zod';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { checkbox, optionalId, optionalText, requiredText, signatureText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, idList, loadRow, nameTaken, optionalEmail,
  setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormCheck, type FormInput,
} from '../admin/admin-support.ts';

export interface Department {
  id: number;
  name: string;
  slaPlanId: number | null;
  scheduleId: number | null;
  managerId: number | null;
  isPublic: boolean;
  emailAddress: string | null;
  emailName: string | null;
  /** Appended to a reply on its tickets when the agent chooses "Department signature" (null: none). */
  signature: string | null;
  isActive: boolean;
}
export interface DepartmentDetail extends Department {
  memberIds: number[];
}
export interface DepartmentListItem extends Department {
  slaPlanName: string | null;
  managerName: string | null;
  memberCount: number;
}

const toDepartment = (r: any): Department => ({
  id: r.id, name: r.name, slaPlanId: r.sla_plan_id ?? null, scheduleId: r.schedule_id ?? null, managerId: r.manager_agent_id ?? null,
  isPublic: dbBool(r.is_public), emailAddress: r.email_address ?? null, emailName: r.email_name ?? null, signature: r.signature ?? null, isActive: dbBool(r.is_active),
});

export const departmentSpec: CatalogSpec<Department> = {
  table: 'departments', entity: 'department', label: 'department', defaultKey: 'default_department_id', toDomain: toDepartment,
  usedBy: [
    { table: 'tickets', column: 'department_id', label: 'ticket' },
    { table: 'agents', column: 'department_id', label: 'agent (primary department)' },
    { table: 'help_topics', column: 'department_id', label: 'help topic' },
    { table: 'canned_responses', column: 'department_id', label: 'canned response' },
    { table: 'ticket_filters', column: 'department_id', label: 'ticket filter' },
  ],
};

export const DepartmentInput = z.object({
  name: requiredText(120, 'Name'),
  slaPlanId: optionalId,
  scheduleId: optionalId,
  managerId: optionalId,
  isPublic: checkbox,
  emailAddress: optionalEmail,
  emailName: optionalText(120, 'From name'),
  signature: signatureText,
  memberIds: idList,
});
export type DepartmentInput = FormInput<typeof DepartmentInput>;

/** All departments by name, with plan, manager and member count. @throws Forbidden */
export async function listDepartments(ctx: ServiceContext): Promise<DepartmentListItem[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('departments as d')
    .leftJoin('sla_plans as s', 's.id', 'd.sla_plan_id')
    .leftJoin('agents as a', 'a.id', 'd.manager_agent_id')
    .select('d.*', 's.name as sla_plan_name', 'a.name as manager_name')
    .select(ctx.db('departments_agents as m').count('*').whereRaw('?? = ??', ['m.department_id', 'd.id']).as('member_count'))
    .orderBy('d.name');
  return rows.map((r: any) => ({ ...toDepartment(r), slaPlanName: r.sla_plan_name ?? null, managerName: r.manager_name ?? null, memberCount: Number(r.member_count) }));
}

/** One department with its members. @throws Forbidden, NotFound */
export async function getDepartment(ctx: ServiceContext, deptId: number): Promise<DepartmentDetail> {
  assertAdmin(ctx);
  const row = await loadRow(ctx.db, departmentSpec, deptId);
  const memberIds = (await ctx.db('departments_agents').where({ department_id: deptId }).orderBy('agent_id').pluck('agent_id')).map(Number);
  return { ...toDepartment(row), memberIds };
}

type Parsed = z.output<typeof DepartmentInput>;
function toRow(input: Parsed) {
  return {
    name: input.name, sla_plan_id: input.slaPlanId ?? null, schedule_id: input.scheduleId ?? null, manager_agent_id: input.managerId ?? null,
    is_public: input.isPublic, email_address: input.emailAddress ?? null, email_name: input.emailName ?? null, signature: input.signature,
  };
}
/** Parses the form and checks references and the name, reporting every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
function validate(ctx: ServiceContext, raw: DepartmentInput, exceptId?: number): Promise<Parsed> {
  return validateForm(DepartmentInput, raw, (v): FormCheck[] => [
    () => assertRefs(ctx.db, [['slaPlanId', 'sla_plans', v.slaPlanId], ['scheduleId', 'schedules', v.scheduleId], ['managerId', 'agents', v.managerId], ['memberIds', 'agents', v.memberIds]]),
    () => assertUnique(ctx.db, departmentSpec, 'name', v.name, exceptId),
  ]);
}
/**
 * The department's extra-access agents; one whose primary department it is needs none (kept as primary
 * only, as the agent form does). Members who stay keep their role here (departments_agents.role_id,
 * chosen on the agent form); new ones have the agent's own role.
 */
async function writeMembers(trx: any, deptId: number, memberIds: number[]) {
  const roles = new Map<number, number | null>((await trx('departments_agents').where({ department_id: deptId }).select('agent_id', 'role_id')).map((r: any) => [Number(r.agent_id), r.role_id ?? null]));
  await trx('departments_agents').where({ department_id: deptId }).delete();
  const primary = new Set(memberIds.length ? (await trx('agents').whereIn('id', memberIds).where('department_id', deptId).pluck('id')).map(Number) : []);
  for (const agentId of memberIds) if (!primary.has(agentId)) await trx('departments_agents').insert({ department_id: deptId, agent_id: agentId, role_id: roles.get(agentId) ?? null });
}
const snapshot = (input: Parsed) => ({ ...toDepartment({ ...toRow(input), is_active: true }), memberIds: input.memberIds });

/** Creates a department. @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createDepartment(ctx: ServiceContext, raw: DepartmentInput): Promise<Department> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, departmentSpec, 'name', input.name);
    const now = toDbDate(ctx.clock());
    const [deptId] = await trx('departments').insert({ ...toRow(input), is_active: true, created_at: now, updated_at: now });
    await writeMembers(trx, deptId, input.memberIds);
    const { id: _id, ...after } = snapshot(input);
    await recordAudit(ctx, trx, { action: 'department.create', entity: 'department', entityId: deptId, after });
    return { ...toDepartment({ ...toRow(input), is_active: true }), id: deptId };
  }), () => nameTaken('department'));
}

/** Updates a department and its members. @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateDepartment(ctx: ServiceContext, deptId: number, raw: DepartmentInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, deptId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, departmentSpec, 'name', input.name, deptId);
    const before = await getDepartment({ ...ctx, db: trx }, deptId);
    await trx('departments').where({ id: deptId }).update({ ...toRow(input), updated_at: toDbDate(ctx.clock()) });
    await writeMembers(trx, deptId, input.memberIds);
    const diff = changes(before as unknown as Record<string, unknown>, { ...snapshot(input), id: deptId, isActive: before.isActive });
    await recordAudit(ctx, trx, { action: 'department.update', entity: 'department', entityId: deptId, ...diff });
  }), () => nameTaken('department'));
}

/** Enables or disables a department (not the default). @throws Forbidden, NotFound, Conflict IS_DEFAULT */
export function setDepartmentActive(ctx: ServiceContext, deptId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, departmentSpec, deptId, active);
}

/** Deletes an unused, non-default department. @throws Forbidden, NotFound, Conflict IS_DEFAULT / IN_USE */
export function deleteDepartment(ctx: ServiceContext, deptId: number): Promise<void> {
  return deleteCatalogRow(ctx, departmentSpec, deptId);
}
