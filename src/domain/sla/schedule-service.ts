/**
 * Admin: working-time schedules — 24/7, or business hours in a time zone with spans per weekday
 * and holidays, checked by validateSchedule before they are saved.
 * Form notation: a weekday's spans as "09:00-17:00, 18:00-20:00"; holidays one per line as
 * "2026-12-25 Christmas" (whole day) or "2026-12-24 12:00-24:00 Christmas Eve".
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { type FieldErrors } from '../errors.ts';
import { optionalText, parseForm, requiredText } from '../validation.ts';
import {
  assertAdmin, assertUnique, changes, checkForm, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';
import { validateSchedule, type Holiday, type WeeklySpan } from './sla-schedule.ts';

export const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export interface ScheduleDef {
  id: number;
  name: string;
  kind: '24x7' | 'business';
  timezone: string;
  notes: string | null;
  isActive: boolean;
  spans: WeeklySpan[];
  holidays: Holiday[];
}

const toScheduleBase = (r: any) => ({
  id: r.id, name: r.name, kind: (r.kind === 'business' ? 'business' : '24x7') as ScheduleDef['kind'], timezone: r.timezone, notes: r.notes ?? null, isActive: dbBool(r.is_active),
});

export const scheduleSpec: CatalogSpec = {
  table: 'schedules', entity: 'schedule', label: 'schedule', defaultKey: 'default_schedule_id', toDomain: toScheduleBase,
  usedBy: [
    { table: 'sla_plans', column: 'schedule_id', label: 'SLA plan' },
    { table: 'departments', column: 'schedule_id', label: 'department' },
  ],
};

const spanText = z.preprocess((v) => (v == null ? '' : v), z.string({ error: 'Enter the hours as text' }).max(500, 'Too long'));
export const ScheduleInput = z.object({
  name: requiredText(120, 'Name'),
  kind: z.enum(['24x7', 'business'], { error: 'Choose 24/7 or business hours' }),
  timezone: z.preprocess((v) => (v === '' || v == null ? 'UTC' : v), z.string({ error: 'Choose a time zone' }).max(64)),
  notes: optionalText(2000, 'Notes'),
  span_1: spanText, span_2: spanText, span_3: spanText, span_4: spanText, span_5: spanText, span_6: spanText, span_7: spanText,
  holidays: z.preprocess((v) => (v == null ? '' : v), z.string({ error: 'Enter holidays as text' }).max(20_000, 'Too many holidays')),
});
export type ScheduleInput = FormInput<typeof ScheduleInput>;

const TIME = '(\\d{1,2}:\\d{2})\\s*[-–]\\s*(\\d{1,2}:\\d{2})';
const pad = (t: string) => (t.length === 4 ? '0' + t : t);

/**
 * Turns the form's text into spans and holidays; notation errors and validateSchedule's problems become
 * field errors. Works on the fields that parsed (the others have their own errors), so these problems
 * are reported together with the rest of the form's.
 */
