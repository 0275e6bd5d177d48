/**
 * Tasks (osTicket's ticket tasks): a ticket's internal to-dos, each with an optional agent (of the
 * ticket's department, or an admin) and due date, done or open. Agents add them and tick them off on
 * the ticket page; the history records each. A ticket with open tasks cannot be resolved or closed
 * by an agent (statusChange asks openTaskCount: "finish or remove its tasks first"), nor by its
 * requester on the portal, whose close becomes a request (askToCloseWithOpenTasks); the requester
 * never sees tasks. An open task can be removed; a done one stays as a record.
 */
import { z } from 'zod';
import { DateTime } from 'luxon';
import type { Knex } from 'knex';
import { dbBool, dbDate, sqlJsonArrayAgg, jsonRows, toDbDate } from '../../db/dialect.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { id, optionalId, parseInput, requiredText } from '../validation.ts';
import { loadForAction, saveTicket, statusChange, TicketRef } from './ticket-agent-common.ts';
import type { TicketActionResult } from './ticket-agent-service.ts';
import { recordTicketEvent, recordTicketEvents } from './ticket-events.ts';
import { notifyTicket } from '../mail/ticket-notifications.ts';
import { formatDate } from './ticket-presenters.ts';

type Db = Knex | Knex.Transaction;

/** A ticket has at most this many tasks. */
export const MAX_TASKS = 50;

export interface TicketTask {
  id: number;
  title: string;
  assigneeId: number | null;
  assigneeName: string | null;
  dueAt: Date | null;
  isDone: boolean;
}

/** The ticket's tasks as one JSON column `tasks` of the caller's read (ticketId: a column of it), so the ticket page costs no statement for them. */
export function tasksColumn(db: Db, ticketId: Knex.Ref<string, any>): Knex.Raw {
  const q = db('ticket_tasks as tk').leftJoin('agents as ta', 'ta.id', 'tk.assignee_agent_id').where('tk.ticket_id', ticketId)
    .select(sqlJsonArrayAgg(db, ['tk.id', 'tk.title', 'tk.assignee_agent_id', 'ta.name', 'tk.due_at', 'tk.is_done']));
  return db.raw('(?) as tasks', [q]);
}

/** Reads tasksColumn: open ones first (by due date, undated last), then done ones, each by id. */
export function tasksFrom(column: unknown): TicketTask[] {
  const tasks = jsonRows(column).map((r) => ({
    id: Number(r[0]), title: String(r[1]), assigneeId: r[2] === null ? null : Number(r[2]), assigneeName: r[3] === null ? null : String(r[3]),
    dueAt: dbDate(r[4]), isDone: dbBool(r[5]),
  }));
  const key = (t: TicketTask) => [t.isDone ? 1 : 0, t.dueAt ? t.dueAt.getTime() : Number.MAX_SAFE_INTEGER, t.id];
  return tasks.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

/** Open tasks of a ticket (the guard of resolving and closing). */
export async function openTaskCount(db: Db, ticketId: number): Promise<number> {
  const r = await db('ticket_tasks').where({ ticket_id: ticketId, is_done: false }).count({ n: '*' }).first();
  return Number(r?.n ?? 0);
}

/**
 * The requester asks to close a ticket that still has open tasks (closeTicketByUser, in its transaction).
 *
 * DECISION: the ticket stays open, and the request is kept, not refused. Tasks hold a ticket open
 * whoever asks — osTicket's isCloseable() refuses a close with open tasks to everyone, and agents are
 * refused here too (statusChange) — so one rule for all. But an error page would throw away what the
 * requester told us ("my problem is solved") and hint at internal work they never see. So, as a mature
 * help desk would: the request is an internal event agents see in the history ("Requester asked to
 * close; 2 tasks open", `close_requested`, also a webhook event), the ticket leaves the Answered queue
 * (is_answered false) and stops waiting on the requester (they answered: SLA clock runs again), and
 * the requester is thanked and told the team closes it once its follow-up is done (the route's flash).
 * Asking again with nothing new since records nothing more. It is not closed by itself when the last
 * task is done: an agent closes it, as any ticket (they may want to reply first).
 */
export async function askToCloseWithOpenTasks(ctx: ServiceContext, trx: Knex.Transaction, t: any, openTasks: number, now: Date): Promise<void> {
  const last = await trx('ticket_events').where({ ticket_id: t.id }).orderBy('id', 'desc').first('event');
  if (last?.event === 'close_requested') return;
  const change = t.status === 'pending' ? await statusChange(trx, t, 'open', now) : null;
  await saveTicket(trx, t, { ...change?.patch, is_answered: false }, now);
  // The request last: "nothing new since" above is "the latest event is the request".
  const events: Parameters<typeof recordTicketEvents>[3] = change ? [[change.event, { ...change.data, by: 'close_request', userId: t.user_id }]] : [];
  events.push(['close_requested', { openTasks, userId: t.user_id }]);
  await recordTicketEvents(ctx, trx, t.id, events);
}

export const AddTaskInput = z.object({
  ...TicketRef,
  title: requiredText(255, 'Task'),
  taskAssigneeId: optionalId,
  /** 'YYYY-MM-DDTHH:MM' in the help desk's time zone; empty = no due date. */
  taskDueAt: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string({ error: 'Enter a date and time' }).max(40).optional()),
});
export type AddTaskInput = z.input<typeof AddTaskInput>;

