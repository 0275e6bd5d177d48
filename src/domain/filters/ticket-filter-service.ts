/**
 * Ticket filters (osTicket's "Filters"): an admin's rules on a new ticket's requester, subject,
 * message and custom field answers (`cf:<key>`, compared as shown: "Yes" for a ticked checkbox; mail
 * answers none) that route it as it is opened — department, help topic, priority, SLA plan, agent or team
 * — turn its auto-response off, or refuse it. Filters run in order (exec_order, then id) on the
 * channels they are for (any, portal, email, API, agents' New ticket form); a filter matches when all
 * (or any) of its rules do; a later match overrides an earlier one's routing; "stop" ends the run;
 * a refusal ends it at once. An agent's or API client's explicit choice wins over a filter; on the
 * portal a filter wins over the user's help topic. A filter action that names something disabled
 * since is skipped. Each applied filter is recorded in the new ticket's history.
 *
 * The active filters are kept in each process and read again only when they changed: every change
 * writes a new `filters_version` into the settings (read with every request anyway), so a ticket
 * costs no statement for its filters.
 */
import { versionCache } from '../version-cache.ts';
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, toDbDate } from '../../db/dialect.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed, type FieldErrors } from '../errors.ts';
import { writeSettings, type Settings } from '../settings/settings-service.ts';
import { checkbox, optionalId, optionalText, requiredText } from '../validation.ts';
import {
  assertAdmin, assertRefs, assertUnique, changes, deleteCatalogRow, loadRow, nameTaken, setCatalogActive, validateForm, writeOrConflict, type CatalogSpec, type FormInput,
} from '../admin/admin-support.ts';

type Db = Knex | Knex.Transaction;

export const FILTER_TARGETS = ['any', 'web', 'email', 'api', 'agent'] as const;
export type FilterTarget = (typeof FILTER_TARGETS)[number];
export const TARGET_LABELS: Record<FilterTarget, string> = { any: 'Every channel', web: 'Portal', email: 'Email', api: 'API', agent: 'Agents (New ticket form)' };
export const RULE_FIELDS = ['email', 'name', 'subject', 'message'] as const;
export const FIELD_LABELS: Record<(typeof RULE_FIELDS)[number], string> = { email: 'Requester’s email', name: 'Requester’s name', subject: 'Subject', message: 'Message' };
export const RULE_OPS = ['equals', 'not_equals', 'contains', 'not_contains', 'starts', 'ends'] as const;
export const OP_LABELS: Record<(typeof RULE_OPS)[number], string> = { equals: 'is', not_equals: 'is not', contains: 'contains', not_contains: 'does not contain', starts: 'starts with', ends: 'ends with' };
/** Rule rows on the form. */
export const RULE_ROWS = 3;

/** A rule on a custom field's answer: `cf:<key>` (src/domain/fields/). */
export type CustomFieldRule = `cf:${string}`;
const CUSTOM_RULE_RE = /^cf:[a-z][a-z0-9_]{0,63}$/;
const isRuleField = (v: unknown): v is FilterRule['field'] => RULE_FIELDS.includes(v as never) || (typeof v === 'string' && CUSTOM_RULE_RE.test(v));

export interface FilterRule {
  field: (typeof RULE_FIELDS)[number] | CustomFieldRule;
  op: (typeof RULE_OPS)[number];
  value: string;
}

export interface TicketFilter {
  id: number;
  name: string;
  isActive: boolean;
  execOrder: number;
  target: FilterTarget;
  matchAll: boolean;
  stopOnMatch: boolean;
  rules: FilterRule[];
  reject: boolean;
  noAutoresponse: boolean;
  departmentId: number | null;
  topicId: number | null;
  priorityId: number | null;
  slaPlanId: number | null;
  assigneeId: number | null;
  teamId: number | null;
  notes: string | null;
}

function parseRules(text: unknown): FilterRule[] {
  try {
    const list = JSON.parse(String(text ?? '[]'));
    return Array.isArray(list) ? list.filter((r) => isRuleField(r?.field) && RULE_OPS.includes(r?.op) && typeof r?.value === 'string') : [];
  } catch {
    return [];
  }
}

const toFilter = (r: any): TicketFilter => ({
  id: r.id, name: r.name, isActive: dbBool(r.is_active), execOrder: Number(r.exec_order), target: r.target, matchAll: dbBool(r.match_all), stopOnMatch: dbBool(r.stop_on_match),
  rules: parseRules(r.rules), reject: dbBool(r.reject), noAutoresponse: dbBool(r.no_autoresponse), departmentId: r.department_id ?? null, topicId: r.topic_id ?? null,
  priorityId: r.priority_id ?? null, slaPlanId: r.sla_plan_id ?? null, assigneeId: r.assignee_agent_id ?? null, teamId: r.team_id ?? null, notes: r.notes ?? null,
});

