/**
 * Building blocks shared by the admin services (departments, SLA plans, schedules, topics,
 * priorities, teams, agents): the admin check each service makes itself, unique names, "still in
 * use" checks, enable/disable/delete with an audit row, field diffs and pagination.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbCount, isForeignKeyViolation, isUniqueViolation, toDbDate } from '../../db/dialect.ts';
import { isAdmin, type AgentActor } from '../actor.ts';
import { recordAudit } from '../audit/audit-service.ts';
import { inTransaction, type ServiceContext } from '../context.ts';
import { Conflict, Forbidden, NotFound, ValidationFailed, type FieldErrors } from '../errors.ts';
import { getSettings, type SettingKey } from '../settings/settings-service.ts';
import { COUNT_CAP, countText, pagesText } from '../bounded-count.ts';
import { email, id, parseForm, type ParsedForm } from '../validation.ts';

type Db = Knex | Knex.Transaction;

/** Every admin service starts here: the route guard is not the only check. @throws Forbidden */
export function assertAdmin(ctx: ServiceContext): AgentActor {
  if (!isAdmin(ctx.actor)) throw new Forbidden('Only administrators can change this.', 'ADMIN_ONLY');
  return ctx.actor;
}

/** A list of ids from checkboxes / multi-selects: absent → [], one value → [value]; duplicates dropped. */
export const idList = z.preprocess(
  (v) => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]),
  z.array(id, { error: 'Choose from the list' }).max(500, 'Too many choices').transform((a) => [...new Set(a)].sort((x, y) => x - y)),
);
/** What a service accepts as raw form input: every field may be missing (the schema decides). */
export type FormInput<S extends z.ZodType> = Partial<z.input<S>>;

/** An optional email address ('' → undefined). */
export const optionalEmail = z.preprocess((v) => (v === '' || v === null ? undefined : v), email.optional());

/** What the generic helpers need to know about one catalogue table. */
export interface CatalogSpec<T = unknown> {
  table: string;
  /** Audit entity name, e.g. 'department'. */
  entity: string;
  /** For messages, e.g. 'department', 'SLA plan'. */
  label: string;
  /** Rows that reference this one; delete is refused while any exist. */
  usedBy: { table: string; column: string; label: string }[];
  /** Settings key naming the help desk default; that row cannot be disabled or deleted. */
  defaultKey?: SettingKey;
  /** Row → domain object (audit snapshots never hold secrets). */
  toDomain: (row: any) => T;
}

/** Loads one row. @throws NotFound */
export async function loadRow(db: Db, spec: CatalogSpec, rowId: number): Promise<any> {
  const row = await db(spec.table).where({ id: rowId }).first();
  if (!row) throw new NotFound(`That ${spec.label} does not exist.`, 'NOT_FOUND');
  return row;
}

/** Conflict for a taken name, carrying the form field it belongs to. */
export function nameTaken(label: string, field = 'name', what = 'name'): Conflict {
  const message = `Another ${label} already has this ${what}.`;
  return new Conflict(message, 'NAME_TAKEN', { fields: { [field]: message } });
}

/**
 * Refuses a value another row already has in `column` (case-insensitive, as MySQL compares). No value
 * (a field that did not parse) has nothing to check. The services call it twice: with the form's
 * other checks before the write (checkForm: every problem at once), and again first thing in the
 * write's transaction, which is the guarantee on SQLite (its unique indexes compare case-sensitively;
 * its one connection runs transactions one at a time). @throws Conflict
 */
export async function assertUnique(db: Db, spec: CatalogSpec, column: string, value: string | undefined, exceptId?: number, field = column): Promise<void> {
  if (value === undefined) return;
  const q = db(spec.table).whereRaw('lower(??) = ?', [column, value.toLowerCase()]);
  if (exceptId) q.whereNot('id', exceptId);
  if (await q.first('id')) throw nameTaken(spec.label, field, column === 'name' ? 'name' : column);
}

/** One check of a form against the database; it reports by throwing ValidationFailed, or Conflict with `fields`. */
export type FormCheck = () => Promise<unknown>;

