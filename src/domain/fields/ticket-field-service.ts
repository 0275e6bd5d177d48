/**
 * Custom ticket fields (osTicket's custom forms attached to help topics), the admin side: a field has
 * a label, a key (its name in the API and on forms), a type, options (choice lists), whether the
 * people who open tickets must answer it, who sees it (the portal and the requester, or agents only),
 * help text, an order, the help topics it applies to (none = every topic) and enabled/disabled.
 *
 * Deleting: a field nobody answered yet may be deleted; once a ticket has an answer it can only be
 * disabled (IN_USE, as every catalogue entry in use), so the answers stay on their tickets and in the
 * history. A disabled field is no longer asked or editable; its answers are still shown.
 *
 * Every change writes a new `fields_version` into the settings in its transaction: each process keeps
 * the definitions (ticket-field-defs.ts) and reads them again only then.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { writeSettings } from '../settings/settings-service.ts';
import { checkbox, optionalText, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, idList, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

type Db = Knex | Knex.Transaction;

export const FIELD_TYPES = ['text', 'textarea', 'number', 'choice', 'checkbox', 'date'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const TYPE_LABELS: Record<FieldType, string> = { text: 'Short text', textarea: 'Long text', number: 'Number', choice: 'Choice list', checkbox: 'Checkbox', date: 'Date' };
export const VISIBILITIES = ['public', 'agents'] as const;
export type FieldVisibility = (typeof VISIBILITIES)[number];
export const VISIBILITY_LABELS: Record<FieldVisibility, string> = { public: 'Asked on the portal, shown to the requester', agents: 'Agents only' };
/** At most this many options in a choice list, each at most OPTION_MAX characters. */
const OPTIONS_MAX = 100;
const OPTION_MAX = 120;

export interface TicketField {
  id: number;
  label: string;
  name: string;
  type: FieldType;
  options: string[];
  isRequired: boolean;
  visibility: FieldVisibility;
  help: string | null;
  sortOrder: number;
  isActive: boolean;
  /** The help topics it applies to; empty = every topic. */
  topicIds: number[];
}

/** The options text (one per line) as a list: trimmed, empty lines and repeats dropped. */
export function optionList(text: unknown): string[] {
  return [...new Set(String(text ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean))];
}

export const toField = (r: any, topicIds: number[] = []): TicketField => ({
  id: r.id, label: r.label, name: r.name, type: r.type, options: optionList(r.options), isRequired: dbBool(r.is_required), visibility: r.visibility,
  help: r.help ?? null, sortOrder: Number(r.sort_order), isActive: dbBool(r.is_active), topicIds,
});

export const fieldSpec: CatalogSpec<TicketField> = {
  table: 'ticket_fields', entity: 'ticket_field', label: 'custom field', toDomain: (r) => toField(r),
  usedBy: [{ table: 'ticket_field_values', column: 'field_id', label: 'ticket answer' }],
};

export const TicketFieldInput = z.object({
  label: requiredText(120, 'Label'),
  name: z.string({ error: 'Key must be text' }).trim().toLowerCase().min(1, 'Key is required').max(64, 'Key must be at most 64 characters')
    .regex(/^[a-z][a-z0-9_]*$/, 'Key: lower-case letters, digits and _, starting with a letter'),
  type: z.enum(FIELD_TYPES, { error: 'Type: choose from the list' }),
  options: optionalText(OPTIONS_MAX * (OPTION_MAX + 2), 'Options'),
  isRequired: checkbox,
  visibility: z.preprocess((v) => (v === '' || v === undefined ? 'public' : v), z.enum(VISIBILITIES, { error: 'Visibility: choose from the list' })),
  help: optionalText(500, 'Help text'),
  sortOrder: z.preprocess((v) => (v === '' || v === undefined || v === null ? 0 : v), z.coerce.number({ error: 'Order: enter a whole number' }).int('Order: enter a whole number').min(0, 'Order: at least 0').max(9999, 'Order: at most 9999')),
  topicIds: idList,
});
export type TicketFieldInput = FormInput<typeof TicketFieldInput>;
type Parsed = z.output<typeof TicketFieldInput>;

/** Options only for choice lists, and a choice list needs some; an agents-only field is never required of end users. */
function checkShape(v: Partial<Parsed>): Promise<void> {
  const errors: Record<string, string> = {};
  const opts = optionList(v.options);
  if (v.type === 'choice' && !opts.length) errors.options = 'A choice list needs options: one per line';
  if (v.type === 'choice' && opts.length > OPTIONS_MAX) errors.options = `At most ${OPTIONS_MAX} options`;
  if (v.type === 'choice' && opts.some((o) => o.length > OPTION_MAX)) errors.options = `Each option at most ${OPTION_MAX} characters`;
  if (v.type && v.type !== 'choice' && opts.length) errors.options = 'Only a choice list has options: clear them, or choose “Choice list”';
  if (v.isRequired && v.visibility === 'agents') errors.isRequired = 'An agents-only field is not asked on the portal, so it cannot be required there';
  return Object.keys(errors).length ? Promise.reject(new ValidationFailed(errors)) : Promise.resolve();
}

