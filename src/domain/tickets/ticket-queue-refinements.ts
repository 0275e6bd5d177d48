/**
 * Queue filters beyond the ticket's own columns (ticket-queue-queries.ts applies them), and the
 * active-filter summary:
 * - `org`: the requester's organization (osTicket's queue criterion "Organization"). Its tickets are
 *   those of its members, read from the organization's members (users_organization_name) and each
 *   member's tickets (tickets_user), as the organization's page reads them: the requester's current
 *   organization, so a member who moves takes their tickets along.
 * - `cf=<field id>:<value>`: a custom field's answer — an option of a choice list, or "1" for a ticked
 *   checkbox (osTicket's custom queue criteria on form fields). Read from that answer's range of
 *   ticket_field_values_value. Agents see every field (public and agents-only), so any choice list or
 *   checkbox may filter; the form offers the enabled ones, a disabled one still filters (a saved view).
 *   Text, number and date fields are not offered (a free-text comparison has no index to read).
 * How they are read (docs/benchmarks.md): the tickets of such a set (the organization's if both are
 * given) are counted with the queue's summary up to SET_READ_CAP. A smaller set is read whole and
 * sorted for the page, as a search by a requester's email is: at most SET_READ_CAP tickets whatever the
 * desk's size. A larger one is where the queue's own page plans (walking its indexes in the page's
 * order) find a page early: each ticket is then tested against the filters one by one (by primary
 * key). The total is always counted from the set (to the queue's count cap); the agent's own
 * and their teams' tickets from their own indexes.
 */
import type { Knex } from 'knex';
import { tableForcedIndex, tableIndexedOnSqlite } from '../../db/dialect.ts';
import type { TicketField } from '../fields/ticket-field-service.ts';
import { answerText } from '../fields/ticket-field-values.ts';
import { SOURCE_LABELS, STATUS_LABELS } from './ticket-status.ts';

type Db = Knex | Knex.Transaction;
type Qb = Knex.QueryBuilder;

/** Organizations listed in the filter's select; with more, the form asks for a name (organizationByName). */
export const ORG_CHOICES_MAX = 100;

/** A custom-field filter: the field and the answer it must have. */
export interface FieldFilter { fieldId: number; value: string }

/** `cf` as a field and a value ("12:Laptop"); anything else is no filter. */
export function parseFieldFilter(cf: string | undefined): FieldFilter | undefined {
  const m = /^(\d{1,9}):(.+)$/s.exec(cf ?? '');
  return m ? { fieldId: Number(m[1]), value: m[2] } : undefined;
}

const filterable = (f: TicketField) => f.type === 'choice' || f.type === 'checkbox';

/** `cf` when it names a choice list or checkbox and a value that field holds (a checkbox: "1"); else undefined (ignored, as every bad queue parameter). */
export function checkedFieldFilter(fields: TicketField[], cf: string | undefined): string | undefined {
  const f = parseFieldFilter(cf);
  const field = f && fields.find((d) => d.id === f.fieldId && filterable(d));
  if (!field || (field.type === 'checkbox' && f.value !== '1')) return undefined;
  return cf;
}

/** The filters of a queue this module reads. */
export interface Refined { org?: number; cf?: string }

/** A set of tickets this large (or larger) is not read whole for a page: the page walks the queue (see the module comment). */
export const SET_READ_CAP = 5000;

/** The set a narrowed queue is read from: the organization's tickets, else the field answer's. */
export const setOf = (p: Refined): 'org' | 'cf' | undefined => (p.org ? 'org' : p.cf ? 'cf' : undefined);

/**
 * The conditions of `org` and `cf`: the set's as `IN` (where the query starts, see refinedTickets),
 * the other one — both when `walk` — tested on each ticket by primary key, as a value compared
 * (`(select …) = ?`): written as EXISTS, MariaDB turned it into a join that started from the set again
 * (an organization's 20,000 tickets sorted for an admin's page at 100k tickets: 0.6 s).
 */
export function whereRefined(db: Db, qb: Qb, p: Refined, walk = false): void {
  const field = parseFieldFilter(p.cf);
  const set = walk ? undefined : setOf(p);
  if (p.org && set === 'org') qb.whereIn('t.user_id', organizationTickets(db, p.org));
  else if (p.org) qb.whereRaw('(?) = ?', [db('users as u').whereRaw('?? = ??', ['u.id', 't.user_id']).select('u.organization_id'), p.org]);
  if (field && set === 'cf') qb.whereIn('t.id', answerTickets(db, field));
  else if (field) qb.whereRaw('(?) = ?', [db('ticket_field_values as fv').whereRaw('?? = ??', ['fv.ticket_id', 't.id']).where('fv.field_id', field.fieldId).select('fv.value'), field.value]);
}

/** The organization's members (users_organization_name). */
const organizationTickets = (db: Db, orgId: number) => db('users as u').where('u.organization_id', orgId).select('u.id');
/** The tickets with this answer (ticket_field_values_value). */
const answerTickets = (db: Db, f: FieldFilter) => db('ticket_field_values as fv').where('fv.field_id', f.fieldId).where('fv.value', f.value).select('fv.ticket_id');

