/**
 * Agent queues. Every query starts from an indexed predicate on `tickets` (state + department,
 * assignee, team, overdue — see the tickets migration), so a queue never scans the table.
 * Counts are bounded: a count stops at COUNT_CAP (shown as "1,000+", as large help desks do), so
 * it reads at most that many index entries whatever the size of the desk (docs/benchmarks.md).
 * A queue page costs 2 statements here: the counts of all queues, the total of this queue (unless
 * its count is that total) and the filter choices in one UNION ALL, then the page of rows (settings
 * come from the request's memo).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbCount, dbDate, fromWithIndexHints, joinInOrder, tableByPrimaryKey, tableForcedIndex, tableIndexedOnSqlite, whereEqualsNotIndexed } from '../../db/dialect.ts';
import { prefixRange, searchTerms } from './ticket-search-index.ts';
import { isAdmin, type Actor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import type { TicketField } from '../fields/ticket-field-service.ts';
import { id, optionalId } from '../validation.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { loadTicketFor, mayAnywhere, whereAgentMaySee } from './ticket-policy.ts';
import { NotFound } from '../errors.ts';
import { formatDate } from './ticket-presenters.ts';
import { SOURCES, STATUS_LABELS, STATUSES, stateOf, type TicketState, type TicketStatus } from './ticket-status.ts';
import { COUNT_CAP, countText, pagesText } from '../bounded-count.ts';
import { ticketFieldDefs } from '../fields/ticket-field-values.ts';
import { savedViewParts, savedViewsOf, type SavedView } from './saved-queue-list.ts';
import {
  activeFilters, checkedFieldFilter, fieldChoices, ORG_CHOICES_MAX, organizationParts, refinedTickets, SET_READ_CAP, setOf, setSize, whereRefined, type ActiveFilter, type FieldChoice,
} from './ticket-queue-refinements.ts';

export const QUEUES = ['open', 'mine', 'unassigned', 'overdue', 'answered', 'closed'] as const;
export type QueueName = (typeof QUEUES)[number];
export const QUEUE_LABELS: Record<QueueName, string> = { open: 'Open', mine: 'My tickets', unassigned: 'Unassigned', overdue: 'Overdue', answered: 'Answered', closed: 'Closed' };

const SORTS = { number: 't.number', subject: 't.subject', requester: 't.requester_name', priority: 'p.urgency', department: 'd.name', assignee: 'a.name', due: 't.due_at', updated: 't.updated_at' } as const;
export type QueueSort = keyof typeof SORTS;
export const SORT_KEYS = Object.keys(SORTS) as QueueSort[];

const loose = <T extends z.ZodType>(s: T) => s.optional().catch(undefined);
/** Query-string parameters; a bad value is dropped (a list page is never an error page). */
export const QueueParams = z.object({
  queue: z.enum(QUEUES).catch('open').default('open'),
  dept: loose(optionalId),
  priority: loose(optionalId),
  sla: loose(optionalId),
  assignee: loose(z.union([z.literal('none'), id])),
  status: loose(z.enum(STATUSES)),
  source: loose(z.enum(SOURCES)),
  /** The requester's organization (ticket-queue-refinements.ts). */
  org: loose(optionalId),
  /** A custom field's answer, `<field id>:<value>` (checked against the fields by queueParamsOf). */
  cf: loose(z.string().max(130).regex(/^\d{1,9}:.{1,120}$/s)),
  q: loose(z.string().trim().max(100).transform((s) => s || undefined)),
  sort: loose(z.enum(SORT_KEYS as [QueueSort, ...QueueSort[]])),
  dir: loose(z.enum(['asc', 'desc'])),
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});
export type QueueParams = z.output<typeof QueueParams>;

type Qb = Knex.QueryBuilder;

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

/**
 * A word search counts its total only this far: its matches are read from the word index in ticket
 * order (newest first) and each is looked up to test the queue and visibility, so 201 matches of a common word are
 * ~201 ÷ (the queue's share of tickets) lookups at any desk size, where 1,001 would be five times that.
 */
export const SEARCH_COUNT_CAP = 200;
/**
 * A search whose terms are all common (searchDriver: 'walk') counts only this far: its total walks
 * the queue's entries testing each, and two words each in a tenth of the subjects but together in a
 * hundredth find their 201st match ~20,000 entries in (46 ms of MariaDB at 1M, 545 ms p95 with 16
 * searching at once). Such a search shows "50+" and two pages, then a next one, as far as it is paged.
 */
export const WALK_COUNT_CAP = 50;

/** Tickets the actor may see: their departments, assigned to them or their teams (admins, API, system: all). */
function scopeVisible(qb: Qb, actor: Actor): void {
  whereAgentMaySee(qb, actor);
}

/** The index a count reads an agent's "assigned to me" part from (assignee, state, both flags, department: covering). */
const ASSIGNEE_COUNT_INDEX = 'tickets_assignee_flags';
/** The index a count of a whole queue (an admin's, no department filter) reads: the queue's own entries first. */
const QUEUE_COUNT_INDEX: Partial<Record<QueueName, string>> = {
  open: 'tickets_queue_dept_updated', closed: 'tickets_queue_dept_updated',
  unassigned: 'tickets_unassigned', answered: 'tickets_answered', overdue: 'tickets_overdue',
};

/** Narrows a query to one part of a queue's tickets. */
type Part = (qb: Qb) => void;
/** A part, and the index a page reads it from on SQLite when it is not a department's range (see queueParts); `department`: a part that is one department's range. */
type VisiblePart = { where: Part; index?: string; department?: number; kind?: 'whole' | 'departments' | 'assigned' };

/**
 * The tickets an actor may see in `queue`, as DISJOINT parts whose counts add up. One OR
 * ("my departments, or assigned to me, or my teams") makes MariaDB merge whole index ranges before a
 * LIMIT can stop it (index_merge sort_union: 60 ms for one agent's counts at 100k tickets, growing
 * with the desk); each part alone starts from an index (state + department, assignee, team) and
 * stops after the cap. An agent's page of rows is read from the same parts, with one part per
 * department (`perDepartment`) so that each is one range of an index in the page's order
 * (partsPageIds); an admin's page walks the queue's sort index.
 */
function visibleParts(actor: Actor, queue: QueueName, perDepartment = false): VisiblePart[] {
  const assigned = 'tickets_assignee';
  const team = 'tickets_team';
  if (queue === 'mine') {
    // Assigned to me or to my teams is always visible: no department part.
    if (actor.kind !== 'agent') return [{ where: (qb) => void qb.whereRaw('1 = 0') }];
    const parts: VisiblePart[] = [{ where: (qb) => void qb.where('t.assignee_agent_id', actor.id), index: assigned, kind: 'assigned' }];
    if (actor.teamIds.length) parts.push({ where: (qb) => void qb.whereIn('t.team_id', actor.teamIds).where(notMine(actor.id)), index: team });
    return parts;
  }
  if (actor.kind !== 'agent' || actor.role === 'admin') return [{ where: () => undefined, kind: 'whole' }];
  const depts = actor.departmentIds;
  const outside: Part = (qb) => void (depts.length && qb.whereNotIn('t.department_id', depts));
  const parts: VisiblePart[] = [];
  if (perDepartment) for (const dept of depts) parts.push({ where: (qb) => void qb.where('t.department_id', dept), department: dept });
  else if (depts.length) parts.push({ where: (qb) => void qb.whereIn('t.department_id', depts), kind: 'departments' });
  parts.push({ where: (qb) => (qb.where('t.assignee_agent_id', actor.id), outside(qb)), index: assigned, kind: 'assigned' });
  if (actor.teamIds.length) parts.push({ where: (qb) => (qb.whereIn('t.team_id', actor.teamIds).where(notMine(actor.id)), outside(qb)), index: team });
  return parts;
}

/** Not assigned to this agent (NULL included), so a team part never counts a ticket the assignee part counted. */
const notMine = (agentId: number) => (w: Qb) => void w.whereNull('t.assignee_agent_id').orWhereNot('t.assignee_agent_id', agentId);

/** The state a queue's tickets are in: Closed holds the closed ones, every other queue open ones. */
const stateOfQueue = (queue: QueueName): TicketState => (queue === 'closed' ? 'closed' : 'open');

