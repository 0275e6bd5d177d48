/**
 * Custom field answers on tickets: the definitions kept per process (read again only when the
 * settings' `fields_version` changes, as the ticket filters are), which fields a ticket of a topic
 * asks whom, each answer checked by its type (zod), and the answers read with the ticket as one JSON
 * column (no statement of their own).
 *
 * Who answers what: the portal asks the public fields of the chosen topic and requires the required
 * ones; the API may answer every field of the topic and must answer the required ones; agents answer
 * any field of the topic (public or agents-only) and may leave a required one empty. Answers to fields
 * of other topics, or to fields the caller may not answer, are ignored. An empty answer is no answer.
 */
import { versionCache } from '../version-cache.ts';
import { z } from 'zod';
import type { Knex } from 'knex';
import { jsonObject, sqlJsonObjectAgg } from '../../db/dialect.ts';
import type { Actor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { ValidationFailed, type FieldErrors } from '../errors.ts';
import type { Settings } from '../settings/settings-service.ts';
import { TYPE_LABELS, toField, type TicketField } from './ticket-field-service.ts';

type Db = Knex | Knex.Transaction;

/** Who is answering: the portal (end users), an agent, an API client. */
export type FieldAudience = 'portal' | 'agent' | 'api';

/** The form name of a field's input (the key is [a-z0-9_]). */
export const fieldInputName = (f: { name: string }) => `cf_${f.name}`;

const fieldsCache = versionCache<TicketField[]>(() => []);

/**
 * Every field (disabled ones too: their answers are still shown), in form order: read once per
 * `fields_version` in each process ('' = no field was ever saved: none, without a read).
 */
export function ticketFieldDefs(db: Db, settings: Pick<Settings, 'fields_version'>): Promise<TicketField[]> {
  return fieldsCache(settings.fields_version, () => Promise.all([
    db('ticket_fields').orderBy('sort_order').orderBy('label').orderBy('id'),
    db('ticket_field_topics').orderBy('topic_id').select('field_id', 'topic_id'),
  ]).then(([rows, links]: [any[], any[]]) => rows.map((r) => toField(r, links.filter((l) => l.field_id === r.id).map((l) => Number(l.topic_id))))));
}

/** The audience an actor answers as (the system — mail — answers nothing: null). */
export function audienceOf(actor: Actor): FieldAudience | null {
  if (actor.kind === 'agent') return 'agent';
  if (actor.kind === 'api') return 'api';
  if (actor.kind === 'user' || actor.kind === 'anonymous') return 'portal';
  return null;
}

/** Whether a field applies to a ticket of `topicId` (no topics listed = every topic). */
export function appliesTo(f: TicketField, topicId: number | null | undefined): boolean {
  return !f.topicIds.length || (!!topicId && f.topicIds.includes(topicId));
}

/** The enabled fields `audience` is asked on a ticket of `topicId`. */
export function fieldsFor(fields: TicketField[], topicId: number | null | undefined, audience: FieldAudience): TicketField[] {
  return fields.filter((f) => f.isActive && appliesTo(f, topicId) && (audience !== 'portal' || f.visibility === 'public'));
}

const one = (label: string) => (v: unknown) => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return v;
};