/**
 * Runs every check of a parsed form, also when some of its fields are invalid, so that one submission
 * reports every problem (a taken username together with a bad email). The checks see the fields that
 * parsed. Any invalid field or failed reference → ValidationFailed with all the field errors; else a
 * taken name → its Conflict, carrying every conflicting field. A check before the write is only a
 * courtesy: the same check in the write's transaction (assertUnique) and the unique constraint, through
 * writeOrConflict, stay the guarantee.
 * @throws ValidationFailed, Conflict (and whatever a check throws that is not about a field)
 */
export async function checkForm<T>(form: ParsedForm<T>, checks: (values: Partial<T>) => FormCheck[]): Promise<T> {
  const fields: FieldErrors = { ...form.fields };
  let invalid = Object.keys(fields).length > 0 || !form.data;
  let conflict: Conflict | undefined;
  for (const check of checks(form.values)) {
    try {
      await check();
    } catch (err) {
      const found = err instanceof ValidationFailed ? err.fields : err instanceof Conflict ? (err.details?.fields as FieldErrors | undefined) : undefined;
      if (!found) throw err;
      if (err instanceof ValidationFailed) invalid = true;
      else conflict ??= err as Conflict;
      for (const [key, message] of Object.entries(found)) fields[key] ??= message;
    }
  }
  if (invalid) throw new ValidationFailed(fields);
  if (conflict) throw new Conflict(conflict.message, conflict.code, { ...conflict.details, fields });
  return form.data as T;
}

/** parseForm + checkForm: the parsed input, or every problem with it at once. @throws ValidationFailed, Conflict */
export function validateForm<S extends z.ZodObject>(schema: S, raw: unknown, checks: (values: Partial<z.output<S>>) => FormCheck[]): Promise<z.output<S>> {
  return checkForm(parseForm(schema, raw), checks);
}

/** Runs a write; a unique violation that slipped past the pre-check (a race) becomes Conflict too. */
export async function writeOrConflict<T>(fn: () => Promise<T>, onUnique: () => Conflict): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) throw onUnique();
    throw err;
  }
}

/** Refuses ids that point at nothing (SQLite cannot enforce every FK). @throws ValidationFailed */
export async function assertRefs(db: Db, refs: [field: string, table: string, value: number | null | undefined | number[]][]): Promise<void> {
  const fields: Record<string, string> = {};
  for (const [field, table, value] of refs) {
    const ids = value == null ? [] : Array.isArray(value) ? value : [value];
    if (!ids.length) continue;
    const found = await db(table).whereIn('id', ids).count<{ n: number }[]>({ n: '*' });
    if (dbCount(found[0].n) !== ids.length) fields[field] = 'Choose from the list';
  }
  if (Object.keys(fields).length) throw new ValidationFailed(fields);
}

/** How many rows of each kind still reference `rowId`. */
export async function usageOf(db: Db, spec: CatalogSpec, rowId: number): Promise<{ label: string; count: number }[]> {
  const out: { label: string; count: number }[] = [];
  for (const u of spec.usedBy) {
    const r = await db(u.table).where(u.column, rowId).count<{ n: number }[]>({ n: '*' });
    const count = dbCount(r[0].n);
    if (count) out.push({ label: u.label, count });
  }
  return out;
}

function plural(n: number, label: string): string {
  return `${n} ${label}${n === 1 ? '' : 's'}`;
}

/** @throws Conflict IS_DEFAULT when the row is the help desk default named by spec.defaultKey. */
export async function assertNotDefault(db: Db, spec: CatalogSpec, rowId: number, verb: string): Promise<void> {
  if (!spec.defaultKey) return;
  const settings = await getSettings(db);
  if (settings[spec.defaultKey] === rowId)
    throw new Conflict(`This ${spec.label} is the help desk default. Choose another default in Settings before you ${verb} it.`, 'IS_DEFAULT');
}

/** Before/after of the fields that changed (for the audit log). */
export function changes(before: Record<string, unknown>, after: Record<string, unknown>): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      b[key] = before[key];
      a[key] = after[key];
    }
  }
  return { before: b, after: a };
}

/**
 * Enables or disables a catalogue row (the default cannot be disabled). Idempotent.
 * @throws Forbidden, NotFound, Conflict IS_DEFAULT
 */