export function parseScheduleForm(values: Partial<z.output<typeof ScheduleInput>>): { spans: WeeklySpan[]; holidays: Holiday[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const spans: WeeklySpan[] = [];
  const holidays: Holiday[] = [];
  if (values.kind !== 'business') return { spans, holidays, errors };
  const spanTexts = [1, 2, 3, 4, 5, 6, 7].map((wd) => (values as Record<string, string | undefined>)[`span_${wd}`]);
  spanTexts.forEach((raw, i) => {
    for (const part of (raw ?? '').split(/[,;]/).map((p) => p.trim()).filter(Boolean)) {
      const m = new RegExp(`^${TIME}$`).exec(part);
      if (!m) errors[`span_${i + 1}`] ??= `"${part}" is not a span like 09:00-17:00`;
      else spans.push({ weekday: i + 1, start: pad(m[1]), end: pad(m[2]) });
    }
  });
  for (const line of (values.holidays ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
    const m = new RegExp(`^(\\S+)(?:\\s+${TIME})?(?:\\s+(.+))?$`).exec(line);
    if (!m || (m[4] ?? '').length > 120) errors.holidays ??= `"${line.slice(0, 60)}" is not a holiday like 2026-12-25 Christmas`;
    else holidays.push({ date: m[1], start: m[2] ? pad(m[2]) : null, end: m[3] ? pad(m[3]) : null, name: m[4] ?? m[1] });
  }
  if (!spans.length && !Object.keys(errors).length && spanTexts.every((t) => t !== undefined)) errors.span_1 = 'Business hours need at least one span of working time';
  if (values.timezone === undefined) return { spans, holidays, errors };
  // The spans and holidays that were read are checked too: a bad holiday line does not hide an overlap.
  for (const problem of validateSchedule({ kind: 'business', timezone: values.timezone, spans, holidays })) {
    const span = /^span #(\d+)/.exec(problem);
    const key = span ? `span_${spans[Number(span[1]) - 1]?.weekday ?? 1}` : problem.startsWith('holiday') ? 'holidays' : problem.includes('time zone') ? 'timezone' : 'span_1';
    errors[key] ??= problem;
  }
  return { spans, holidays, errors };
}

/** The form's text for a schedule (inverse of parseScheduleForm). */
export function scheduleFormValues(s: ScheduleDef): Record<string, string> {
  const out: Record<string, string> = { name: s.name, kind: s.kind, timezone: s.timezone, notes: s.notes ?? '' };
  for (let wd = 1; wd <= 7; wd++) out[`span_${wd}`] = s.spans.filter((x) => x.weekday === wd).map((x) => `${x.start}-${x.end}`).join(', ');
  out.holidays = s.holidays.map((h) => [h.date, h.start || h.end ? `${h.start ?? '00:00'}-${h.end ?? '24:00'}` : '', h.name && h.name !== h.date ? h.name : ''].filter(Boolean).join(' ')).join('\n');
  return out;
}

/** All schedules by name. @throws Forbidden */
export async function listSchedules(ctx: ServiceContext): Promise<ReturnType<typeof toScheduleBase>[]> {
  assertAdmin(ctx);
  return (await ctx.db('schedules').orderBy('name')).map(toScheduleBase);
}

/** One schedule with spans and holidays. @throws Forbidden, NotFound */
export async function getSchedule(ctx: ServiceContext, scheduleId: number): Promise<ScheduleDef> {
  assertAdmin(ctx);
  return readSchedule(ctx.db, await loadRow(ctx.db, scheduleSpec, scheduleId));
}

async function readSchedule(db: Knex | Knex.Transaction, row: any): Promise<ScheduleDef> {
  const [entries, holidays] = [
    await db('schedule_entries').where({ schedule_id: row.id }).orderBy(['weekday', 'start_time']),
    await db('schedule_holidays').where({ schedule_id: row.id }).orderBy(['date', 'start_time']),
  ];
  return {
    ...toScheduleBase(row),
    spans: entries.map((e: any) => ({ weekday: Number(e.weekday), start: e.start_time, end: e.end_time })),
    holidays: holidays.map((h: any) => ({ date: h.date, start: h.start_time ?? null, end: h.end_time ?? null, name: h.name })),
  };
}

async function writeParts(trx: Knex.Transaction, scheduleId: number, parts: { spans: WeeklySpan[]; holidays: Holiday[] }) {
  await trx('schedule_entries').where({ schedule_id: scheduleId }).delete();
  await trx('schedule_holidays').where({ schedule_id: scheduleId }).delete();
  for (const s of parts.spans) await trx('schedule_entries').insert({ schedule_id: scheduleId, weekday: s.weekday, start_time: s.start, end_time: s.end });
  for (const h of parts.holidays) await trx('schedule_holidays').insert({ schedule_id: scheduleId, name: h.name ?? h.date, date: h.date, start_time: h.start ?? null, end_time: h.end ?? null });
}

/** Parses the form, its hours and holidays, and checks the name: every problem at once. @throws ValidationFailed, Conflict NAME_TAKEN */
async function prepare(ctx: ServiceContext, raw: ScheduleInput, exceptId?: number) {
  const form = parseForm(ScheduleInput, raw);
  const { errors, ...parts } = parseScheduleForm(form.values);
  for (const [key, message] of Object.entries(errors)) form.fields[key] ??= message;
  const input = await checkForm(form, (v) => [() => assertUnique(ctx.db, scheduleSpec, 'name', v.name, exceptId)]);
  const row = { name: input.name, kind: input.kind, timezone: input.kind === '24x7' ? 'UTC' : input.timezone, notes: input.notes ?? null };
  return { input, parts, row };
}

/** Creates a schedule. @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createSchedule(ctx: ServiceContext, raw: ScheduleInput): Promise<ScheduleDef> {
  assertAdmin(ctx);
  const { parts, row } = await prepare(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, scheduleSpec, 'name', row.name);
    const now = toDbDate(ctx.clock());
    const [scheduleId] = await trx('schedules').insert({ ...row, is_active: true, created_at: now, updated_at: now });
    await writeParts(trx, scheduleId, parts);
    const created: ScheduleDef = { ...toScheduleBase({ ...row, id: scheduleId, is_active: true }), ...parts };
    await recordAudit(ctx, trx, { action: 'schedule.create', entity: 'schedule', entityId: scheduleId, after: created });
    return created;
  }), () => nameTaken('schedule'));
}

/** Updates a schedule (due dates computed from now on use it). @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateSchedule(ctx: ServiceContext, scheduleId: number, raw: ScheduleInput): Promise<void> {
  assertAdmin(ctx);
  const { parts, row } = await prepare(ctx, raw, scheduleId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, scheduleSpec, 'name', row.name, scheduleId);
    const before = await readSchedule(trx, await loadRow(trx, scheduleSpec, scheduleId));
    await trx('schedules').where({ id: scheduleId }).update({ ...row, updated_at: toDbDate(ctx.clock()) });
    await writeParts(trx, scheduleId, parts);
    const after = { ...before, ...row, ...parts };
    await recordAudit(ctx, trx, { action: 'schedule.update', entity: 'schedule', entityId: scheduleId, ...changes({ ...before }, { ...after }) });
  }), () => nameTaken('schedule'));
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT */
export function setScheduleActive(ctx: ServiceContext, scheduleId: number, active: boolean): Promise<void> {
  return setCatalogActive(ctx, scheduleSpec, scheduleId, active);
}

/** @throws Forbidden, NotFound, Conflict IS_DEFAULT / IN_USE */
export function deleteSchedule(ctx: ServiceContext, scheduleId: number): Promise<void> {
  return deleteCatalogRow(ctx, scheduleSpec, scheduleId);
}

/** Time zones for the form (IANA names the runtime knows, UTC first). */
export function timeZoneNames(): string[] {
  const zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}