/** One answer's schema: text in, the stored text out (undefined = no answer). */
export function answerSchema(f: TicketField): z.ZodType<string | undefined> {
  const text = (max: number) => z.string({ error: `${f.label}: enter one value` }).trim().max(max, `${f.label}: at most ${max} characters`);
  const empty = (s: string) => (s === '' ? undefined : s);
  switch (f.type) {
    case 'text': return z.preprocess(one(f.label), text(255).optional()).transform((s) => (s === undefined ? s : empty(s)));
    case 'textarea': return z.preprocess(one(f.label), text(10_000).optional()).transform((s) => (s === undefined ? s : empty(s)));
    case 'number': return z.preprocess(one(f.label), text(40).optional()).transform((s) => (s === undefined ? s : empty(s)))
      .refine((s) => s === undefined || /^-?\d{1,15}(\.\d{1,6})?$/.test(s), `${f.label}: enter a number, like 42 or 3.5`)
      .transform((s) => (s === undefined ? s : String(Number(s))));
    case 'choice': return z.preprocess(one(f.label), text(120).optional()).transform((s) => (s === undefined ? s : empty(s)))
      .refine((s) => s === undefined || f.options.includes(s), `${f.label}: choose from the list`);
    case 'checkbox': return z.preprocess(one(f.label), z.string({ error: `${f.label}: tick it or not` }).optional())
      .transform((s) => (s !== undefined && ['on', '1', 'true', 'yes'].includes(s.trim().toLowerCase()) ? '1' : undefined));
    case 'date': return z.preprocess(one(f.label), text(10).optional()).transform((s) => (s === undefined ? s : empty(s)))
      .refine((s) => s === undefined || validDate(s), `${f.label}: enter a date as YYYY-MM-DD`);
  }
}

function validDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export interface FieldAnswer {
  fieldId: number;
  value: string;
  /** The field's key and type (for the ticket filters' rules). */
  name?: string;
  type?: TicketField['type'];
}

/** The answers as shown, by key: what the ticket filters' `cf:<key>` rules compare. */
export function answerTexts(answers: FieldAnswer[]): Record<string, string> {
  return Object.fromEntries(answers.filter((a) => a.name).map((a) => [a.name!, answerText({ type: a.type ?? 'text' }, a.value)]));
}

/**
 * The answers of `raw` ({key: value}) to the fields `audience` is asked on a ticket of `topicId`;
 * problems go into `errors` under `errorKey(field)` (every problem at once). Required fields are
 * required of the portal and the API, not of agents.
 */
export function readFieldAnswers(fields: TicketField[], topicId: number | null | undefined, audience: FieldAudience, raw: unknown, errors: FieldErrors, errorKey: (f: TicketField) => string): FieldAnswer[] {
  return readAnswers(fieldsFor(fields, topicId, audience), audience, raw, errors, errorKey);
}

/** readFieldAnswers over a list of fields already chosen. */
export function readAnswers(asked: TicketField[], audience: FieldAudience, raw: unknown, errors: FieldErrors, errorKey: (f: TicketField) => string): FieldAnswer[] {
  const given = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const out: FieldAnswer[] = [];
  for (const f of asked) {
    const r = answerSchema(f).safeParse(Object.hasOwn(given, f.name) ? given[f.name] : undefined);
    if (!r.success) errors[errorKey(f)] = r.error.issues[0]?.message ?? `${f.label}: invalid`;
    else if (r.data !== undefined) out.push({ fieldId: f.id, value: r.data, name: f.name, type: f.type });
    else if (f.isRequired && audience !== 'agent') errors[errorKey(f)] = `${f.label} is required`;
  }
  return out;
}

/** The form's custom field inputs (cf_<key>) as {key: value}. */
export function fieldsFromForm(body: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) if (k.startsWith('cf_') && k.length > 3) out[k.slice(3)] = v;
  return out;
}

/** Writes a new ticket's answers in one INSERT (nothing without answers). */
export async function insertFieldAnswers(trx: Db, ticketId: number, answers: FieldAnswer[]): Promise<void> {
  if (answers.length) await trx('ticket_field_values').insert(answers.map((a) => ({ ticket_id: ticketId, field_id: a.fieldId, value: a.value })));
}

/** The answers of the ticket `ticketId` (a column of the caller's query) as one JSON column `field_values` (field id → value). */
export function fieldValuesColumn(db: Db, ticketId: Knex.Ref<string, any>): Knex.Raw {
  const q = db('ticket_field_values as fv').where('fv.ticket_id', ticketId).select(sqlJsonObjectAgg(db, 'fv.field_id', 'fv.value'));
  return db.raw('(?) as field_values', [q]);
}

