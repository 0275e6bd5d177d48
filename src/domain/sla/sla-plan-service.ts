/** Admin: SLA plans — name, grace period (hours, minutes allowed), first-response target, schedule, overdue alerts. */
import { z } from 'zod';
import { minutesOrNull } from './sla-service.ts';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { checkbox, optionalId, optionalText, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

export interface SlaPlan {
  id: number;
  name: string;
  graceMinutes: number;
  /** Working minutes from opening to the first agent response (null: no target). */
  firstResponseMinutes: number | null;
  /** Working minutes from a requester's message (after the first response) to the agent's reply (null: no target). */
  nextResponseMinutes: number | null;
  scheduleId: number | null;
  alertsEnabled: boolean;
  notes: string | null;
  isActive: boolean;
}
export interface SlaPlanListItem extends SlaPlan {
  scheduleName: string | null;
}

const toPlan = (r: any): SlaPlan => ({
  id: r.id, name: r.name, graceMinutes: Number(r.grace_minutes), firstResponseMinutes: minutesOrNull(r.first_response_minutes), nextResponseMinutes: minutesOrNull(r.next_response_minutes), scheduleId: r.schedule_id ?? null,
  alertsEnabled: !dbBool(r.alerts_disabled), notes: r.notes ?? null, isActive: dbBool(r.is_active),
});

export const slaPlanSpec: CatalogSpec<SlaPlan> = {
  table: 'sla_plans', entity: 'sla_plan', label: 'SLA plan', defaultKey: 'default_sla_plan_id', toDomain: toPlan,
  usedBy: [
    { table: 'tickets', column: 'sla_plan_id', label: 'ticket' },
    { table: 'departments', column: 'sla_plan_id', label: 'department' },
    { table: 'help_topics', column: 'sla_plan_id', label: 'help topic' },
    { table: 'ticket_filters', column: 'sla_plan_id', label: 'ticket filter' },
  ],
};

const MAX_GRACE_MINUTES = 365 * 24 * 60;

/** '4' → 240, '1.5' → 90, '1:30' → 90 (hours, or hours:minutes). Null when not a valid period. */
export function parseGrace(text: string): number | null {
  const s = text.trim();
  let minutes: number;
  const hm = /^(\d{1,4}):([0-5]\d)$/.exec(s);
  if (hm) minutes = Number(hm[1]) * 60 + Number(hm[2]);
  else if (/^\d{1,4}(\.\d{1,4})?$/.test(s)) minutes = Math.round(Number(s) * 60);
  else return null;
  return minutes >= 1 && minutes <= MAX_GRACE_MINUTES ? minutes : null;
}

/** 240 → '4', 90 → '1:30' (the form's notation). */
export function formatGrace(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h}:${String(m).padStart(2, '0')}` : String(h);
}

/** An optional response target in hours (as the grace period); empty: none. */
const optionalTarget = (what: string) => z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.string({ error: `Enter the ${what} target in hours, or leave it empty` })
    .refine((s) => parseGrace(s) !== null, 'Enter hours (e.g. 1 or 0.5) or hours:minutes (e.g. 0:30), or leave it empty for no target')
    .transform((s) => parseGrace(s)!)
    .optional(),
);

export const SlaPlanInput = z.object({
  name: requiredText(120, 'Name'),
  grace: z
    .string({ error: 'Enter the grace period in hours' })
    .refine((s) => parseGrace(s) !== null, 'Enter hours (e.g. 4 or 1.5) or hours:minutes (e.g. 1:30), at most one year')
    .transform((s) => parseGrace(s)!),
  /** Empty: no first-response target. */
  firstResponse: optionalTarget('first-response'),
  /** Empty: no next-response target. */
  nextResponse: optionalTarget('next-response'),
  scheduleId: optionalId,
  alertsEnabled: checkbox,
  notes: optionalText(2000, 'Notes'),
});
export type SlaPlanInput = FormInput<typeof SlaPlanInput>;

/** All plans by name with their schedule. @throws Forbidden */
export async function listSlaPlans(ctx: ServiceContext): Promise<SlaPlanListItem[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('sla_plans as p').leftJoin('schedules as s', 's.id', 'p.schedule_id').select('p.*', 's.name as schedule_name').orderBy('p.name');
  return rows.map((r: any) => ({ ...toPlan(r), scheduleName: r.schedule_name ?? null }));
}

/** One plan. @throws Forbidden, NotFound */
export async function getSlaPlan(ctx: ServiceContext, planId: number): Promise<SlaPlan> {
  assertAdmin(ctx);
  return toPlan(await loadRow(ctx.db, slaPlanSpec, planId));
}

type Parsed = z.output<typeof SlaPlanInput>;
/** Parses the form and checks the schedule and the name, reporting every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
function validate(ctx: ServiceContext, raw: SlaPlanInput, exceptId?: number): Promise<Parsed> {
  return validateForm(SlaPlanInput, raw, (v) => [
    () => assertRefs(ctx.db, [['scheduleId', 'schedules', v.scheduleId]]),
    () => assertUnique(ctx.db, slaPlanSpec, 'name', v.name, exceptId),
  ]);
}
const toRow = (i: Parsed) => ({ name: i.name, grace_minutes: i.grace, first_response_minutes: i.firstResponse ?? null, next_response_minutes: i.nextResponse ?? null, schedule_id: i.scheduleId ?? null, alerts_disabled: !i.alertsEnabled, notes: i.notes ?? null });

/** Creates a plan. @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createSlaPlan(ctx: ServiceContext, raw: SlaPlanInput): Promise<SlaPlan> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, slaPlanSpec, 'name', input.name);
    const now = toDbDate(ctx.clock());
    const [planId] = await trx('sla_plans').insert({ ...toRow(input), is_active: true, created_at: now, updated_at: now });
    const plan = toPlan({ ...toRow(input), id: planId, is_active: true });
    await recordAudit(ctx, trx, { action: 'sla_plan.create', entity: 'sla_plan', entityId: planId, after: plan });
    return plan;
  }), () => nameTaken('SLA plan'));
}

/**
 * Updates a plan. Tickets keep the due date computed when they were opened; the new grace applies
 * to tickets (re)started from now on. @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN
 */
export async function updateSlaPlan(ctx: ServiceContext, planId: number, raw: SlaPlanInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, planId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, slaPlanSpec, 'name', input.name, planId);
    const before = toPlan(await loadRow(trx, slaPlanSpec, planId));
    await trx('sla_plans').where({ id: planId }).update({ ...toRow(input), updated_at: toDbDate(ctx.clock()) });
    const after = toPlan({ ...toRow(input), id: planId, is_active: before.isActive });
    await recordAudit(ctx, trx, { action: 'sla_plan.update', entity: 'sla_plan', entityId: planId, ...changes({ ...before }, { ...after }) });
  }), () => nameTaken('SLA plan'));
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT */
export function setSlaPlanActive(ctx: ServiceContext, planId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, slaPlanSpec, planId, active);
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT / IN_USE */
export function deleteSlaPlan(ctx: ServiceContext, planId: number): Promise<void> {
  return deleteCatalogRow(ctx, slaPlanSpec, planId);
}