export const filterSpec: CatalogSpec<TicketFilter> = { table: 'ticket_filters', entity: 'ticket_filter', label: 'ticket filter', usedBy: [], toDomain: toFilter };

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const ruleShape = Object.fromEntries(
  Array.from({ length: RULE_ROWS }, (_, i) => i + 1).flatMap((n) => [
    [`rule${n}Field`, z.preprocess(emptyToUndefined, z.string().refine(isRuleField, `Rule ${n}: choose a field from the list`).optional())],
    [`rule${n}Op`, z.preprocess(emptyToUndefined, z.enum(RULE_OPS, { error: `Rule ${n}: choose how to compare from the list` }).optional())],
    [`rule${n}Value`, optionalText(500, `Rule ${n}: value`)],
  ]),
) as Record<string, z.ZodType>;

export const FilterInput = z.object({
  name: requiredText(120, 'Name'),
  execOrder: z.preprocess((v) => (v === '' || v === undefined || v === null ? 99 : v), z.coerce.number({ error: 'Order: enter a whole number' }).int('Order: enter a whole number').min(0, 'Order: at least 0').max(9999, 'Order: at most 9999')),
  target: z.preprocess((v) => (v === '' || v === undefined ? 'any' : v), z.enum(FILTER_TARGETS, { error: 'Applies to: choose from the list' })),
  matchAll: z.preprocess((v) => (v === undefined || v === '' ? 'all' : v), z.enum(['all', 'any'], { error: 'Choose all or any' })).transform((v) => v === 'all'),
  stopOnMatch: checkbox,
  ...ruleShape,
  reject: checkbox,
  noAutoresponse: checkbox,
  departmentId: optionalId,
  topicId: optionalId,
  priorityId: optionalId,
  slaPlanId: optionalId,
  assigneeId: optionalId,
  teamId: optionalId,
  notes: optionalText(2000, 'Notes'),
});
/** The form's fields, the rule rows (rule1Field, rule1Op, rule1Value, …) included. */
export type FilterInput = FormInput<typeof FilterInput> & Partial<Record<`rule${number}${'Field' | 'Op' | 'Value'}`, unknown>>;
type Parsed = z.output<typeof FilterInput>;

/** The rule rows that were filled in; a half-filled row is an error on that row's fields. */
function rulesOf(v: Record<string, unknown>, errors: FieldErrors): FilterRule[] {
  const rules: FilterRule[] = [];
  for (let n = 1; n <= RULE_ROWS; n++) {
    const field = v[`rule${n}Field`] as FilterRule['field'] | undefined;
    const op = v[`rule${n}Op`] as FilterRule['op'] | undefined;
    const value = v[`rule${n}Value`] as string | undefined;
    if (!field && !op && !value) continue;
    if (!field) errors[`rule${n}Field`] = `Rule ${n}: choose a field`;
    if (!op) errors[`rule${n}Op`] = `Rule ${n}: choose how to compare`;
    if (!value) errors[`rule${n}Value`] = `Rule ${n}: enter the text to compare with`;
    if (field && op && value) rules.push({ field, op, value });
  }
  return rules;
}

const hasRouting = (v: Partial<Parsed>) => !!(v.departmentId || v.topicId || v.priorityId || v.slaPlanId || v.assigneeId || v.teamId);

/** The form's rules and actions make sense together (every problem at once). */
function checkShape(v: Partial<Parsed>): Promise<void> {
  const errors: FieldErrors = {};
  const rules = rulesOf(v as Record<string, unknown>, errors);
  if (!rules.length && !Object.keys(errors).length) errors.rule1Field = 'Add at least one rule: which tickets the filter is for';
  if (v.reject && (hasRouting(v) || v.noAutoresponse)) errors.reject = 'A filter that refuses tickets does nothing else: clear its other actions, or do not refuse';
  if (!v.reject && !v.noAutoresponse && !hasRouting(v)) errors.departmentId = 'Choose at least one action: what the filter does to the tickets it matches';
  if (v.assigneeId && v.teamId) errors.teamId = 'Assign to an agent or to a team, not both';
  return Object.keys(errors).length ? Promise.reject(new ValidationFailed(errors)) : Promise.resolve();
}

function validate(ctx: ServiceContext, raw: FilterInput, exceptId?: number): Promise<Parsed> {
  return validateForm(FilterInput, raw, (v) => [
    () => checkShape(v),
    () => assertUnique(ctx.db, filterSpec, 'name', v.name, exceptId),
    () => assertRefs(ctx.db, [['departmentId', 'departments', v.departmentId], ['topicId', 'help_topics', v.topicId], ['priorityId', 'priorities', v.priorityId],
      ['slaPlanId', 'sla_plans', v.slaPlanId], ['assigneeId', 'agents', v.assigneeId], ['teamId', 'teams', v.teamId]]),
  ]);
}