/**
 * The queue's state (closed or open). For a queue narrowed to a set of tickets (fromSubset: a search by
 * requester email, an organization, a custom field's answer) the state must not be answered from an
 * index: the requester's tickets (tickets_user) are few, but SQLite without statistics (the app never
 * runs ANALYZE) preferred walking the whole open range in update order and checking each ticket's
 * requester — 61 ms at 100k tickets and growing (bench, docs/benchmarks.md).
 */
function whereState(db: Knex | Knex.Transaction, qb: Qb, queue: QueueName, subset = false): void {
  const state = stateOfQueue(queue);
  if (subset) whereEqualsNotIndexed(db, qb, 't.state', state);
  else qb.where('t.state', state);
}

/** A quick search that is a requester's email address (answered from users_email_unique + tickets_user). */
const isEmailSearch = (p: Pick<QueueParams, 'q'>) => p.q !== undefined && EMAIL_RE.test(p.q);

/**
 * A queue narrowed to a set of tickets read first: a requester's (a search by email), an
 * organization's members' (tickets_user), a custom field answer's (ticket_field_values_value), unless
 * the set is too large to read for a page (`walk`: ticket-queue-refinements.ts). Its state is then not
 * answered from an index (whereState), and its page is sorted from that set rather than walked part by
 * part or value by value in a queue index: SQLite, without statistics, otherwise walked the queue in
 * page order testing each ticket against the set, every entry of the state when the set was small.
 */
const fromSubset = (p: QueueParams, walk = false) => isEmailSearch(p) || (!walk && setOf(p) !== undefined);

function scopeQueue(db: Knex | Knex.Transaction, qb: Qb, queue: QueueName, actor: Actor, subset = false): void {
  whereState(db, qb, queue, subset);
  if (queue === 'mine') {
    if (actor.kind !== 'agent') return void qb.whereRaw('1 = 0');
    qb.where((w) => {
      w.where('t.assignee_agent_id', actor.id);
      if (actor.teamIds.length) w.orWhereIn('t.team_id', actor.teamIds);
    });
  } else scopeQueueFlags(qb, queue);
}

/** The queue's own condition besides state and visibility. */
function scopeQueueFlags(qb: Qb, queue: QueueName): void {
  if (queue === 'unassigned') qb.whereNull('t.assignee_agent_id').whereNull('t.team_id');
  else if (queue === 'overdue') qb.where('t.is_overdue', true);
  else if (queue === 'answered') qb.where('t.is_answered', true);
}

function scopeFilters(db: Knex | Knex.Transaction, qb: Qb, p: QueueParams, walk = false): void {
  if (p.dept) qb.where('t.department_id', p.dept);
  if (p.priority) qb.where('t.priority_id', p.priority);
  if (p.sla) qb.where('t.sla_plan_id', p.sla);
  if (p.assignee === 'none') qb.whereNull('t.assignee_agent_id');
  else if (p.assignee) qb.where('t.assignee_agent_id', p.assignee);
  if (p.status) {
    // A status belongs to one state (stateOf): in a queue of the other state it matches no ticket,
    // and 'open' is the only status of the open state. Neither is written as a condition on the
    // status, which no queue index holds: each ticket of the queue was read to test it, a walk of the
    // whole state when nothing matched (Open filtered by Closed: 17 s at 1M tickets).
    const state = stateOfQueue(p.queue);
    if (stateOf(p.status) !== state) qb.whereRaw('1 = 0');
    else if (STATUSES.some((other) => other !== p.status && stateOf(other) === state)) qb.where('t.status', p.status);
  }
  if (p.source) qb.where('t.source', p.source);
  whereRefined(db, qb, p, walk);
  const q = p.q;
  if (q && EMAIL_RE.test(q)) {
    // A requester's email: answered from users_email_unique + tickets_user, never a subject scan.
    qb.whereIn('t.user_id', db('users').where('email', q.toLowerCase()).select('id'));
  } else if (q) {
    // The number, or words (each the start of a word of the subject or the requester's name). A page of a common word
    // walks the queue in its order testing each ticket this way; the total, and a page of a word in few
    // subjects, start from the word index instead (wordSearchFound).
    const terms = searchTerms(q);
    qb.where((w) => {
      w.where('t.number', searchNumber(q));
      if (terms.length) w.orWhere((m) => wordMatch(m, terms));
    });
  }
}

/**
 * Where a word search's total starts (see listQueue): the range of the word index of the term with the
 * fewest tickets (each term counted up to RAREST_CAP, in one statement), or, when every term is in
 * more tickets than that, a walk of the queue (`walk`); no term (only a number): undefined.
 * One term is counted too. Its range read without asking, a word in years of subjects but in few
 * tickets of the queue searched ("password" in 100,000 tickets, 9 of them open) looked every one of its
 * tickets up to find that there were only 9 (1.1 s at 1M tickets), where the walk tests the queue's
 * own index entries (docs/benchmarks.md, Decisions → Search).
 */
async function searchDriver(db: Knex | Knex.Transaction, terms: string[]): Promise<string | 'walk' | undefined> {
  if (terms.length === 0) return undefined;
  const counted = terms.map((term, i) => {
    const [lo, hi] = prefixRange(term);
    const entries = db('ticket_search_words').select(db.raw('1 as x')).where('word', '>=', lo).where('word', '<', hi).limit(RAREST_CAP);
    // sql-safe: `i` is the term's index, an integer. (Bound as `? as i`, knex placed the value after the subquery's.)
    return db.from(entries.as(`c${i}`)).select(db.raw(`${Number(i)} as i`), db.raw('count(*) as n'));
  });
  const rows = (await (counted.length > 1 ? counted[0].unionAll(counted.slice(1)) : counted[0])) as unknown as { i: unknown; n: unknown }[];
  const n = (i: number) => dbCount(rows.find((r) => Number(r.i) === i)?.n);
  let best = 0;
  for (let i = 1; i < terms.length; i++) if (n(i) < n(best)) best = i;
  return n(best) < RAREST_CAP ? terms[best] : 'walk';
}
/** From this many tickets a term counts as common (searchDriver). */
const RAREST_CAP = 5000;