export async function setCatalogActive(ctx: ServiceContext, spec: CatalogSpec, rowId: number, active: boolean): Promise<void> {
  assertAdmin(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await loadRow(trx, spec, rowId);
    if (!active) await assertNotDefault(trx, spec, rowId, 'disable');
    if (dbBool(row.is_active) === active) return;
    await trx(spec.table).where({ id: rowId }).update({ is_active: active, updated_at: toDbDate(ctx.clock()) });
    await recordAudit(ctx, trx, { action: `${spec.entity}.${active ? 'enable' : 'disable'}`, entity: spec.entity, entityId: rowId, before: { isActive: !active }, after: { isActive: active } });
  });
}

/**
 * Deletes a catalogue row that nothing uses and that is not the default; otherwise refuses with a
 * message that offers to disable it instead.
 * @throws Forbidden, NotFound, Conflict IS_DEFAULT / IN_USE
 */
export async function deleteCatalogRow(ctx: ServiceContext, spec: CatalogSpec, rowId: number, beforeDelete?: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  assertAdmin(ctx);
  await inTransaction(ctx, async (trx) => {
    const row = await loadRow(trx, spec, rowId);
    await assertNotDefault(trx, spec, rowId, 'delete');
    const usage = await usageOf(trx, spec, rowId);
    if (usage.length) throw inUse(spec, usage);
    await beforeDelete?.(trx);
    try {
      await trx(spec.table).where({ id: rowId }).delete();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw inUse(spec, []);
      throw err;
    }
    await recordAudit(ctx, trx, { action: `${spec.entity}.delete`, entity: spec.entity, entityId: rowId, before: spec.toDomain(row) });
  });
}

function inUse(spec: CatalogSpec, usage: { label: string; count: number }[]): Conflict {
  const what = usage.length ? usage.map((u) => plural(u.count, u.label)).join(', ') : 'other records';
  return new Conflict(`This ${spec.label} is still used by ${what}, so it cannot be deleted. Disable it instead, or move those first.`, 'IN_USE', { usage });
}

/** One page of a list. */
export interface Page<T> {
  items: T[];
  page: number;
  pages: number;
  /** Counted up to the list's cap plus one (listTotalCap): above it, "1,000+". */
  total: number;
  size: number;
  /** The total as shown: "1,000+" past the cap. */
  totalText: string;
  /** The number of pages as shown: "41+" past the cap (there is a next page, at least). */
  pagesText: string;
}

/** The deepest page a list opens (the queues' own limit). */
const MAX_PAGE = 100_000;

/**
 * How far a list's total is counted for page `page` of `size` rows: to COUNT_CAP ("1,000+"), or as far
 * as the page asked for, as the ticket queues' totals are, so the count reads at most that many rows or
 * index entries whatever the size of the table (the mail log: millions of messages on a large desk).
 */
export function listTotalCap(page: number, size: number): number {
  return Math.max(COUNT_CAP, page * size);
}

/**
 * Runs `q` for page `page` (1-based, clamped) of `size` rows, with its total counted up to
 * listTotalCap + 1 (one row past the cap still opens a next page).
 */
export async function paginate<T>(db: Db, q: Knex.QueryBuilder, page: unknown, size: number, map: (row: any) => T): Promise<Page<T>> {
  const n = Number(page);
  const asked = Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_PAGE) : 1;
  const cap = listTotalCap(asked, size);
  const bounded = q.clone().clearSelect().clearOrder().select(db.raw('1 as x')).limit(cap + 1);
  const total = dbCount((await db.from(bounded.as('c')).count({ n: '*' }).first())?.n);
  const pages = Math.max(1, Math.ceil(total / size));
  const current = Math.min(asked, pages);
  const rows = await q.limit(size).offset((current - 1) * size);
  return { items: rows.map(map), page: current, pages, total, size, totalText: countText(total, cap), pagesText: pagesText(pages, total > cap) };
}

/** Rows for a select list: id, name, active; sorted by name. */
export interface Choice {
  id: number;
  name: string;
  isActive: boolean;
  /** Agents: their primary department. */
  departmentId?: number;
}