const toRow = (v: Parsed) => ({
  name: v.name, exec_order: v.execOrder, target: v.target, match_all: v.matchAll, stop_on_match: v.stopOnMatch,
  rules: JSON.stringify(rulesOf(v as Record<string, unknown>, {})), reject: v.reject, no_autoresponse: v.noAutoresponse,
  department_id: v.departmentId ?? null, topic_id: v.topicId ?? null, priority_id: v.priorityId ?? null, sla_plan_id: v.slaPlanId ?? null,
  assignee_agent_id: v.assigneeId ?? null, team_id: v.teamId ?? null, notes: v.notes ?? null,
});

/** Every change of the filters tells every process to read them again (see the module comment). */
async function filtersChanged(trx: Db, now: Date): Promise<void> {
  await writeSettings(trx, { filters_version: crypto.randomUUID() }, now);
}

/** Every filter in the order they run. @throws Forbidden */
export async function listFilters(ctx: ServiceContext): Promise<TicketFilter[]> {
  assertAdmin(ctx);
  return (await ctx.db('ticket_filters').orderBy('exec_order').orderBy('id')).map(toFilter);
}

/** @throws Forbidden, NotFound */
export async function getFilter(ctx: ServiceContext, filterId: number): Promise<TicketFilter> {
  assertAdmin(ctx);
  return toFilter(await loadRow(ctx.db, filterSpec, filterId));
}

/** @throws Forbidden, ValidationFailed, Conflict NAME_TAKEN */
export async function createFilter(ctx: ServiceContext, raw: FilterInput): Promise<TicketFilter> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw);
  return writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, filterSpec, 'name', input.name);
    const now = ctx.clock();
    const row = { ...toRow(input), is_active: true, created_at: toDbDate(now), updated_at: toDbDate(now) };
    const [filterId] = await trx('ticket_filters').insert(row);
    const filter = toFilter({ ...row, id: filterId });
    await filtersChanged(trx, now);
    await recordAudit(ctx, trx, { action: 'ticket_filter.create', entity: 'ticket_filter', entityId: filterId, after: filter });
    return filter;
  }), () => nameTaken('ticket filter'));
}

/** @throws Forbidden, NotFound, ValidationFailed, Conflict NAME_TAKEN */
export async function updateFilter(ctx: ServiceContext, filterId: number, raw: FilterInput): Promise<void> {
  assertAdmin(ctx);
  const input = await validate(ctx, raw, filterId);
  await writeOrConflict(() => inTransaction(ctx, async (trx) => {
    await assertUnique(trx, filterSpec, 'name', input.name, filterId);
    const before = toFilter(await loadRow(trx, filterSpec, filterId));
    const now = ctx.clock();
    const row = toRow(input);
    await trx('ticket_filters').where({ id: filterId }).update({ ...row, updated_at: toDbDate(now) });
    await filtersChanged(trx, now);
    const { id: _id, isActive: _a, ...was } = before;
    const { id: _i, isActive: _b, ...now_ } = toFilter({ ...row, id: filterId, is_active: before.isActive });
    await recordAudit(ctx, trx, { action: 'ticket_filter.update', entity: 'ticket_filter', entityId: filterId, ...changes(was, now_) });
  }), () => nameTaken('ticket filter'));
}

/** @throws Forbidden, NotFound */
export function setFilterActive(ctx: ServiceContext, filterId: number, active: boolean): Promise<void> {
  return inTransaction(ctx, async (trx) => {
    await setCatalogActive(withDb(ctx, trx), filterSpec, filterId, active);
    await filtersChanged(trx, ctx.clock());
  });
}

/** @throws Forbidden, NotFound */
export function deleteFilter(ctx: ServiceContext, filterId: number): Promise<void> {
  return deleteCatalogRow(ctx, filterSpec, filterId, (trx) => filtersChanged(trx, ctx.clock()));
}

// ## Running the filters on a new ticket

/** What the filters look at; `channel`: where the ticket comes from. */
export interface FilterSubject {
  channel: Exclude<FilterTarget, 'any'>;
  email: string;
  name: string;
  subject: string;
  message: string;
  /** The custom field answers, as shown ("Yes" for a ticked checkbox), by key. */
  fields?: Record<string, string>;
}

/** What the matching filters decided (routing ids only for entries still active). */
export interface FilterOutcome {
  rejectedBy: string | null;
  noAutoresponse: boolean;
  departmentId?: number;
  topicId?: number;
  priorityId?: number;
  slaPlanId?: number;
  assigneeId?: number;
  teamId?: number;
  teamName?: string | null;
  /** The filter whose agent it is (the last one to set one). */
  assignedBy?: string;
  /** For the ticket's history: each filter that matched, with what it did. */
  applied: { filter: string; actions: string[] }[];
}