/** The ticket number a search may be (a leading # dropped). */
const searchNumber = (q: string) => q.replace(/^#/, '');

/**
 * Every term is the start of a word of the ticket's subject or requester's name: `search_text LIKE '% term%'` (see
 * ticket-search-index.ts searchText; a term is letters and digits, nothing LIKE would read as a
 * wildcard). search_text is in the queue's covering index, so a walk of the queue tests it there.
 */
function wordMatch(qb: Qb, terms: string[]): void {
  for (const term of terms) qb.where('t.search_text', 'like', `% ${term}%`);
}

export interface QueueRow {
  id: number;
  number: string;
  subject: string;
  status: string;
  statusLabel: string;
  requesterName: string;
  requesterEmail: string;
  priority: string;
  /** Its badge's colour class in the agent panel: prio-<id> (/scp/priorities.css). */
  priorityId: number;
  priorityColor: string;
  department: string;
  assignee: string | null;
  team: string | null;
  dueAt: Date | null;
  updatedAt: Date;
  /** dueAt / updatedAt in the help desk's time zone. */
  dueText: string;
  updatedText: string;
  isOverdue: boolean;
  isAnswered: boolean;
  /** Markers: thread entries, CCs, files, open tasks. */
  entryCount: number;
  ccCount: number;
  fileCount: number;
  openTasks: number;
}

export interface QueuePage {
  params: QueueParams;
  sort: QueueSort;
  dir: 'asc' | 'desc';
  /** Bounded counts: a value above COUNT_CAP means "COUNT_CAP+" (see countText). */
  counts: Record<QueueName, number>;
  rows: QueueRow[];
  /** Rows of this queue, counted up to max(COUNT_CAP, page × pageSize) + 1. */
  total: number;
  totalCapped: boolean;
  /** "1,275" or "1,275+" */
  totalText: string;
  page: number;
  /** Pages known so far (a lower bound when totalCapped). */
  pages: number;
  pagesText: string;
  pageSize: number;
  options: QueueOptions;
  /** The agent's saved views, and the views other agents share, by name (saved-queue-list.ts). */
  views: SavedView[];
  sharedViews: SavedView[];
  /** The filters in effect, named ("Organization: Acme"). */
  active: ActiveFilter[];
  /** The bulk actions offer Delete (ticket-delete.ts: admins, agents when the settings allow it). */
  canDelete: boolean;
}
/**
 * The ticket a quick search names exactly: a search that is a ticket number ("#123456" too) opens
 * that ticket, as osTicket's quick search does — found in the queue searched, or, when the queue has
 * nothing for it, in any state (a closed ticket's number typed in the Open queue), if the agent may
 * see it. Anything else stays a list (a word that happens to find one ticket included).
 */
export async function ticketNamedBySearch(ctx: ServiceContext, page: QueuePage): Promise<number | null> {
  const q = page.params.q;
  if (!q || !/^#?\d{1,20}$/.test(q)) return null;
  if (page.total === 1 && page.rows.length === 1) return page.rows[0].number === searchNumber(q) ? page.rows[0].id : null;
  if (page.total !== 0) return null;
  const t = await loadTicketFor(ctx.db, ctx.actor, { number: searchNumber(q) }).catch((err: unknown) => {
    if (err instanceof NotFound) return null;
    throw err;
  });
  return t ? Number(t.id) : null;
}

/** Default order per queue (osTicket: overdue by due date, closed and the rest by last update). */
function defaultSort(queue: QueueName): [QueueSort, 'asc' | 'desc'] {
  return queue === 'overdue' ? ['due', 'asc'] : ['updated', 'desc'];
}

/**
 * A count of disjoint parts that stops after cap + 1 rows of each part (so n > cap still means "more
 * than cap"), and counts no further part once the parts so far are past the cap:
 * `(select case when s > cap then s else s + (select count(*) from (<part 2> limit cap + 1) c) end
 * from (select (select count(*) from (<part 1> limit cap + 1) c) as s) s1)`, nested per part. The sum
 * is materialised once (a derived table), so each part is read at most once and only when needed: a
 * one-department agent's department part is past the cap in most queues at 1M tickets, and adding the
 * "assigned to me elsewhere" part read up to cap + 1 more entries per queue.
 */
export function boundedCount(db: Knex | Knex.Transaction, parts: Qb[], cap: number): Knex.Raw {
  const count = '(select count(*) from ? as c)';
  let sql = `select ${count} as s`;
  for (let i = 1; i < parts.length; i++) sql = `select case when s > ${Number(cap)} then s else s + ${count} end as s from (${sql}) as s${i}`;
  // The bindings follow the text's order: the innermost (first) part's placeholder comes last.
  const bound = parts.map((qb) => qb.clearSelect().select(db.raw('1 as x')).limit(cap + 1));
  // sql-safe: `sql` is only the fixed text above and the integer cap; every part is a ? binding.
  return db.raw(`(${sql})`, parts.length > 1 ? [...bound.slice(1).reverse(), bound[0]] : bound);
}

/**
 * The total of a word search whose terms are all common (searchDriver), counted the way its page is
 * read: in update order along tickets_queue_scope_sort_flags, whose entries hold the visibility
 * columns, the number and search_text, so the test is made in the index, and common words are found
 * early. (Counted as disjoint parts instead, each part started from a narrower index and read each
 * candidate ticket's row: 150–170 ms a part at 1M tickets with a cold buffer pool.) Given `order` (the
 * page's, by update or due date) it walks in that order: the tickets it finds first are the first
 * pages, which listQueue then reads among them instead of walking the queue a second time.
 */
function searchTotal(db: Knex | Knex.Transaction, base: Qb, order?: { sort: QueueSort; dir: 'asc' | 'desc' }): Qb {
  if (order) return orderWithTies(base.clone(), order.sort, sortKey(db, order.sort), order.dir);
  // The order is only there to keep the planner on that index (without it MariaDB picked a narrower
  // index and read rows); a count needs none, so it walks forward, in the index's own order.
  return base.clone().orderBy('t.updated_at', 'asc').orderBy('t.id', 'asc');
}

/**
 * The tickets a word search finds (up to cap + 1 of each kind), as one query of ids aliased `t`
 * (so the summary's total and found parts select `t.id` from it as from any part): the ticket of that
 * number; the indexed tickets with a word starting with `driver` (the rarest term), read as that
 * range of the word index (ticket_search_words, in ticket order), each looked up by id to test the
 * other terms, the queue and visibility (joinInOrder: the planner might otherwise start from the queue
 * and test every ticket of it); the tickets not indexed yet, through tickets_search_pending (those of
 * the last seconds). A UNION: the number's ticket may match a word too. Testing every entry of the
 * queue instead read all of them for a word in few or no subjects (the Closed queue at 1M tickets:
 * 0.4–0.9 s; docs/benchmarks.md).
 */
function wordSearchFound(db: Knex | Knex.Transaction, actor: Actor, p: QueueParams, cap: number, driver: string | undefined): Qb {
  const q = p.q!;
  const plain = baseQuery(db, actor, { ...p, q: undefined });
  const terms = searchTerms(q);
  const parts: Qb[] = [plain.clone().where('t.number', searchNumber(q)).select('t.id')];
  if (driver !== undefined) {
    const [lo, hi] = prefixRange(driver);
    const indexed = plain.clone().from(joinInOrder(db, ['ticket_search_words', 'sw', 'ticket_id'], ['tickets', 't', 'id'])).where('sw.word', '>=', lo).where('sw.word', '<', hi).where('t.search_indexed', true);
    wordMatch(indexed, terms.filter((term) => term !== driver));
    // The range backwards (the index's order reversed, no sort): each word's newest tickets first. A
    // help desk's open tickets are its recent ones, so when the queue has more matches than the cap
    // the Open queue's are found first instead of after every older, closed one.
    parts.push(indexed.select('t.id').orderBy('sw.word', 'desc').orderBy('sw.ticket_id', 'desc').limit(cap + 1));
    const pending = plain.clone().from(tableForcedIndex(db, 'tickets', 't', 'tickets_search_pending')).where('t.search_indexed', false);
    wordMatch(pending, terms);
    parts.push(pending.select('t.id').limit(cap + 1));
  }
  const union = db.select('p0.id').from(parts[0].as('p0')).union(parts.slice(1).map((part, i) => db.select(`p${i + 1}.id`).from(part.as(`p${i + 1}`))));
  return db.from(union.as('t')).select('t.id');
}

/**
 * A queue's tickets for the actor as disjoint queries (see visibleParts), with `extra` conditions
 * (filters). `forPage`: the parts a page is read from (partsPageIds), one per department.
 */
function queueParts(db: Knex | Knex.Transaction, actor: Actor, queue: QueueName, extra: Part = () => undefined, subset = false, forPage = false): Qb[] {
  return visibleParts(actor, queue, forPage).map(({ where: part, index }) => inQueue(db, forPage ? pagePartTable(db, index) : db('tickets as t'), queue, [part, extra], subset));
}

/**
 * The parts of a queue narrowed to an organization's or field answer's set, for its total: the whole
 * queue or the agent's departments from the set (refinedTickets), the agent's own and their teams'
 * tickets from their own indexes, each tested against the filters (few: read from the set instead, a
 * large one was read whole, 0.5 s at 100k tickets on SQLite).
 */
function setParts(db: Knex | Knex.Transaction, actor: Actor, p: QueueParams): Qb[] {
  return visibleParts(actor, p.queue).map(({ where: part, index }) => (index
    ? inQueue(db, db.from(tableIndexedOnSqlite(db, 'tickets', 't', index)) as Qb, p.queue, [part, (qb) => scopeFilters(db, qb, p, true)])
    : inQueue(db, refinedTickets(db, p)!, p.queue, [part, (qb) => scopeFilters(db, qb, p)], true)));
}

/** `qb` narrowed to `queue`: its state, `wheres` (a part, filters), the queue's own flags. */
function inQueue(db: Knex | Knex.Transaction, qb: Qb, queue: QueueName, wheres: Part[], subset = false): Qb {
  whereState(db, qb, queue, subset);
  for (const where of wheres) where(qb);
  scopeQueueFlags(qb, queue);
  return qb;
}

/**
 * The table a page's part is read from: its own index (`index` on SQLite), not the queue-wide covering
 * one in the page's order: for "assigned to me elsewhere" MariaDB walked 43,000 of its entries for 25
 * rows, and SQLite picks it for every part that is not a department's.
 */
function pagePartTable(db: Knex | Knex.Transaction, index?: string): Qb {
  return fromWithIndexHints(db, 'tickets', 't', { ignore: 'tickets_queue_scope_sort_flags', use: index });
}

/**
 * A queue's count as parts (see visibleParts). An agent's departments part is read from the queue's
 * DEPARTMENT_INDEX (state, department, the queue's columns): for their Unassigned queue MariaDB
 * intersected two indexes instead (index_merge of tickets_assignee_dept and tickets_team, reading
 * both ranges whole): 3.2 ms against 0.5 for one department at 1M tickets, on every page an agent
 * who is not an admin opens.
 */
function countQuery(db: Knex | Knex.Transaction, actor: Actor, queue: QueueName, dept?: number): Qb[] {
  return visibleParts(actor, queue).map(({ where: part, kind }) => {
    const index = kind === 'whole' ? (dept ? DEPARTMENT_INDEX[queue] : QUEUE_COUNT_INDEX[queue])
      : kind === 'departments' ? DEPARTMENT_INDEX[queue]
      : kind === 'assigned' ? ASSIGNEE_COUNT_INDEX
      : undefined; // a team's part: the planner's (a team's tickets are few)
    const table = index ? (db.from(tableForcedIndex(db, 'tickets', 't', index)) as Qb) : db('tickets as t');
    return inQueue(db, table, queue, [part, (qb) => void (dept && qb.where('t.department_id', dept))]);
  });
}

/** Counts of every queue for the actor (and department filter), each bounded by COUNT_CAP (n > cap means "cap+"), in one statement. */
export async function queueCounts(db: Knex | Knex.Transaction, actor: Actor, dept?: number): Promise<Record<QueueName, number>> {
  return (await queueSummary(db, actor, dept)).counts;
}

type Opt = { id: number; name: string };
/** The filter form's choices. `organizations`: the first ORG_CHOICES_MAX by name; `moreOrganizations`: there are more (the form asks for a name); `fields`: custom-field answers (ticket-queue-refinements.ts). */
export interface QueueOptions { departments: Opt[]; priorities: Opt[]; slaPlans: Opt[]; agents: Opt[]; organizations: Opt[]; moreOrganizations: boolean; fields: { label: string; choices: FieldChoice[] }[]; chosenOrganization: string | null }
/** `found`: given total.ids, the ids the total's walk found (all of them when total ≤ its cap). `named`: every name the summary read, for the active filters. */
interface Summary { counts: Record<QueueName, number>; total: number; setSize: number; found?: number[]; options: Omit<QueueOptions, 'fields' | 'chosenOrganization'>; named: { departments: Opt[]; organizations: Opt[] }; urgencies: Urgency[]; ranks: SortKey[]; views: SavedView[]; sharedViews: SavedView[] }
type Urgency = { id: number; urgency: number };
/** One value of a sort column (null: none) and its place in the order (`k`: equal names, equal k). */
type SortKey = { id: number | null; k: number };

/**
 * In ONE statement (UNION ALL): the bounded count of every queue, the bounded total of the page's
 * own query (`total`, counted up to `totalCap`), the active departments, priorities, SLA plans and
 * agents for the filters, every priority's urgency (`urgencies`, for a page in priority order) and,
 * given `rankBy`, every department's or agent's place in name order (`ranks`: the database's collation
 * and ties, dense_rank; the unassigned first, as NULL sorts first in both databases).
 */
async function queueSummary(db: Knex | Knex.Transaction, actor: Actor, dept?: number, total?: { parts: Qb[]; cap: number; ids?: boolean; walk?: { parts: Qb[]; cap: number } }, rankBy?: 'department' | 'assignee', refined: { org?: number; cf?: string } = {}): Promise<Summary> {
  const counter = (kind: string, name: string, parts: Qb[], cap: number) => db.select(db.raw('? as kind', [kind]), db.raw('0 as id'), db.raw('? as name', [name]), boundedCount(db, parts, cap).wrap('', ' as n'));
  const size = setSize(db, refined);
  const option = (kind: string, table: string) => db(table).where('is_active', true).select(db.raw('? as kind', [kind]), 'id', 'name', db.raw('0 as n'));
  // Every priority, inactive ones too (tickets may still have them), with its urgency: the filter lists
  // the active ones, a page sorted by priority is read one priority at a time (see keyedPageIds).
  const priorities = db('priorities').select(db.raw('(case when ?? then ? else ? end) as kind', ['is_active', 'priority', 'priority-inactive']), 'id', 'name', db.ref('urgency').as('n'));
  // Every agent, disabled ones too (n: active): the filters list the active ones, the shared views name their owners.
  const agents = db('agents').select(db.raw('? as kind', ['agent']), 'id', 'name', db.ref('is_active').as('n'));
  const parts: Qb[] = [option('dept', 'departments'), priorities, option('sla', 'sla_plans'), agents];
  for (const queue of QUEUES) parts.push(counter('count', queue, countQuery(db, actor, queue, dept), COUNT_CAP));
  // Given `ids` (one part: a word search), the total also answers the ids it found (found).
  if (total?.ids) parts.push(db.from(total.parts[0].clearSelect().select('t.id').limit(total.cap + 1).as('f')).select(db.raw('? as kind', ['found']), db.raw('0 as id'), db.raw('group_concat(??) as name', ['f.id']), db.raw('count(*) as n')));
  // A set too large to read (SET_READ_CAP) is counted walking the queue instead, as far as `walk.cap`
  // (its branch alone is evaluated: CASE evaluates the THEN it chooses).
  else if (total?.walk && size) parts.push(db.select(db.raw('? as kind', ['total']), db.raw('0 as id'), db.raw('? as name', ['total']), db.raw('(case when (?) >= ? then ? else ? end) as n', [size, SET_READ_CAP, boundedCount(db, total.walk.parts, total.walk.cap), boundedCount(db, total.parts, total.cap)])));
  else if (total) parts.push(counter('total', 'total', total.parts, total.cap));
  if (rankBy) parts.push(db(rankBy === 'department' ? 'departments' : 'agents').select(db.raw('? as kind', ['rank']), 'id', 'name', db.raw('dense_rank() over (order by ??) as n', ['name'])));
  // The size of the set an organization or field filter reads (setSizePart), the organizations for
  // the filter, the saved views listed beside the queues (the agent's and the shared ones).
  if (size) parts.push(db.select(db.raw('? as kind', ['set']), db.raw('0 as id'), db.raw('? as name', ['set']), db.raw('(?) as n', [size.clone()])));
  parts.push(...organizationParts(db, refined.org), ...savedViewParts(db, actor));
  const rows = (await parts[0].unionAll(parts.slice(1))) as unknown as { kind: string; id: unknown; name: string; n: unknown }[];
  const counts = Object.fromEntries(QUEUES.map((q) => [q, 0])) as Record<QueueName, number>;
  let totalN = 0;
  let setN = 0;
  let found: number[] | undefined;
  for (const r of rows) {
    if (r.kind === 'count') counts[r.name as QueueName] = dbCount(r.n);
    else if (r.kind === 'total') totalN = dbCount(r.n);
    else if (r.kind === 'set') setN = dbCount(r.n);
    else if (r.kind === 'found') {
      totalN = dbCount(r.n);
      found = r.name === null ? [] : String(r.name).split(',').map(Number);
    }
  }
  const of = (k: string) => rows.filter((r) => r.kind === k).map((r) => ({ id: Number(r.id), name: String(r.name) })).sort((a, b) => a.name.localeCompare(b.name));
  const limited = actor.kind === 'agent' && actor.role !== 'admin';
  const urgencies = rows.filter((r) => r.kind === 'priority' || r.kind === 'priority-inactive').map((r) => ({ id: Number(r.id), urgency: Number(r.n) }));
  const organizations = of('org');
  const chosen = of('org-chosen');
  const options = {
    departments: of('dept').filter((d) => !limited || actor.departmentIds.includes(d.id)),
    // Most urgent first, as on the ticket page and in the admin area.
    priorities: rows.filter((r) => r.kind === 'priority').sort((a, b) => Number(a.n) - Number(b.n) || String(a.name).localeCompare(String(b.name))).map((r) => ({ id: Number(r.id), name: String(r.name) })),
    slaPlans: of('sla'),
    agents: of('agent').filter((a) => rows.some((r) => r.kind === 'agent' && Number(r.id) === a.id && dbBool(r.n))),
    // The chosen one listed too, if it is not among them (a disabled organization, by a saved view).
    organizations: [...organizations.slice(0, ORG_CHOICES_MAX), ...chosen.filter((c) => !organizations.some((o) => o.id === c.id))],
    moreOrganizations: organizations.length > ORG_CHOICES_MAX,
  };
  const ranks: SortKey[] = rows.filter((r) => r.kind === 'rank').map((r) => ({ id: Number(r.id), k: Number(r.n) }));
  if (rankBy === 'assignee') ranks.push({ id: null, k: 0 });
  const named = { departments: of('dept'), organizations: [...organizations, ...chosen] };
  return { counts, total: totalN, setSize: setN, found, options, named, urgencies, ranks, ...savedViewsOf(rows, actor) };
}

/** The queue's tickets for the actor with its filters; `walk`: an organization's or field answer's set too large to start from (fromSubset). */
function baseQuery(db: Knex | Knex.Transaction, actor: Actor, p: QueueParams, walk = false): Qb {
  const base = (walk ? undefined : refinedTickets(db, p)) ?? db('tickets as t');
  scopeVisible(base, actor);
  scopeQueue(db, base, p.queue, actor, fromSubset(p, walk));
  scopeFilters(db, base, p, walk);
  return base;
}

function sortOf(p: QueueParams): [QueueSort, 'asc' | 'desc'] {
  const [defSort, defDir] = defaultSort(p.queue);
  return [p.sort ?? defSort, p.dir ?? (p.sort ? (p.sort === 'updated' ? 'desc' : 'asc') : defDir)];
}

/**
 * Sorts whose key is unique (tickets.number): no tie to break. Ordered by the number alone, a number
 * index (tickets_queue_number, or tickets_number_unique) gives the order and the walk stops after the
 * page; with `, id` after it both databases sorted the queue's entries (the Closed queue at 1M tickets:
 * 0.74 s a page → 0.02 s by the unique index alone).
 */
const UNIQUE_SORTS: ReadonlySet<QueueSort> = new Set(['number']);

/** Orders by `key`, then by id where the key can tie (so pages never overlap). */
function orderWithTies(qb: Qb, sort: QueueSort, key: string | Knex.Raw, dir: 'asc' | 'desc'): Qb {
  qb.orderBy(key as string, dir);
  return UNIQUE_SORTS.has(sort) ? qb : qb.orderBy('t.id', dir);
}

/**
 * The page's rows with the names they show, in the chosen order (id breaks ties, so pages never overlap),
 * and their markers: how many entries, CCs, files and open tasks each has (counted on each ticket's
 * own index range, for the page's rows only: the ids are chosen first, see pageQuery).
 */
function rowsQuery(db: Knex | Knex.Transaction, base: Qb, sort: QueueSort, dir: 'asc' | 'desc'): Qb {
  // count(m.ticket_id), not count(*): these count one ticket's own rows, never a queue (test/services/queue-counts.test.ts tells them apart so).
  const count = (table: string, as: string) => db.raw('(select count(??) from ?? where ?? = ??) as ??', ['m.ticket_id', `${table} as m`, 'm.ticket_id', 't.id', as]);
  return orderWithTies(base
    .clone()
    .select(
      count('thread_entries', 'entry_count'), count('ticket_collaborators', 'cc_count'), count('attachments', 'file_count'),
      // (A literal false, no bound value: the page's other values keep their places; SQLite knows FALSE since 3.23.)
      db.raw('(select count(??) from ?? where ?? = ?? and ?? = false) as ??', ['m.ticket_id', 'ticket_tasks as m', 'm.ticket_id', 't.id', 'm.is_done', 'open_tasks']),
    )
    .join('users as u', 'u.id', 't.user_id')
    .join('priorities as p', 'p.id', 't.priority_id')
    .join('departments as d', 'd.id', 't.department_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_agent_id')
    .leftJoin('teams as tm', 'tm.id', 't.team_id')
    .select('t.id', 't.number', 't.subject', 't.status', 't.due_at', 't.updated_at', 't.is_overdue', 't.is_answered', 'u.name as requester_name', 'u.email as requester_email', 't.priority_id', 'p.name as priority', 'p.color as priority_color', 'd.name as department', 'a.name as assignee', 'tm.name as team'),
    sort, SORTS[sort], dir);
}

/** Sorts an index can serve part by part, in order (see partsPageIds): each part stops after the page. */
const ORDERED_SORTS: ReadonlySet<QueueSort> = new Set(['updated', 'due']);

/**
 * A sort key that lives in another table (a name, an urgency), as a subquery on the ticket's own row:
 * the ids are then chosen from `tickets` alone. Joined instead, MariaDB started from the small table
 * (priorities: 4 rows) and read every ticket of each priority through its foreign-key index, 1M row
 * reads for a page at 1M tickets (4 s). The requester's name is on the ticket (requester_name).
 */
function sortKey(db: Knex | Knex.Transaction, sort: QueueSort): string | Knex.Raw {
  if (sort === 'priority') return db.raw('(select ?? from ?? where ?? = ??)', ['sp.urgency', 'priorities as sp', 'sp.id', 't.priority_id']);
  if (sort === 'department') return db.raw('(select ?? from ?? where ?? = ??)', ['sd.name', 'departments as sd', 'sd.id', 't.department_id']);
  if (sort === 'assignee') return db.raw('(select ?? from ?? where ?? = ??)', ['sa.name', 'agents as sa', 'sa.id', 't.assignee_agent_id']);
  return SORTS[sort];
}

/**
 * One page of rows, in two steps (a "deferred join"): the page's ids are chosen first from the
 * tickets table alone, then the names are joined to those ids only. For updated and due the database
 * walks the queue index (or, given `parts`, each part's own: partsPageIds) and stops after the page;
 * without it MariaDB may start the join from a small lookup table (priorities) and sort the whole
 * queue (seen in bench/explain.ts at 100k tickets). Given `keyed`, a page in priority (department,
 * assignee) order is read one priority (department, agent) at a time (keyedPageIds) and stops too;
 * given `merged`, from parts that each already select (id, k) in (k, id) order (nameOrderParts).
 * The other sorts still sort the whole queue, but as narrow (key, id) pairs from the queue's covering
 * index instead of whole joined rows (6–7 s for the Open queue by priority or requester at 1M tickets,
 * 200,000 open: docs/benchmarks.md). Given `forceIndex`, the ids are read through that index (see idsIndex);
 * given `key`, sorted by it instead of sortKey's (rankKey).
 */
function pageQuery(db: Knex | Knex.Transaction, base: Qb, sort: QueueSort, dir: 'asc' | 'desc', limit: number, offset: number, how: { parts?: Qb[]; keyed?: Keyed; merged?: Qb[]; forceIndex?: string; key?: Knex.Raw } = {}): Qb {
  const { parts, keyed, merged, forceIndex, key } = how;
  const ids = merged
    ? mergeParts(db, merged, dir, limit, offset)
    : parts && parts.length > 1
      ? partsPageIds(db, parts, SORTS[sort], dir, limit, offset)
      : keyed && keyed.keys.length && keyed.keys.length <= MAX_KEYED_PARTS
        ? keyedPageIds(db, base, keyed, dir, limit, offset)
        : orderWithTies((forceIndex ? (base.clone().from(tableForcedIndex(db, 'tickets', 't', forceIndex)) as Qb) : base.clone()).clearSelect().select('t.id'), sort, key ?? sortKey(db, sort), dir)
          .limit(limit).offset(offset);
  return rowsQuery(db, db.from(ids.as('pg')).join('tickets as t', 't.id', 'pg.id'), sort, dir);
}

/** A sort read one value of a column at a time (see keyedPageIds), through `index` if given. */
interface Keyed { column: string; keys: SortKey[]; index?: string }

/**
 * At most this many values are read one at a time (one UNION ALL term each; SQLite allows 500 terms in
 * a compound SELECT); a desk with more agents gets the assignee order sorted from the queue's entries.
 */
export const MAX_KEYED_PARTS = 60;

/**
 * A page in the order of a column's values (a priority's urgency, a department's or agent's name),
 * read one value at a time: for each value the queue's tickets with it in id order (its index: state,
 * the column, id, then the other visibility columns and flags, so an agent's and a queue's conditions
 * are tested in the index), each cut after offset + limit, merged by the value's place then id.
 * Sorting the whole queue by urgency instead read every open ticket's index entry: 180 ms of MariaDB
 * per page at 1M tickets (200,000 open), whatever the page; by department or assignee name, with a name
 * lookup each, 0.36–0.92 s for the Closed queue.
 */
function keyedPageIds(db: Knex | Knex.Transaction, base: Qb, keyed: Keyed, dir: 'asc' | 'desc', limit: number, offset: number): Qb {
  const each = keyed.keys.map((key) => {
    const qb = (keyed.index ? (base.clone().from(tableForcedIndex(db, 'tickets', 't', keyed.index)) as Qb) : base.clone()).clearSelect();
    if (key.id === null) qb.whereNull(keyed.column);
    else qb.where(keyed.column, key.id);
    return qb.select('t.id', db.raw('? as ??', [key.k, 'k'])).orderBy('t.id', dir);
  });
  return mergeParts(db, each, dir, limit, offset);
}

/**
 * The page (`limit` rows from `offset`) of the union of ordered parts, each selecting (id, k) in
 * (k, id) order: each part is cut after offset + limit rows, then the rest is merged by k, then id.
 */
function mergeParts(db: Knex | Knex.Transaction, parts: Qb[], dir: 'asc' | 'desc', limit: number, offset: number): Qb {
  const each = parts.map((qb, i) => db.from(qb.limit(offset + limit).as(`p${i}`)).select('id', 'k'));
  return db.from(each[0].unionAll(each.slice(1)).as('parts')).select('parts.id').orderBy('parts.k', dir).orderBy('parts.id', dir).limit(limit).offset(offset);
}

/**
 * A page's ids from disjoint parts of the queue (one per department of the agent, assigned to them
 * elsewhere, their teams' elsewhere: see visibleParts), each read in the page's order from its own
 * index and cut after offset + limit rows, then merged. Walking the queue-wide index in order and
 * testing "my departments, or mine, or my teams'" on each entry read every newer ticket of every
 * other department first: 42,000 index entries for one page of a small department's agent when the
 * newest tickets were another department's (MariaDB, bench database: 12 ms, now 1.7; docs/benchmarks.md).
 */
function partsPageIds(db: Knex | Knex.Transaction, parts: Qb[], column: string, dir: 'asc' | 'desc', limit: number, offset: number): Qb {
  return mergeParts(db, parts.map((qb) => qb.clearSelect().select('t.id', db.raw('?? as ??', [column, 'k'])).orderBy(column, dir).orderBy('t.id', dir)), dir, limit, offset);
}

/**
 * The index that holds one department's tickets of a queue in id order: state, the department, the
 * queue's own columns as equalities, then the id (InnoDB ends every secondary index with the primary
 * key, SQLite with the rowid). Mine has none: its tickets are the agent's, in any department.
 */
const DEPARTMENT_INDEX: Partial<Record<QueueName, string>> = {
  open: 'tickets_queue_department', closed: 'tickets_queue_department',
  unassigned: 'tickets_dept_unassigned', answered: 'tickets_dept_answered', overdue: 'tickets_dept_overdue',
};

/**
 * A name order's key as each value's place (`ranks`, from the summary statement) instead of the name
 * looked up for each entry: an integer CASE on the ticket's own column (NULL, the unassigned, as 0).
 * A page sorted from the queue's entries then makes no lookup per entry (an admin's Answered queue by
 * assignee at 1M tickets, 180,000 entries: 150 → 86 ms of MariaDB in the id step).
 */
function rankKey(db: Knex | Knex.Transaction, by: 'department' | 'assignee', ranks: SortKey[]): Knex.Raw {
  const column = by === 'department' ? 't.department_id' : 't.assignee_agent_id';
  const last = Math.max(0, ...ranks.map((r) => r.k)) + 1;
  // sql-safe: the text is fixed words and one `when ? then ?` per value; every value is a binding.
  return db.raw(`(case coalesce(??, 0) ${'when ? then ? '.repeat(ranks.length)}else ? end)`, [column, ...ranks.flatMap((r) => [r.id ?? 0, r.k]), last]);
}

/** The queues an agent's page by assignee reads one (department, agent) range at a time (nameOrderParts). */
const ASSIGNEE_KEYED_QUEUES: ReadonlySet<QueueName> = new Set(['open', 'closed', 'unassigned']);

/**
 * A page in department or assignee order for an agent who sees parts of the queue (not an admin), as
 * parts that each select (id, k) in (k, id) order for mergeParts. Each of the agent's departments is
 * read as ranges in id order, each with its value's place (`ranks`) as k, cut after the page: by
 * department one range of the queue's DEPARTMENT_INDEX; by assignee one range of tickets_assignee_dept
 * (assignee, state, department, then the id) per agent and the unassigned (the Unassigned queue: its one
 * range of tickets_dept_unassigned). The tickets assigned to the agent or their teams in other
 * departments (their own workload, not the desk's) are read from their parts' indexes and sorted by
 * their value's place. Sorting the queue's entries instead read every open ticket's
 * (tickets_queue_scope_sort_flags: 55–176 ms at 1M tickets) or every closed one of the agent's
 * departments with a name lookup each (0.19–0.32 s). Undefined where the ranges would be too many for one
 * statement (MAX_KEYED_PARTS) or where tickets_assignee_dept would have rows read to test a flag (by
 * assignee: Answered and Overdue, which keyedPageIds reads along tickets_queue_assignee instead).
 */
function nameOrderParts(db: Knex | Knex.Transaction, actor: Actor, queue: QueueName, by: 'department' | 'assignee', ranks: SortKey[], dir: 'asc' | 'desc'): Qb[] | undefined {
  if (!ranks.length || ranks.length > MAX_KEYED_PARTS) return undefined;
  type Range = { index: string; where: Part; k: number };
  const place = new Map(ranks.map((r) => [r.id, r.k]));
  const last = Math.max(...ranks.map((r) => r.k)) + 1;
  const rangesOf = (dept: number): Range[] | undefined => {
    if (by === 'department') {
      const index = DEPARTMENT_INDEX[queue];
      return index ? [{ index, where: () => undefined, k: place.get(dept) ?? last }] : undefined;
    }
    if (!ASSIGNEE_KEYED_QUEUES.has(queue)) return undefined;
    if (queue === 'unassigned') return [{ index: 'tickets_dept_unassigned', where: () => undefined, k: place.get(null) ?? last }];
    return ranks.map((r) => ({ index: 'tickets_assignee_dept', where: (qb: Qb) => void (r.id === null ? qb.whereNull('t.assignee_agent_id') : qb.where('t.assignee_agent_id', r.id)), k: r.k }));
  };
  const parts = visibleParts(actor, queue, true);
  const own = parts.filter((x) => x.department !== undefined).map((x) => ({ part: x, ranges: rangesOf(x.department!) }));
  if (own.some((x) => !x.ranges) || own.reduce((n, x) => n + x.ranges!.length, 0) > MAX_KEYED_PARTS) return undefined;
  const k = rankKey(db, by, ranks);
  const terms: Qb[] = [];
  for (const { part, ranges } of own)
    for (const r of ranges!) terms.push(inQueue(db, db.from(tableForcedIndex(db, 'tickets', 't', r.index)) as Qb, queue, [part.where, r.where]).select('t.id', db.raw('? as ??', [r.k, 'k'])).orderBy('t.id', dir));
  for (const part of parts.filter((x) => x.department === undefined))
    terms.push(inQueue(db, pagePartTable(db, part.index), queue, [part.where]).select('t.id', db.raw('? as ??', [k, 'k'])).orderBy('k', dir).orderBy('t.id', dir));
  return terms;
}

/** The filters a queue's count does not apply (it applies the department filter: see countQuery). */
const FILTERS_BEYOND_DEPT = ['priority', 'sla', 'assignee', 'status', 'source', 'org', 'cf', 'q'] as const satisfies readonly (keyof QueueParams)[];

/** A search or any filter: the page is then the planner's, not read through a forced index or one value at a time. */
const narrowed = (p: QueueParams) => p.q !== undefined || !!p.dept || FILTERS_BEYOND_DEPT.some((k) => p[k] !== undefined);

/**
 * The index a page's ids are read through where the planner, left alone, picks a plan that does not
 * stay flat (measured at 1M tickets, 200,000 open; docs/benchmarks.md), for a queue without filters
 * or search, whose conditions the index holds:
 * - an admin's queue in SLA due order (not Overdue, which tickets_overdue serves in due order):
 *   tickets_queue_due, walked in order and stopped after the page. MariaDB takes it by itself at 1M but
 *   on smaller tables sorts tickets_overdue's entries of every open ticket (~60 ms a page at 1M; 7–21
 *   with the walk);
 * - any queue in subject or number order, for anyone: tickets_queue_subject (state, subject, id, then
 *   the visibility columns and flags) or tickets_queue_number (state, number, the same), walked in order
 *   and stopped after the page. The Closed queue's 800,000 entries at 1M were sorted for each page
 *   (0.36–0.62 s for an admin by subject), an agent's Mine queue by number 0.4 s from page 50; at worst
 *   (a queue with few of the state's tickets) the walk reads the state's entries once, as the sort did;
 * - any queue in requester order, for anyone: tickets_queue_requester (state, requester_name, id, the
 *   same), the requester's name being copied onto the ticket when it is opened. Ordered by a lookup of
 *   each ticket's user, every entry of the queue's state was sorted with one lookup each: an admin's
 *   Unassigned queue 5.4–5.6 s a page, Overdue 4.0–4.2, Closed 2.8–3.3, an agent's Closed 1.2–1.3;
 * - an agent who is not an admin, Open, Unassigned, Answered or Overdue queue by department or assignee
 *   where there are too many values to read one at a time (MAX_KEYED_PARTS; otherwise keyedByName):
 *   the queue's covering index tickets_queue_scope_sort_flags, every open ticket's entry tested
 *   (visibility and flags are in it) and sorted without reading a row (~80–115 ms at 1M). The planner
 *   merged the agent's department and assignment indexes and read each of their tickets' rows: 0.65–0.77 s
 *   for an agent's Unassigned and Overdue queues.
 */
const SCOPE_SORT_QUEUES: ReadonlySet<QueueName> = new Set(['open', 'unassigned', 'answered', 'overdue']);

function idsIndex(actor: Actor, p: QueueParams, sort: QueueSort): string | undefined {
  if (narrowed(p)) return undefined;
  if (sort === 'due' && isAdmin(actor) && p.queue !== 'overdue' && p.queue !== 'mine') return 'tickets_queue_due';
  if (sort === 'subject') return 'tickets_queue_subject';
  if (sort === 'number') return 'tickets_queue_number';
  if (sort === 'requester') return 'tickets_queue_requester';
  if ((sort === 'department' || sort === 'assignee') && !isAdmin(actor) && SCOPE_SORT_QUEUES.has(p.queue)) return 'tickets_queue_scope_sort_flags';
  return undefined;
}

/**
 * The name order (department, assignee) a page reads one value at a time, for any queue but Mine
 * without filters or search, for anyone. By department: an admin's one department at a time from the
 * queue's DEPARTMENT_INDEX (keyedPageIds); an agent's their departments' ranges (nameOrderParts). By
 * assignee: an agent's Open, Closed and Unassigned queues from their departments' ranges
 * (nameOrderParts); an admin's, and an agent's Answered and Overdue, one agent at a time along
 * tickets_queue_assignee (keyedPageIds), whose entries hold the department, team and flags, so the
 * agent's visibility and the queue's flag are tested in the index. Where few of an agent's tickets have
 * the flag their range is walked further: at worst every open ticket's entry once (29 ms at 1M tickets,
 * 200,000 open), where sorting read every entry of the queue with its name looked up (72–115 ms).
 * Mine is the agent's own workload: sorted (by rankKey).
 */
function keyedByName(p: QueueParams, sort: QueueSort): 'department' | 'assignee' | undefined {
  if (narrowed(p) || p.queue === 'mine') return undefined;
  if (sort === 'department') return DEPARTMENT_INDEX[p.queue] ? sort : undefined;
  if (sort === 'assignee') return sort;
  return undefined;
}

/**
 * The index an admin's queue filtered by source, or by a status of the closed state (the open state
 * has one status: scopeFilters writes no condition), is read from: that value's tickets of the state
 * in update order (tickets_source_queue, tickets_status_queue). Neither column is in a queue index,
 * so the queue's own index was walked testing each ticket's row, through the whole state when few
 * tickets had the value (a source like Chat: 9–36 s at 1M tickets). Not for an agent (their parts
 * start from their departments' and their own ranges, where the planner weighs the value's range
 * against them), a search (its own paths), Mine, or with other filters.
 */
function filterIndex(actor: Actor, p: QueueParams): string | undefined {
  if ((actor.kind === 'agent' && !isAdmin(actor)) || p.queue === 'mine' || p.q !== undefined) return undefined;
  // With a department, priority, SLA or assignee as well, the planner's choice: forced, a common
  // source's range was walked testing each row for the rest (1.2 s at 1M against 31 ms).
  if (p.dept || p.priority || p.sla || p.assignee || p.org || p.cf) return undefined;
  if (p.source) return 'tickets_source_queue';
  if (p.status && stateOfQueue(p.queue) === 'closed' && stateOf(p.status) === 'closed') return 'tickets_status_queue';
  return undefined;
}

/** One page of a queue with its filters, sort, counts of all queues, and the filter choices. @throws Forbidden */
export async function listQueue(ctx: ServiceContext, raw: Record<string, unknown>): Promise<QueuePage> {
  assertStaff(ctx.actor);
  const db = ctx.db;
  const settings = await getSettings(db);
  const { p, fields } = await queueParamsOf(db, settings, raw);
  const [sort, dir] = sortOf(p);
  const base = baseQuery(db, ctx.actor, p);
  const pageSize = settings.page_size;
  // The total is counted only as far as needed: the cap, or past the requested page (to know there is a next one).
  const wordSearch = p.q !== undefined && !isEmailSearch(p);
  // Where a word search's total starts (one statement: the terms' tickets counted): a term's range of
  // the word index, each ticket of it looked up (of several terms the rarest: "problem 123456" read
  // from "problem" looked up every ticket), or, when every term is common, a walk of the queue's
  // covering index testing search_text (searchTotal): "printer vpn" (each in 1 subject in 10, both
  // in 1 in 100) read from "printer" looked up 60,000 tickets for a one-department agent's Open queue
  // (1.4 s at 1M), where the walk finds its 201 in 20,000 index entries (its 51 in 5,000: WALK_COUNT_CAP).
  const driver = wordSearch ? await searchDriver(db, searchTerms(p.q!)) : undefined;
  const totalCap = Math.max(driver === 'walk' ? WALK_COUNT_CAP : wordSearch ? SEARCH_COUNT_CAP : COUNT_CAP, p.page * pageSize);
  // A queue without filters (but the department the counts share) up to the counts' own cap is
  // totalled by its count: counting it again read up to COUNT_CAP + 1 index entries more per page.
  // A word search counts the tickets it finds from the word index (wordSearchFound); other totals as
  // disjoint parts, each from its own index.
  const totalIsCount = totalCap === COUNT_CAP && !FILTERS_BEYOND_DEPT.some((k) => p[k] !== undefined);
  // Walked in the page's order (by update or due date), the total finds the first pages' tickets first.
  const walkInPageOrder = driver === 'walk' && ORDERED_SORTS.has(sort);
  // Filtered by source, or by a status of the closed state, an admin's queue (one part: the whole
  // state) is read from that value's range of its own index, in update order (filterIndex).
  const byValue = filterIndex(ctx.actor, p);
  const valueRange = () => [inQueue(db, db.from(tableForcedIndex(db, 'tickets', 't', byValue!)) as Qb, p.queue, [(qb) => scopeFilters(db, qb, p)])];
  const totalParts = () => (wordSearch ? [driver === 'walk' ? searchTotal(db, base, walkInPageOrder ? { sort, dir } : undefined) : wordSearchFound(db, ctx.actor, p, totalCap, driver)]
    : byValue ? valueRange()
    : setOf(p) ? setParts(db, ctx.actor, p)
    : queueParts(db, ctx.actor, p.queue, (qb) => scopeFilters(db, qb, p), fromSubset(p)));
  const rankBy = keyedByName(p, sort);
  // Every value's place for a page in name order, read one value at a time (rankBy) or sorted by it (rankKey).
  const ranked = sort === 'department' || sort === 'assignee' ? sort : undefined;
  // An organization's or field answer's set too large to read whole (SET_READ_CAP, counted with the
  // summary) is walked: the page walks the queue (fromSubset), the total too but only so far, as for
  // a common word (WALK_COUNT_CAP, or past the page asked for). Not with a search: it narrows itself.
  const walkable = setOf(p) !== undefined && p.q === undefined;
  const walkCap = Math.max(WALK_COUNT_CAP, p.page * pageSize);
  const walkTotal = walkable ? { parts: queueParts(db, ctx.actor, p.queue, (qb) => scopeFilters(db, qb, p, true)), cap: walkCap } : undefined;
  const summary = await queueSummary(db, ctx.actor, p.dept, totalIsCount ? undefined : { parts: totalParts(), cap: totalCap, ids: wordSearch && totalCap <= MAX_FOUND_IDS, walk: walkTotal }, ranked, p);
  const { counts } = summary;
  const walk = walkable && summary.setSize >= SET_READ_CAP;
  const cap = walk ? walkCap : totalCap;
  const active = activeFilters(p, { ...summary.options, ...summary.named, fields });
  const options = { ...summary.options, fields: fieldChoices(fields, p.cf), chosenOrganization: active.find((f) => f.key === 'org')?.value ?? null };
  const total = totalIsCount ? counts[p.queue] : summary.total;
  const totalCapped = total > cap;
  const pages = Math.max(1, Math.ceil(total / pageSize)); // total ≤ cap + 1: one row past the cap still opens a next page
  const page = Math.min(p.page, pages);
  // An agent who sees parts of the queue (not an admin) gets a page in update or due order part by
  // part, unless searching: a search by email starts from the requester's tickets; one by words is
  // paged among the ids its total found, or, for a common word, walks the queue testing each ticket.
  // Other orders sort the whole queue anyway (see pageQuery).
  const pageParts = byValue && sort === 'updated' ? valueRange() : p.q === undefined && !fromSubset(p, walk) && ORDERED_SORTS.has(sort) ? queueParts(db, ctx.actor, p.queue, (qb) => scopeFilters(db, qb, p, walk), false, true) : undefined;
  // In priority order the page is read priority by priority (keyedPageIds), unless searching: a
  // search's own index (the requester's tickets; the word index) finds few
  // tickets, which are then sorted, where walking each priority's tickets would read rows to test them.
  // By department or assignee (keyedByName) likewise: an admin's one value at a time; an agent's their
  // departments' ranges, the rest of their tickets sorted (nameOrderParts).
  const merged = rankBy && !isAdmin(ctx.actor) ? nameOrderParts(db, ctx.actor, p.queue, rankBy, summary.ranks, dir) : undefined;
  const keyed: Keyed | undefined = p.q !== undefined || fromSubset(p, walk) ? undefined
    : sort === 'priority' ? { column: 't.priority_id', keys: summary.urgencies.map((u) => ({ id: u.id, k: u.urgency })) }
    : rankBy === 'department' ? { column: 't.department_id', keys: summary.ranks, index: DEPARTMENT_INDEX[p.queue] }
    // (Every unassigned ticket has the one value "none": its range alone, in id order.)
    : rankBy === 'assignee' ? { column: 't.assignee_agent_id', keys: p.queue === 'unassigned' ? summary.ranks.filter((r) => r.id === null) : summary.ranks, index: 'tickets_queue_assignee' }
    : undefined;
  const key = ranked ? rankKey(db, ranked, summary.ranks) : undefined;
  // A word search with no more matches than its total's cap: the total found them all (from the word
  // index), so the page is chosen among those ids (read by primary key) instead of walking the queue's
  // entries, and a search that found none needs no page statement. Past the cap, a search whose total
  // walked in the page's order found the first cap + 1 tickets of that order: a page among them is
  // read the same way. Otherwise the page walks the queue in its order, testing each ticket
  // (wordMatch), and finds its page early. (Only if the list holds all that was found: MySQL cuts
  // GROUP_CONCAT at group_concat_max_len, 1,024 bytes by default.)
  const found = summary.found && summary.found.length === Math.min(summary.total, totalCap + 1) ? summary.found : undefined;
  const fromFound = found && (summary.total <= totalCap || (walkInPageOrder && page * pageSize <= found.length)) ? found : undefined;
  const rows = fromFound?.length === 0 ? []
    : fromFound
    ? await pageQuery(db, (base.clone().from(tableByPrimaryKey(db, 'tickets', 't')) as Qb).whereIn('t.id', fromFound), sort, dir, pageSize, (page - 1) * pageSize, { key })
    : await pageQuery(db, walk ? baseQuery(db, ctx.actor, p, true) : base, sort, dir, pageSize, (page - 1) * pageSize, { parts: pageParts, keyed, merged, forceIndex: idsIndex(ctx.actor, p, sort), key });
  return { params: p, sort, dir, counts, total, totalCapped, totalText: countText(total, cap), page, pages, pagesText: pagesText(pages, totalCapped), pageSize, options, views: summary.views, sharedViews: summary.sharedViews, active, canDelete: await mayAnywhere(ctx.db, ctx.actor, 'ticket.delete', settings), rows: rows.map((r: any) => toQueueRow(r, settings.timezone)) };
}

/**
 * The queue's parameters (bad ones dropped), a custom-field filter only when it names a field that may
 * filter (checkedFieldFilter), and the fields (kept per process: no statement but on a change).
 */
async function queueParamsOf(db: Knex | Knex.Transaction, settings: Settings, raw: Record<string, unknown>): Promise<{ p: QueueParams; fields: TicketField[] }> {
  const p = QueueParams.parse(raw);
  const fields = await ticketFieldDefs(db, settings);
  return { p: { ...p, cf: checkedFieldFilter(fields, p.cf) }, fields };
}

/**
 * A word search's total answers the ids it found only up to this cap (a page up to 1,000 ÷ page size
 * deep): the page then names them in one IN list, which must stay short (SQLite allows 32,766 bound
 * values in a statement). A deeper page walks the queue's entries, testing each ticket.
 */
const MAX_FOUND_IDS = 1000;

/** At most this many rows in one export. */
export const CSV_MAX_ROWS = 10_000;

/** A cell safe for spreadsheets: quoted, and formulas (=, +, -, @, tab) defused with a leading apostrophe. */
function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** The queue with the same filters and order as CSV (UTC ISO dates), at most CSV_MAX_ROWS rows. @throws Forbidden */
export async function exportQueueCsv(ctx: ServiceContext, raw: Record<string, unknown>): Promise<string> {
  assertStaff(ctx.actor);
  const { p } = await queueParamsOf(ctx.db, await getSettings(ctx.db), raw);
  const [sort, dir] = sortOf(p);
  // An organization's or field answer's set too large to read whole is walked, as for a page (listQueue).
  const size = setOf(p) && p.q === undefined ? await setSize(ctx.db, p)!.first() : undefined;
  const walk = dbCount(size?.n) >= SET_READ_CAP;
  // Ids first, as for a page (see pageQuery): the names are joined to the exported rows only.
  const rows = await pageQuery(ctx.db, baseQuery(ctx.db, ctx.actor, p, walk), sort, dir, CSV_MAX_ROWS, 0);
  const head = ['Number', 'Subject', 'Status', 'Requester', 'Requester email', 'Priority', 'Department', 'Assignee', 'Team', 'Due', 'Overdue', 'Last update'];
  const lines = rows.map((r: any) => {
    const q = toQueueRow(r, 'UTC');
    return [q.number, q.subject, q.status, q.requesterName, q.requesterEmail, q.priority, q.department, q.assignee, q.team, q.dueAt?.toISOString(), q.isOverdue ? 'yes' : 'no', q.updatedAt.toISOString()].map(csvCell).join(',');
  });
  return [head.map(csvCell).join(','), ...lines].join('\r\n') + '\r\n';
}

function toQueueRow(r: any, tz: string): QueueRow {
  const dueAt = dbDate(r.due_at);
  const updatedAt = dbDate(r.updated_at)!;
  return {
    // A resolved or closed ticket is due no more: no due date in the list (the CSV keeps dueAt). One
    // waiting on the requester without a due date has its SLA clock stopped.
    dueText: stateOf(r.status as TicketStatus) === 'closed' ? '' : r.status === 'pending' && !dueAt ? 'Paused' : formatDate(dueAt, tz), updatedText: formatDate(updatedAt, tz),
    id: r.id, number: r.number, subject: r.subject, status: r.status, statusLabel: STATUS_LABELS[r.status as TicketStatus] ?? r.status, requesterName: r.requester_name, requesterEmail: r.requester_email,
    priority: r.priority, priorityId: Number(r.priority_id), priorityColor: r.priority_color, department: r.department, assignee: r.assignee ?? null, team: r.team ?? null,
    dueAt, updatedAt, isOverdue: dbBool(r.is_overdue), isAnswered: dbBool(r.is_answered),
    entryCount: Number(r.entry_count ?? 0), ccCount: Number(r.cc_count ?? 0), fileCount: Number(r.file_count ?? 0), openTasks: Number(r.open_tasks ?? 0),
  };
}