/** Reads the column built by fieldValuesColumn: field id → value. */
export function fieldValuesFrom(column: unknown): Map<number, string> {
  return new Map(Object.entries(jsonObject(column)).map(([k, v]) => [Number(k), String(v)]));
}

export interface ShownAnswer {
  id: number;
  name: string;
  label: string;
  type: string;
  typeLabel: string;
  value: string;
  /** As shown: "Yes" for a ticked checkbox. */
  text: string;
  isActive: boolean;
  agentsOnly: boolean;
}

/** A value as shown. */
export function answerText(f: Pick<TicketField, 'type'>, value: string): string {
  return f.type === 'checkbox' ? (value === '1' ? 'Yes' : 'No') : value;
}

/** The ticket's answers in form order; the portal sees the public fields' only. */
export function shownAnswers(fields: TicketField[], values: Map<number, string>, audience: 'agent' | 'portal'): ShownAnswer[] {
  return fields.filter((f) => values.has(f.id) && (audience === 'agent' || f.visibility === 'public')).map((f) => ({
    id: f.id, name: f.name, label: f.label, type: f.type, typeLabel: TYPE_LABELS[f.type], value: values.get(f.id)!, text: answerText(f, values.get(f.id)!),
    isActive: f.isActive, agentsOnly: f.visibility === 'agents',
  }));
}

/** The API's `fields`: key → value (numbers as numbers, a ticked checkbox as true), every answer. */
export function apiFieldValues(fields: TicketField[], values: Map<number, string>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const f of fields) {
    const v = values.get(f.id);
    if (v !== undefined) out[f.name] = f.type === 'number' ? Number(v) : f.type === 'checkbox' ? v === '1' : v;
  }
  return out;
}

/** @throws ValidationFailed when `errors` holds anything. */
export function throwIfErrors(errors: FieldErrors): void {
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
}

/** A field as a form shows it: its input name, the options of a choice list, and the topics it is for (null: every topic). */
export interface FormField {
  id: number;
  input: string;
  label: string;
  type: string;
  options: string[];
  help: string | null;
  isRequired: boolean;
  agentsOnly: boolean;
  topicIds: number[];
  /** "Billing, Hardware"; null for every topic. */
  forTopics: string | null;
}

/** The fields of a New ticket form: every enabled field the audience is asked, for any topic (the page says which topic each is for). */
export function newTicketFormFields(fields: TicketField[], audience: 'portal' | 'agent', topics: { id: number; name: string }[]): FormField[] {
  const names = new Map(topics.map((t) => [t.id, t.name]));
  return fields
    .filter((f) => f.isActive && (audience === 'agent' || f.visibility === 'public'))
    // A field only for topics the form does not offer is left out.
    .filter((f) => !f.topicIds.length || f.topicIds.some((id) => names.has(id)))
    .map((f) => toFormField(f, f.topicIds.length ? f.topicIds.filter((id) => names.has(id)).map((id) => names.get(id)!).join(', ') : null));
}

export function toFormField(f: TicketField, forTopics: string | null = null): FormField {
  return {
    id: f.id, input: fieldInputName(f), label: f.label, type: f.type, options: f.options, help: f.help, isRequired: f.isRequired,
    agentsOnly: f.visibility === 'agents', topicIds: f.topicIds, forTopics,
  };
}

/**
 * The answers of a new ticket's opener (`raw`: {key: value}) to the fields of the chosen topic, by who
 * opens it (the system — mail — answers none); problems into `errors` (cf_<key> on forms, fields.<key>
 * for the API). No statement: the definitions are cached.
 */
export async function answersForNewTicket(ctx: ServiceContext, settings: Pick<Settings, 'fields_version'>, topicId: number | undefined, raw: unknown, errors: FieldErrors): Promise<FieldAnswer[]> {
  const audience = audienceOf(ctx.actor);
  if (!audience) return [];
  const defs = await ticketFieldDefs(ctx.db, settings);
  if (!defs.length) return [];
  return readFieldAnswers(defs, topicId, audience, raw, errors, audience === 'api' ? (f) => `fields.${f.name}` : fieldInputName);
}