function validate(ctx: ServiceContext, raw: TicketFieldInput, exceptId?: number): Promise<Parsed> {
  return validateForm(TicketFieldInput, raw, (v) => [
    () => checkShape(v),
    () => assertUnique(ctx.db, fieldSpec, 'name', v.name, exceptId),
    () => assertRefs(ctx.db, [['topicIds', 'help_topics', v.topicIds]]),
  ]);
}

const toRow = (v: Parsed) => ({
  label: v.label, name: v.name, type: v.type, options: v.type === 'choice' ? optionList(v.options).join('\n') : null, is_required: v.isRequired,
  visibility: v.visibility, help: v.help ?? null, sort_order: v.sortOrder,
});

/** Every change of the fields tells every process to read them again (see the module comment). */
export async function fieldsChanged(trx: Db, now: Date): Promise<void> {
  await writeSettings(trx, { fields_version: crypto.randomUUID() }, now);
}

async function topicsOf(db: Db, fieldIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (!fieldIds.length) return out;
  for (const r of await db('ticket_field_topics').whereIn('field_id', fieldIds).orderBy('topic_id').select('field_id', 'topic_id')) out.set(r.field_id, [...(out.get(r.field_id) ?? []), r.topic_id]);
  return out;
}

async function writeTopics(trx: Knex.Transaction, fieldId: number, topicIds: number[]): Promise<void> {
  await trx('ticket_field_topics').where({ field_id: fieldId }).delete();
  if (topicIds.length) await trx('ticket_field_topics').insert(topicIds.map((topic_id) => ({ field_id: fieldId, topic_id })));
}

/** Every field in form order. @throws Forbidden */
export async function listTicketFields(ctx: ServiceContext): Promise<TicketField[]> {
  assertAdmin(ctx);
  const rows = await ctx.db('ticket_fields').orderBy('sort_order').orderBy('label').orderBy('id');
  const topics = await topicsOf(ctx.db, rows.map((r: any) => r.id));
  return rows.map((r: any) => toField(r, topics.get(r.id) ?? []));
}

/** @throws Forbidden, NotFound */
export async function getTicketField(ctx: ServiceContext, fieldId: number): Promise<TicketField & { answers: number }> {
  assertAdmin(ctx);
  const row = await loadRow(ctx.db, fieldSpec, fieldId);
  const n = await ctx.db('ticket_field_values').where({ field_id: fieldId }).count({ n: '*' }).first();
  return { ...toField(row, (await topicsOf(ctx.db, [fieldId])).get(fieldId) ?? []), answers: Number(n?.n ?? 0) };
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createTicketField(ctx: ServiceContext, raw: TicketFieldInput): Promise<TicketField> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, fieldSpec, 'name', input.name);
    const now = ctx.clock();
    const row = { ...toRow(input), is_active: true, created_at: toDbDate(now), updated_at: toDbDate(now) };
    const [fieldId] = await trx('ticket_fields').insert(row);
    await writeTopics(trx, fieldId, input.topicIds);
    const field = toField({ ...row, id: fieldId }, input.topicIds);
    await fieldsChanged(trx, now);
    await recordAudit(ctx, trx, { action: 'ticket_field.create', entity: 'ticket_field', entityId: fieldId, after: field });
    return field;
  }), () => nameTaken('custom field', 'name', 'key'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateTicketField(ctx: ServiceContext, fieldId: number, raw: TicketFieldInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, fieldId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, fieldSpec, 'name', input.name, fieldId);
    const row = await loadRow(trx, fieldSpec, fieldId);
    const { id: _i, isActive: _a, ...was } = toField(row, (await topicsOf(trx, [fieldId])).get(fieldId) ?? []);
    const now = ctx.clock();
    const patch = toRow(input);
    await trx('ticket_fields').where({ id: fieldId }).update({ ...patch, updated_at: toDbDate(now) });
    await writeTopics(trx, fieldId, input.topicIds);
    await fieldsChanged(trx, now);
    const { id: _j, isActive: _b, ...after } = toField({ ...row, ...patch }, input.topicIds);
    await recordAudit(ctx, trx, { action: 'ticket_field.update', entity: 'ticket_field', entityId: fieldId, ...changes(was, after) });
  }), () => nameTaken('custom field', 'name', 'key'));
}

/** @throws Forbidden, NotFound */
export function setTicketFieldActive(ctx: ServiceContext, fieldId: number, active: boolean): Promise<void> {
  return inTransaction(ctx, async (trx) => {
    await setCatalogActive(withDb(ctx, trx), fieldSpec, fieldId, active);
    await fieldsChanged(trx, ctx.clock());
  });
}

/** Only a field without answers (IN_USE otherwise: disable it instead). @throws Forbidden, NotFound, Conflict IN_USE */
export function deleteTicketField(ctx: ServiceContext, fieldId: number): Promise<void> {
  return deleteCatalogRow(ctx, fieldSpec, fieldId, async (trx) => {
    await trx('ticket_field_topics').where({ field_id: fieldId }).delete();
    await fieldsChanged(trx, ctx.clock());
  });
}