/**
 * Adds a task; its agent must work in the ticket's department (or be an admin), and is mailed about
 * it when someone else gave it (setting alert_assigned). Event `task_added`.
 * @throws ValidationFailed (title, taskAssigneeId, taskDueAt), NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function addTask(ctx: ServiceContext, raw: AddTaskInput): Promise<TicketActionResult> {
  const input = parseInput(AddTaskInput, raw);
  let due: Date | null = null;
  if (input.taskDueAt) {
    const { timezone } = await getSettings(ctx.db);
    const dt = DateTime.fromISO(input.taskDueAt, { zone: timezone });
    if (!dt.isValid) throw new ValidationFailed({ taskDueAt: 'Enter a valid date and time' });
    due = dt.toJSDate();
  }
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock();
    const t = await loadForAction(ctx, trx, input, 'task.manage');
    let assigneeName: string | null = null;
    if (input.taskAssigneeId) {
      const a = await trx('agents as a').where({ 'a.id': input.taskAssigneeId, 'a.is_active': true })
        .andWhere((w) => w.where('a.role', 'admin').orWhere('a.department_id', t.department_id).orWhereExists(trx('departments_agents as da').whereRaw('?? = ??', ['da.agent_id', 'a.id']).where('da.department_id', t.department_id).select('da.agent_id')))
        .first('a.id', 'a.name');
      if (!a) throw new ValidationFailed({ taskAssigneeId: 'Choose an agent of the ticket’s department' });
      assigneeName = a.name;
    }
    const count = await trx('ticket_tasks').where({ ticket_id: t.id }).count({ n: '*' }).first();
    if (Number(count?.n ?? 0) >= MAX_TASKS) throw new ValidationFailed({ title: `A ticket can have at most ${MAX_TASKS} tasks` });
    const [taskId] = await trx('ticket_tasks').insert({
      ticket_id: t.id, title: input.title, assignee_agent_id: input.taskAssigneeId ?? null, due_at: toDbDate(due), is_done: false, done_at: null,
      created_by_agent_id: ctx.actor.kind === 'agent' ? ctx.actor.id : null, created_at: toDbDate(now), updated_at: toDbDate(now),
    });
    await saveTicket(trx, t, {}, now);
    const tctx = withDb(ctx, trx);
    await recordTicketEvent(tctx, trx, t.id, 'task_added', { taskId, title: input.title, assignee: assigneeName, dueAt: due?.toISOString() ?? null });
    // The agent it is for hears of it (unless they gave it to themselves; setting alert_assigned).
    if (input.taskAssigneeId && !(ctx.actor.kind === 'agent' && ctx.actor.id === input.taskAssigneeId)) {
      await notifyTicket(tctx, trx, { kind: 'task_assigned', ticketId: t.id, agentId: input.taskAssigneeId, title: input.title, due: due ? formatDate(due, (await getSettings(trx)).timezone) : '' });
    }
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const TaskActionInput = z.object({ ...TicketRef, taskId: id, to: z.enum(['done', 'open', 'removed'], { error: 'Choose done, open or remove' }) });
export type TaskActionInput = z.input<typeof TaskActionInput>;

/**
 * Ticks a task off, opens it again, or removes an open one. A task already in that state (another
 * tab) changes nothing. Events `task_done`, `task_reopened`, `task_removed`.
 * @throws ValidationFailed (a done task cannot be removed), NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function setTask(ctx: ServiceContext, raw: TaskActionInput): Promise<TicketActionResult> {
  const input = parseInput(TaskActionInput, raw);
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock();
    const t = await loadForAction(ctx, trx, input, 'task.manage');
    const task = await trx('ticket_tasks').where({ id: input.taskId, ticket_id: t.id }).first('id', 'title', 'is_done');
    const unchanged = { ticketId: t.id, version: Number(t.version), changed: false };
    if (!task) return unchanged;
    const done = dbBool(task.is_done);
    if (input.to === 'removed') {
      if (done) throw new ValidationFailed({ taskId: 'A done task stays as a record; it cannot be removed' });
      await trx('ticket_tasks').where({ id: task.id }).del();
    } else {
      if ((input.to === 'done') === done) return unchanged;
      await trx('ticket_tasks').where({ id: task.id }).update({ is_done: input.to === 'done', done_at: input.to === 'done' ? toDbDate(now) : null, updated_at: toDbDate(now) });
    }
    await saveTicket(trx, t, {}, now);
    const event = input.to === 'done' ? 'task_done' : input.to === 'open' ? 'task_reopened' : 'task_removed';
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, event, { taskId: task.id, title: task.title });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}
