/** Admin: ticket priorities — name, urgency (1 = most urgent; queues sort by it) and colour. */
import { z } from 'zod';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Forbidden } from '../errors.ts';
import { requiredText } from '../validation.ts';
import {
  assertAdmin, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

export interface Priority {
  id: number;
  name: string;
  urgency: number;
  color: string;
  isActive: boolean;
}

const toPriority = (r: any): Priority => ({ id: r.id, name: r.name, urgency: Number(r.urgency), color: r.color, isActive: dbBool(r.is_active) });

export const prioritySpec: CatalogSpec<Priority> = {
  table: 'priorities', entity: 'priority', label: 'priority', defaultKey: 'default_priority_id', toDomain: toPriority,
  usedBy: [
    { table: 'tickets', column: 'priority_id', label: 'ticket' },
    { table: 'help_topics', column: 'priority_id', label: 'help topic' },
    { table: 'ticket_filters', column: 'priority_id', label: 'ticket filter' },
  ],
};

export const PriorityInput = z.object({
  name: requiredText(60, 'Name'),
  urgency: z.coerce.number({ error: 'Enter a whole number from 1 to 99' }).int('Enter a whole number from 1 to 99').min(1, 'Enter a whole number from 1 to 99').max(99, 'Enter a whole number from 1 to 99'),
  color: z.string({ error: 'Choose a colour' }).trim().regex(/^#[0-9a-fA-F]{6}$/, 'Use a colour like #FFC9C9').transform((c) => c.toUpperCase()),
});
export type PriorityInput = FormInput<typeof PriorityInput>;
type Parsed = z.output<typeof PriorityInput>;

/** Parses the form and checks the name, reporting every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
function validate(ctx: ServiceContext, raw: PriorityInput, exceptId?: number): Promise<Parsed> {
  return validateForm(PriorityInput, raw, (v) => [() => assertUnique(ctx.db, prioritySpec, 'name', v.name, exceptId)]);
}

/** Every priority's colour (inactive ones too: tickets may still have them), for the agent panel's badges. @throws Forbidden */
export async function listPriorityColors(ctx: ServiceContext): Promise<{ id: number; color: string }[]> {
  if (ctx.actor.kind !== 'agent') throw new Forbidden('Agents only.', 'AGENTS_ONLY');
  return (await ctx.db('priorities').orderBy('id').select('id', 'color')).map((r: any) => ({ id: Number(r.id), color: String(r.color) }));
}

/** All priorities, most urgent first. @throws Forbidden */
export async function listPriorities(ctx: ServiceContext): Promise<Priority[]> {
  assertAdmin(ctx);
  return (await ctx.db('priorities').orderBy([{ column: 'urgency' }, { column: 'name' }])).map(toPriority);
}

/** @throws Forbidden, NotFound */
export async function getPriority(ctx: ServiceContext, priorityId: number): Promise<Priority> {
  assertAdmin(ctx);
  return toPriority(await loadRow(ctx.db, prioritySpec, priorityId));
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createPriority(ctx: ServiceContext, raw: PriorityInput): Promise<Priority> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, prioritySpec, 'name', input.name);
    const now = toDbDate(ctx.clock());
    const [priorityId] = await trx('priorities').insert({ ...input, is_active: true, created_at: now, updated_at: now });
    const priority = toPriority({ ...input, id: priorityId, is_active: true });
    await recordAudit(ctx, trx, { action: 'priority.create', entity: 'priority', entityId: priorityId, after: priority });
    return priority;
  }), () => nameTaken('priority'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updatePriority(ctx: ServiceContext, priorityId: number, raw: PriorityInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, priorityId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, prioritySpec, 'name', input.name, priorityId);
    const before = toPriority(await loadRow(trx, prioritySpec, priorityId));
    await trx('priorities').where({ id: priorityId }).update({ ...input, updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: 'priority.update', entity: 'priority', entityId: priorityId, ...changes({ ...before }, { ...before, ...input }) });
  }), () => nameTaken('priority'));
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT */
export function setPriorityActive(ctx: ServiceContext, priorityId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, prioritySpec, priorityId, active);
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT / IN_USE */
export function deletePriority(ctx: ServiceContext, priorityId: number): Promise<void> {
  return deleteCatalogRow(ctx, prioritySpec, priorityId);
}
