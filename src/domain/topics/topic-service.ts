/** Admin: help topics — name, public or internal, default department, priority and SLA plan. */
import { z } from 'zod';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { checkbox, optionalId, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

export interface Topic {
  id: number;
  name: string;
  isPublic: boolean;
  departmentId: number | null;
  priorityId: number | null;
  slaPlanId: number | null;
  isActive: boolean;
}
export interface TopicListItem extends Topic {
  departmentName: string | null;
  priorityName: string | null;
  slaPlanName: string | null;
}

const toTopic = (r: any): Topic => ({
  id: r.id, name: r.name, isPublic: dbBool(r.is_public), departmentId: r.department_id ?? null, priorityId: r.priority_id ?? null,
  slaPlanId: r.sla_plan_id ?? null, isActive: dbBool(r.is_active),
});

export const topicSpec: CatalogSpec<Topic> = {
  table: 'help_topics', entity: 'help_topic', label: 'help topic', defaultKey: 'default_topic_id', toDomain: toTopic,
  usedBy: [
    { table: 'tickets', column: 'topic_id', label: 'ticket' },
    { table: 'ticket_filters', column: 'topic_id', label: 'ticket filter' },
    { table: 'ticket_field_topics', column: 'topic_id', label: 'custom field' },
  ],
};

export const TopicInput = z.object({
  name: requiredText(120, 'Name'),
  isPublic: checkbox,
  departmentId: optionalId,
  priorityId: optionalId,
  slaPlanId: optionalId,
});
export type TopicInput = FormInput<typeof TopicInput>;
type Parsed = z.output<typeof TopicInput>;
const toRow = (i: Parsed) => ({ name: i.name, is_public: i.isPublic, department_id: i.departmentId ?? null, priority_id: i.priorityId ?? null, sla_plan_id: i.slaPlanId ?? null });

/** All topics by name with their routing. @throws Forbidden */
export async function listTopics(ctx: ServiceContext): Promise<TopicListItem[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('help_topics as t')
    .leftJoin('departments as d', 'd.id', 't.department_id')
    .leftJoin('priorities as p', 'p.id', 't.priority_id')
    .leftJoin('sla_plans as s', 's.id', 't.sla_plan_id')
    .select('t.*', 'd.name as department_name', 'p.name as priority_name', 's.name as sla_plan_name')
    .orderBy('t.name');
  return rows.map((r: any) => ({ ...toTopic(r), departmentName: r.department_name ?? null, priorityName: r.priority_name ?? null, slaPlanName: r.sla_plan_name ?? null }));
}

/** @throws Forbidden, NotFound */
export async function getTopic(ctx: ServiceContext, topicId: number): Promise<Topic> {
  assertAdmin(ctx);
  return toTopic(await loadRow(ctx.db, topicSpec, topicId));
}

/** Parses the form and checks references and the name, reporting every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
function validate(ctx: ServiceContext, raw: TopicInput, exceptId?: number): Promise<Parsed> {
  return validateForm(TopicInput, raw, (v) => [
    () => assertRefs(ctx.db, [['departmentId', 'departments', v.departmentId], ['priorityId', 'priorities', v.priorityId], ['slaPlanId', 'sla_plans', v.slaPlanId]]),
    () => assertUnique(ctx.db, topicSpec, 'name', v.name, exceptId),
  ]);
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createTopic(ctx: ServiceContext, raw: TopicInput): Promise<Topic> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, topicSpec, 'name', input.name);
    const now = toDbDate(ctx.clock());
    const [topicId] = await trx('help_topics').insert({ ...toRow(input), is_active: true, created_at: now, updated_at: now });
    const topic = toTopic({ ...toRow(input), id: topicId, is_active: true });
    await recordAudit(ctx, trx, { action: 'help_topic.create', entity: 'help_topic', entityId: topicId, after: topic });
    return topic;
  }), () => nameTaken('help topic'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateTopic(ctx: ServiceContext, topicId: number, raw: TopicInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, topicId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, topicSpec, 'name', input.name, topicId);
    const before = toTopic(await loadRow(trx, topicSpec, topicId));
    await trx('help_topics').where({ id: topicId }).update({ ...toRow(input), updated_at: toDbDate(ctx.clock()) });
    const after = toTopic({ ...toRow(input), id: topicId, is_active: before.isActive });
    await recordAudit(ctx, trx, { action: 'help_topic.update', entity: 'help_topic', entityId: topicId, ...changes({ ...before }, { ...after }) });
  }), () => nameTaken('help topic'));
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT */
export function setTopicActive(ctx: ServiceContext, topicId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, topicSpec, topicId, active);
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT / IN_USE */
export function deleteTopic(ctx: ServiceContext, topicId: number): Promise<void> {
  return deleteCatalogRow(ctx, topicSpec, topicId);
}