/**
 * The set's tickets counted up to SET_READ_CAP (one value). An answer's through its index on MariaDB
 * too, which scanned the answers for a common one (bounded by the LIMIT only as far as they are dense).
 */
export function setSize(db: Db, p: Refined): Qb | undefined {
  const set = setOf(p);
  if (!set) return undefined;
  const f = parseFieldFilter(p.cf);
  const tickets: Qb = set === 'org' ? refinedTickets(db, p)!.whereIn('t.user_id', organizationTickets(db, p.org!))
    : (db.from(tableForcedIndex(db, 'ticket_field_values', 'fv', 'ticket_field_values_value')) as Qb).where('fv.field_id', f!.fieldId).where('fv.value', f!.value);
  return db.from(tickets.select(db.raw('1 as x')).limit(SET_READ_CAP).as('st')).count({ n: '*' });
}

/**
 * The tickets table a query that starts from the set reads (tableIndexedOnSqlite): an organization's
 * through tickets_user, a field answer's by primary key. Undefined without a set.
 */
export function refinedTickets(db: Db, p: Refined): Qb | undefined {
  const set = setOf(p);
  if (set === 'org') return db.from(tableIndexedOnSqlite(db, 'tickets', 't', 'tickets_user'));
  if (set === 'cf') return db.from(tableIndexedOnSqlite(db, 'tickets', 't', null));
  return undefined;
}

/**
 * Parts of the queue's summary statement (kind, id, name, n): the active organizations by name, one
 * more than listed (organizations_name_unique: to know there are more), and the chosen one (active or
 * not), for its name in the summary.
 */
export function organizationParts(db: Db, orgId: number | undefined): Qb[] {
  const first = db('organizations').where('is_active', true).orderBy('name').limit(ORG_CHOICES_MAX + 1).select('id', 'name');
  const parts = [db.from(first.as('og')).select(db.raw('? as kind', ['org']), 'og.id', 'og.name', db.raw('0 as n'))];
  if (orgId) parts.push(db('organizations').where('id', orgId).select(db.raw('? as kind', ['org-chosen']), 'id', 'name', db.raw('0 as n')));
  return parts;
}

export interface FieldChoice { value: string; text: string }
/** The filter's custom-field choices: each enabled choice list's options and each checkbox's "Yes", as `cf` values (the chosen one kept though its option is gone). */
export function fieldChoices(fields: TicketField[], cf: string | undefined): { label: string; choices: FieldChoice[] }[] {
  const chosen = parseFieldFilter(cf);
  return fields.filter((f) => filterable(f) && (f.isActive || chosen?.fieldId === f.id)).map((f) => {
    const values = f.type === 'checkbox' ? ['1'] : [...f.options];
    if (chosen?.fieldId === f.id && !values.includes(chosen.value)) values.push(chosen.value);
    return { label: f.label, choices: values.map((v) => ({ value: `${f.id}:${v}`, text: answerText(f, v) })) };
  });
}

type Named = { id: number; name: string }[];
/** The names a summary of the filters needs, each list as the summary statement read it. */
export interface FilterNames { departments: Named; priorities: Named; slaPlans: Named; agents: Named; organizations: Named; fields: TicketField[] }
/** One active filter as the queue page says it ("Organization: Acme"); `key` is the parameter it clears. */
export interface ActiveFilter { key: string; label: string; value: string }

/** The queue's active filters, in the form's order, each with the name of what it chose. */
export function activeFilters(p: Record<string, unknown>, names: FilterNames): ActiveFilter[] {
  const nameIn = (list: Named, id: unknown) => list.find((o) => o.id === Number(id))?.name ?? `#${id}`;
  const field = parseFieldFilter(p.cf as string | undefined);
  const def = field && names.fields.find((f) => f.id === field.fieldId);
  const all: [string, string, () => string][] = [
    ['q', 'Search', () => String(p.q)],
    ['dept', 'Department', () => nameIn(names.departments, p.dept)],
    ['priority', 'Priority', () => nameIn(names.priorities, p.priority)],
    ['sla', 'SLA plan', () => nameIn(names.slaPlans, p.sla)],
    ['assignee', 'Assignee', () => (p.assignee === 'none' ? 'Nobody' : nameIn(names.agents, p.assignee))],
    ['status', 'Status', () => STATUS_LABELS[p.status as keyof typeof STATUS_LABELS]],
    ['source', 'Source', () => SOURCE_LABELS[p.source as keyof typeof SOURCE_LABELS]],
    ['org', 'Organization', () => nameIn(names.organizations, p.org)],
  ];
  const out = all.filter(([key]) => p[key] !== undefined).map(([key, label, value]) => ({ key, label, value: value() }));
  if (field && def) out.push({ key: 'cf', label: def.label, value: answerText(def, field.value) });
  return out;
}