type ActiveFilter = TicketFilter & { names: Record<string, string | null> };

const filtersCache = versionCache<ActiveFilter[]>(() => []);

/**
 * The active filters in order, each action's target only when that entry is still active (a
 * disabled department, agent… is skipped), with the names the history shows: read once per
 * `filters_version`.
 */
function activeFilters(db: Db, version: string): Promise<ActiveFilter[]> {
  return filtersCache(version, () => readActiveFilters(db));
}

function readActiveFilters(db: Db): Promise<ActiveFilter[]> {
  const active = (alias: string, column: string) => (q: Knex.JoinClause) => void q.on(`${alias}.id`, `f.${column}`).andOnVal(`${alias}.is_active`, true);
  return db('ticket_filters as f')
    .leftJoin('departments as d', active('d', 'department_id'))
    .leftJoin('help_topics as h', active('h', 'topic_id'))
    .leftJoin('priorities as p', active('p', 'priority_id'))
    .leftJoin('sla_plans as s', active('s', 'sla_plan_id'))
    .leftJoin('agents as a', active('a', 'assignee_agent_id'))
    .leftJoin('teams as tm', active('tm', 'team_id'))
    .where('f.is_active', true).orderBy('f.exec_order').orderBy('f.id')
    .select('f.*', 'd.id as d_id', 'd.name as d_name', 'h.id as h_id', 'h.name as h_name', 'p.id as p_id', 'p.name as p_name', 's.id as s_id', 's.name as s_name',
      'a.id as a_id', 'a.name as a_name', 'tm.id as tm_id', 'tm.name as tm_name')
    .then((rows: any[]) => rows.map((r) => ({
      ...toFilter({ ...r, department_id: r.d_id, topic_id: r.h_id, priority_id: r.p_id, sla_plan_id: r.s_id, assignee_agent_id: r.a_id, team_id: r.tm_id }),
      names: { department: r.d_name, topic: r.h_name, priority: r.p_name, sla: r.s_name, agent: r.a_name, team: r.tm_name },
    })));
}

function ruleMatches(rule: FilterRule, subject: FilterSubject): boolean {
  const have = (rule.field.startsWith('cf:') ? (subject.fields?.[rule.field.slice(3)] ?? '') : String(subject[rule.field as (typeof RULE_FIELDS)[number]] ?? '')).toLowerCase();
  const want = rule.value.toLowerCase();
  switch (rule.op) {
    case 'equals': return have.trim() === want.trim();
    case 'not_equals': return have.trim() !== want.trim();
    case 'contains': return have.includes(want);
    case 'not_contains': return !have.includes(want);
    case 'starts': return have.startsWith(want);
    case 'ends': return have.endsWith(want);
  }
}

/** Runs the active filters on a ticket about to be opened (see the module comment). */
export async function applyTicketFilters(db: Db, settings: Pick<Settings, 'filters_version'>, subject: FilterSubject): Promise<FilterOutcome> {
  const out: FilterOutcome = { rejectedBy: null, noAutoresponse: false, applied: [] };
  for (const f of await activeFilters(db, settings.filters_version)) {
    if (f.target !== 'any' && f.target !== subject.channel) continue;
    if (!f.rules.length) continue;
    const matched = f.matchAll ? f.rules.every((r) => ruleMatches(r, subject)) : f.rules.some((r) => ruleMatches(r, subject));
    if (!matched) continue;
    if (f.reject) {
      out.rejectedBy = f.name;
      out.applied.push({ filter: f.name, actions: ['Refused the ticket'] });
      return out;
    }
    const actions: string[] = [];
    const set = <K extends 'departmentId' | 'topicId' | 'priorityId' | 'slaPlanId' | 'assigneeId' | 'teamId'>(key: K, id: number | null, label: string, name: string | null) => {
      if (!id) return;
      out[key] = id;
      actions.push(`${label} → ${name ?? id}`);
    };
    set('departmentId', f.departmentId, 'Department', f.names.department);
    set('topicId', f.topicId, 'Help topic', f.names.topic);
    set('priorityId', f.priorityId, 'Priority', f.names.priority);
    set('slaPlanId', f.slaPlanId, 'SLA plan', f.names.sla);
    set('assigneeId', f.assigneeId, 'Assigned to', f.names.agent);
    set('teamId', f.teamId, 'Team', f.names.team);
    if (f.assigneeId) {
      delete out.teamId;
      out.assignedBy = f.name;
    }
    if (f.teamId) {
      delete out.assigneeId;
      out.teamName = f.names.team;
    }
    if (f.noAutoresponse) {
      out.noAutoresponse = true;
      actions.push('No auto-response');
    }
    out.applied.push({ filter: f.name, actions });
    if (f.stopOnMatch) break;
  }
  return out;
}
