/**
 * The agent's landing page: four counts, each matching the queue it links to (bounded as the queues'
 * are), and the agent's most urgent tickets. Two statements besides the session: the counts (one
 * statement, each on an index of `tickets`) and the urgent list (from tickets_assignee_urgent).
 */
import type { Knex } from 'knex';
import { dbBool, dbCount, dbDate, fromOneRow, jsonRows, sqlJsonArrayAgg, tableForcedIndex, toDbDate } from '../../db/dialect.ts';
import { isAgent, type AgentActor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { Forbidden } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { formatDate } from '../tickets/ticket-presenters.ts';
import { safeZone } from './report-period.ts';
import { COUNT_CAP, countText } from '../bounded-count.ts';
import { boundedCount } from '../tickets/ticket-queue-queries.ts';
import { whereAgentMaySee } from '../tickets/ticket-policy.ts';

/** "Due soon" looks this many hours ahead. */
export const DUE_SOON_HOURS = 4;
/** How many urgent tickets the dashboard lists. */
export const URGENT_LIMIT = 5;

export interface DashboardCard {
  id: 'mine' | 'my-overdue' | 'due-soon' | 'unassigned';
  label: string;
  /** Bounded: above COUNT_CAP it means "COUNT_CAP+" (countText). */
  count: number;
  countText: string;
  href: string;
}

export interface UrgentTicket {
  id: number;
  number: string;
  subject: string;
  priority: string;
  priorityId: number;
  department: string;
  isOverdue: boolean;
  dueText: string;
}

/** An open task the agent is to do (ticket-tasks.ts). */
export interface MyTask {
  id: number;
  title: string;
  ticketId: number;
  number: string;
  subject: string;
  dueText: string;
  isLate: boolean;
}

export interface Dashboard {
  cards: DashboardCard[];
  urgent: UrgentTicket[];
  /** The agent's open tasks, soonest due first (undated last), at most MY_TASKS_LIMIT. */
  tasks: MyTask[];
  dueSoonHours: number;
}

/** Open tasks shown on the dashboard. */
export const MY_TASKS_LIMIT = 10;

/**
 * The agent's open tasks (soonest due first, at most MY_TASKS_LIMIT) as one JSON column of the counts'
 * statement, so the dashboard costs no statement more for them.
 */
function myTasksColumn(db: Knex | Knex.Transaction, a: AgentActor): Knex.Raw {
  const page = db('ticket_tasks as tk').join('tickets as tt', 'tt.id', 'tk.ticket_id').where('tk.assignee_agent_id', a.id).where('tk.is_done', false);
  // Only on tickets the agent may see (one transferred away since shows nothing of itself).
  whereAgentMaySee(page, a, 'tt');
  page.orderByRaw('CASE WHEN ?? IS NULL THEN 1 ELSE 0 END', ['tk.due_at']).orderBy('tk.due_at').orderBy('tk.id').limit(MY_TASKS_LIMIT)
    .select('tk.id', 'tk.title', 'tk.due_at', 'tt.id as ticket_id', 'tt.number', 'tt.subject');
  return db.raw('(?)', [db.from(page.as('mt')).select(sqlJsonArrayAgg(db, ['mt.id', 'mt.title', 'mt.due_at', 'mt.ticket_id', 'mt.number', 'mt.subject']))]);
}

type Qb = Knex.QueryBuilder;

/** Open tickets the agent may see (the queue rule: departments, assigned to them, their teams; admins all). */
function visibleOpen(db: Knex | Knex.Transaction, a: AgentActor): Qb {
  return whereAgentMaySee(db('tickets as t').where('t.state', 'open'), a);
}

/** The agent's own open tickets: assigned to them or to one of their teams (the "mine" queue). */
function mine(db: Knex | Knex.Transaction, a: AgentActor): Qb {
  return mineIn(db('tickets as t'), a);
}

/** `mine`'s conditions on a query of `tickets as t`. */
function mineIn(qb: Qb, a: AgentActor): Qb {
  return qb.where('t.state', 'open').where((w) => {
    w.where('t.assignee_agent_id', a.id);
    if (a.teamIds.length) w.orWhereIn('t.team_id', a.teamIds);
  });
}

/** The dashboard for the signed-in agent. @throws Forbidden for anyone but an agent */
export async function getAgentDashboard(ctx: ServiceContext): Promise<Dashboard> {
  const a = ctx.actor;
  if (!isAgent(a)) throw new Forbidden('Only agents have a dashboard.', 'DASHBOARD_AGENTS_ONLY');
  const db = ctx.db;
  const now = ctx.clock();
  const soon = new Date(now.getTime() + DUE_SOON_HOURS * 3600_000);
  const tz = safeZone((await getSettings(db)).timezone);
  // The four counts in one statement, each stopping after COUNT_CAP + 1 tickets as the queue it links
  // to does ("1,000+"): counted exactly, the bench's admin's 80,000 unassigned took 39 ms at 1M.
  const bounded = (qb: Qb) => boundedCount(db, [qb], COUNT_CAP);
  const [counts, urgent] = await Promise.all([
    fromOneRow(db).first({
      mine: bounded(mine(db, a)),
      overdue: bounded(db('tickets as t').where('t.state', 'open').where('t.is_overdue', true).where('t.assignee_agent_id', a.id)),
      soon: bounded(visibleOpen(db, a).where('t.is_overdue', false).where('t.due_at', '>', toDbDate(now)).where('t.due_at', '<=', toDbDate(soon))),
      unassigned: bounded(visibleOpen(db, a).whereNull('t.assignee_agent_id').whereNull('t.team_id')),
      tasks: myTasksColumn(db, a),
    }) as Promise<Record<'mine' | 'overdue' | 'soon' | 'unassigned' | 'tasks', unknown>>,
    urgentTickets(db, a, tz),
  ]);
  const [mineN, overdueN, soonN, unassignedN] = [counts.mine, counts.overdue, counts.soon, counts.unassigned].map(dbCount);
  const tasks = jsonRows(counts.tasks).map((r): MyTask & { due: number } => {
    const due = dbDate(r[2]);
    return { id: Number(r[0]), title: String(r[1]), ticketId: Number(r[3]), number: String(r[4]), subject: String(r[5]), dueText: formatDate(due, tz), isLate: !!due && due.getTime() < now.getTime(), due: due ? due.getTime() : Number.MAX_SAFE_INTEGER };
  }).sort((x, y) => x.due - y.due || x.id - y.id).map(({ due: _due, ...t }) => t);
  return {
    dueSoonHours: DUE_SOON_HOURS,
    urgent,
    tasks,
    cards: [
      { id: 'mine', label: 'My open tickets', count: mineN, countText: countText(mineN), href: '/scp/tickets?queue=mine' },
      { id: 'my-overdue', label: 'My overdue tickets', count: overdueN, countText: countText(overdueN), href: `/scp/tickets?queue=overdue&assignee=${a.id}` },
      { id: 'due-soon', label: `Due in the next ${DUE_SOON_HOURS} hours`, count: soonN, countText: countText(soonN), href: '/scp/tickets?queue=open&sort=due&dir=asc' },
      { id: 'unassigned', label: 'Unassigned in my departments', count: unassignedN, countText: countText(unassignedN), href: '/scp/tickets?queue=unassigned' },
    ],
  };
}

/**
 * The agent's open tickets, most urgent first: overdue, then soonest due (none last), then priority.
 * The order is chosen among the agent's open tickets' ids alone (from tickets_assignee_urgent, which
 * holds the overdue flag, the due date and the priority: no row is read for it), and only the page's
 * tickets are joined to their names. An agent with teams also sees the teams' tickets: the planner
 * then chooses among the indexes.
 */
async function urgentTickets(db: Knex | Knex.Transaction, a: AgentActor, tz: string): Promise<UrgentTicket[]> {
  const from = a.teamIds.length ? db('tickets as t') : db.from(tableForcedIndex(db, 'tickets', 't', 'tickets_assignee_urgent'));
  const urgentFirst = (qb: Qb, t: string, urgency: Knex.Raw) => qb
    .orderBy(`${t}.is_overdue`, 'desc')
    .orderByRaw('CASE WHEN ?? IS NULL THEN 1 ELSE 0 END', [`${t}.due_at`])
    .orderBy(`${t}.due_at`, 'asc')
    .orderBy(urgency, 'asc')
    .orderBy(`${t}.id`, 'asc');
  // The priority's urgency (the last tie-break) looked up for each entry from the priorities' few
  // rows: joined instead, MariaDB started from the priorities and read the agent's entries once for
  // each (4 × 6,673 for the bench admin at 1M: 5–13 ms; 2–3 ms this way).
  const urgencyOf = db.raw('(select ?? from ?? where ?? = ??)', ['pu.urgency', 'priorities as pu', 'pu.id', 't.priority_id']);
  const ids = urgentFirst(mineIn(from, a).select('t.id', 't.is_overdue', 't.due_at'), 't', urgencyOf).limit(URGENT_LIMIT);
  const rows = await urgentFirst(
    db.from(ids.as('u'))
      .join('tickets as t', 't.id', 'u.id')
      .join('priorities as p', 'p.id', 't.priority_id')
      .join('departments as d', 'd.id', 't.department_id')
      .select('t.id', 't.number', 't.subject', 't.is_overdue', 't.due_at', 't.priority_id', 'p.name as priority', 'd.name as department'),
    'u', db.raw('??', ['p.urgency']),
  );
  return rows.map((r: any) => ({
    id: Number(r.id), number: String(r.number), subject: String(r.subject), priority: String(r.priority), priorityId: Number(r.priority_id), department: String(r.department),
    isOverdue: dbBool(r.is_overdue), dueText: formatDate(dbDate(r.due_at), tz),
  }));
}
