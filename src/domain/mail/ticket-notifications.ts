/**
 * Who is told what when a ticket changes. Each notice becomes outbox rows in the caller's
 * transaction, subject to the settings that turn each auto-response and alert on or off.
 */
import type { Knex } from 'knex';
import { jsonObject, jsonRows, sqlJsonArrayAgg, sqlJsonObjectAgg } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { createAccessTokens } from '../auth/access-tokens.ts';
import { collaboratorsColumn, collaboratorsFrom } from '../tickets/ticket-collaborator-list.ts';
import { queueMails, type AutoSubmitted, type MailToQueue } from './outbox-service.ts';

/** Someone an alert goes to. */
export type Recipient = { id: number; email: string; name: string };

/**
 * A ticket just opened, as its opener knows it (the columns its mail uses), so the mail about it
 * needs no re-read. Its thread is its first entry: nothing else to thread the auto-response to.
 */
export interface OpenedTicketFacts {
  id: number;
  number: string;
  subject: string;
  departmentId: number;
  /** `agents`: the department's alert recipients when read with the department (departmentAgentsColumn). */
  department: { name: string; emailAddress: string | null; emailName: string | null; agents?: Recipient[] };
  user: { id: number; email: string; name: string };
  entry: { id: number; body: string; posterName: string; messageId: string | null };
}

export type TicketNotice =
  | { kind: 'ticket_created'; ticket: OpenedTicketFacts; notifyUser: boolean; alertAgents: boolean }
  /** `copiedTo`: addresses the message (a mail) went to already: they get no copy. */
  | { kind: 'user_message'; ticketId: number; entryId: number; copiedTo?: string[] }
  /** `ccs`: the CCs get it too (false: the agent emailed the requester only). */
  | { kind: 'agent_response'; ticketId: number; entryId: number; ccs: boolean }
  /** `waitedDays`: closed by the system after waiting that long on the requester (ticket-waiting.ts). */
  | { kind: 'ticket_closed'; ticketId: number; status: 'resolved' | 'closed'; waitedDays?: number }
  | { kind: 'ticket_assigned'; ticketId: number; agentId?: number | null; teamId?: number | null; comment?: string | null }
  | { kind: 'ticket_transferred'; ticketId: number; departmentId: number; comment?: string | null }
  | { kind: 'ticket_overdue'; ticketId: number }
  /** A task given to an agent by someone else (ticket-tasks.ts); `due`: as the help desk's zone shows it. */
  | { kind: 'task_assigned'; ticketId: number; agentId: number; title: string; due: string };

/** Access links in mail to users stay valid for 30 days. */
const USER_LINK_TTL_MINUTES = 30 * 24 * 60;

type Db = Knex | Knex.Transaction;

/**
 * The ticket with the names mail needs, its CCs, the Message-IDs to thread mail to the user with and,
 * for a notice about a thread entry, that entry: one statement.
 */
async function loadTicket(db: Db, ticketId: number, entryId?: number) {
  const q = db('tickets as t')
    .join('users as u', 'u.id', 't.user_id')
    .join('departments as d', 'd.id', 't.department_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_agent_id')
    .where('t.id', ticketId);
  const cols = ['t.*', 'u.email as user_email', 'u.name as user_name', 'd.name as department_name', 'd.manager_agent_id', 'd.email_address as dept_email', 'd.email_name as dept_email_name', 'a.email as assignee_email', 'a.name as assignee_name'];
  const ccs = collaboratorsColumn(db, db.ref('t.id'));
  if (entryId === undefined) return q.first(...cols, ccs, threadIdsColumn(db, ticketId));
  return q.leftJoin('thread_entries as e', (j) => j.on('e.id', '=', db.raw('?', [entryId])))
    .first(...cols, 'e.id as entry_id', 'e.body as entry_body', 'e.poster_name as entry_poster_name', 'e.user_id as entry_user_id', ccs, threadIdsColumn(db, ticketId));
}

/** A new ticket's facts in the shape loadTicket reads (the columns the 'ticket_created' mail uses). */
function openedTicketRow(o: OpenedTicketFacts) {
  return {
    id: o.id, number: o.number, subject: o.subject, status: 'open', department_id: o.departmentId, department_name: o.department.name,
    dept_email: o.department.emailAddress, dept_email_name: o.department.emailName, user_id: o.user.id, user_email: o.user.email, user_name: o.user.name,
    entry_id: o.entry.id, entry_body: o.entry.body, entry_poster_name: o.entry.posterName,
  };
}

/** The thread entry a notice is about, as read by loadTicket. */
function entry(t: any): { body: string; poster_name: string | null } | undefined {
  return t.entry_id ? { body: t.entry_body, poster_name: t.entry_poster_name } : undefined;
}

/**
 * Message-IDs of mail already exchanged about this ticket, as a column of loadTicket: the last 10
 * received (thread entries) and the last 10 sent (outbox), a UNION ALL aggregated into one JSON value.
 */
function threadIdsColumn(db: Db, ticketId: number): Knex.Raw {
  const inboundQ = db('thread_entries').where({ ticket_id: ticketId }).whereNotNull('message_id').orderBy('id', 'desc').limit(10).select('id', 'message_id');
  const outboundQ = db('outbox').where({ ticket_id: ticketId }).orderBy('id', 'desc').limit(10).select('id', 'message_id');
  const rows = db.select(db.raw("'in' as src"), 'id', 'message_id').from(inboundQ.as('i'))
    .unionAll(db.select(db.raw("'out' as src"), 'id', 'message_id').from(outboundQ.as('o')));
  return db.raw('(?) as thread_ids', [db.from(rows.as('r')).select(sqlJsonArrayAgg(db, ['r.src', 'r.id', 'r.message_id']))]);
}

/** The threading Message-IDs read by threadIdsColumn, oldest first (for References): received ones before sent ones, 10 at most. */
function threadIds(column: unknown): string[] {
  const rows = jsonRows(column) as [string, number, string][];
  const newestFirst = (src: string) => rows.filter((r) => r[0] === src).sort((a, b) => Number(b[1]) - Number(a[1])).map((r) => r[2]);
  return [...new Set([...newestFirst('in'), ...newestFirst('out')])].slice(0, 10).reverse();
}

/** Active agents of a department (primary or extra access) who are not away; `departmentId` may be a column of an outer query. */
function departmentAgentsQuery(db: Db, departmentId: number | Knex.Ref<string, any>): Knex.QueryBuilder {
  return db('agents as ag')
    .where('ag.is_active', true)
    .where('ag.is_away', false)
    .andWhere((q) => q.where('ag.department_id', departmentId).orWhereIn('ag.id', db('departments_agents as da').where('da.department_id', departmentId).select('da.agent_id')));
}

async function departmentAgents(db: Db, departmentId: number): Promise<Recipient[]> {
  return departmentAgentsQuery(db, departmentId).select('ag.id', 'ag.email', 'ag.name');
}

/**
 * The active agents of the department `departmentId` (a column of the caller's query) as one JSON
 * column `department_agents`, for reading the recipients of new-ticket alerts with the department.
 */
export function departmentAgentsColumn(db: Db, departmentId: Knex.Ref<string, any>): Knex.Raw {
  return db.raw('(?) as department_agents', [departmentAgentsQuery(db, departmentId).select(sqlJsonObjectAgg(db, 'ag.id', ['ag.email', 'ag.name']))]);
}

/** Reads the column built by departmentAgentsColumn (agent id → [email, name]). */
export function recipientsFrom(column: unknown): Recipient[] {
  return Object.entries(jsonObject(column) as Record<string, [string, string]>).map(([id, [email, name]]) => ({ id: Number(id), email: String(email), name: String(name) }));
}

async function teamAgents(db: Db, teamId: number) {
  return db('agents').where({ is_active: true, is_away: false }).whereIn('id', db('teams_agents').where({ team_id: teamId }).select('agent_id')).select('id', 'email', 'name');
}

function actingAgentId(ctx: ServiceContext): number | undefined {
  return ctx.actor.kind === 'agent' ? ctx.actor.id : undefined;
}

type Senders = {
  /** Mails each of `people` (by default the requester) with their own access link. */
  toUsers: (template: string, vars: Record<string, unknown>, automatic: AutoSubmitted | null, people?: Recipient[]) => Promise<void>;
  toAgents: (template: string, agents: Recipient[], vars?: Record<string, unknown>) => Promise<void>;
};

/**
 * Queues the mail a ticket change calls for, all of it in one multi-row INSERT. A new ticket is not
 * read again (its opener passes what mail needs); any other is read with its threading Message-IDs
 * in one statement.
 */
export async function notifyTicket(ctx: ServiceContext, trx: Db, notice: TicketNotice): Promise<void> {
  const settings = await getSettings(trx);
  const t = notice.kind === 'ticket_created' ? openedTicketRow(notice.ticket) : await loadTicket(trx, notice.ticketId, 'entryId' in notice ? notice.entryId : undefined);
  if (!t) return;
  // A new ticket's thread is its first entry: its Message-ID (it came by email) or nothing.
  const firstId = notice.kind === 'ticket_created' ? notice.ticket.entry.messageId : null;
  const refs = notice.kind === 'ticket_created' ? (firstId ? [firstId] : []) : threadIds(t.thread_ids);
  const base = { ticket: { number: t.number, subject: t.subject, status: t.status, department: t.department_name }, agentUrl: `${ctx.publicUrl}/scp/tickets/${t.id}` };
  const from = { fromAddress: t.dept_email ?? null, fromName: t.dept_email_name ?? null };
  const mails: MailToQueue[] = [];
  const requester: Recipient = { id: t.user_id, email: t.user_email, name: t.user_name };
  const toUsers = async (template: string, vars: Record<string, unknown>, automatic: AutoSubmitted | null, people: Recipient[] = [requester]) => {
    if (!people.length) return;
    const tokens = await createAccessTokens(trx, people.map((p) => ({ kind: 'portal_access' as const, userId: p.id, ticketId: t.id, ttlMinutes: USER_LINK_TTL_MINUTES })), ctx.clock());
    people.forEach((p, i) => mails.push({
      template, to: p.email, toName: p.name, ticketId: t.id, automatic, inReplyTo: refs.at(-1) ?? null, references: refs, ...from,
      vars: { ...base, ...vars, userName: p.name, isCc: p.id !== t.user_id, requesterName: t.user_name, ticketUrl: `${ctx.publicUrl}/tickets/access?token=${encodeURIComponent(tokens[i])}` },
    }));
  };
  const toAgents = async (template: string, agents: Recipient[], vars: Record<string, unknown> = {}) => {
    const seen = new Set<number>();
    for (const a of agents) {
      if (seen.has(a.id) || a.id === actingAgentId(ctx)) continue;
      seen.add(a.id);
      mails.push({ template, to: a.email, toName: a.name, ticketId: t.id, automatic: 'auto-generated', ...from, vars: { ...base, ...vars, agentName: a.name, requester: { name: t.user_name, email: t.user_email } } });
    }
  };
  await dispatch(ctx, trx, notice, settings, t, { toUsers, toAgents });
  await queueMails(ctx, trx, mails);
}

/** The requester, then the ticket's CCs (as loadTicket read them). */
function participants(t: any): Recipient[] {
  return [{ id: t.user_id, email: t.user_email, name: t.user_name }, ...collaboratorsFrom(t.collaborators)];
}

async function dispatch(ctx: ServiceContext, trx: Db, n: TicketNotice, s: Settings, t: any, send: Senders): Promise<void> {
  const assigneeOrDept = async () =>
    t.assignee_agent_id ? [{ id: t.assignee_agent_id, email: t.assignee_email, name: t.assignee_name }] : departmentAgents(trx, t.department_id);
  switch (n.kind) {
    case 'ticket_created': {
      const e = entry(t);
      if (n.notifyUser && s.autoresponse_new_ticket) await send.toUsers('ticket-autoresponse', { message: e?.body ?? '' }, 'auto-replied');
      if (n.alertAgents && s.alert_new_ticket) await send.toAgents('new-ticket-alert', n.ticket.department.agents ?? (await departmentAgents(trx, t.department_id)), { message: e?.body ?? '' });
      return;
    }
    case 'user_message': {
      // From the requester or a CC: the poster gets the auto-response, everyone else following the ticket
      // a copy (but those the mail itself went to).
      const e = entry(t);
      const everyone = participants(t);
      const poster = everyone.find((p) => p.id === Number(t.entry_user_id)) ?? everyone[0];
      if (s.alert_new_message) await send.toAgents('new-message-alert', await assigneeOrDept(), { message: e?.body ?? '' });
      if (s.autoresponse_new_message) await send.toUsers('message-autoresponse', {}, 'auto-replied', [poster]);
      const copied = new Set((n.copiedTo ?? []).map((a) => a.toLowerCase()));
      await send.toUsers('cc-message', { message: e?.body ?? '', posterName: e?.poster_name || poster.name }, 'auto-generated', everyone.filter((p) => p.id !== poster.id && !copied.has(p.email)));
      return;
    }
    case 'agent_response': {
      const e = entry(t);
      if (s.notice_response) await send.toUsers('agent-response', { message: e?.body ?? '', agentName: e?.poster_name ?? '' }, null, n.ccs ? participants(t) : undefined);
      return;
    }
    case 'ticket_closed':
      if (s.notice_closed) await send.toUsers('ticket-closed', { status: n.status, waitedDays: n.waitedDays ?? 0 }, 'auto-generated', participants(t));
      return;
    case 'ticket_assigned': {
      if (!s.alert_assigned) return;
      const agents = n.agentId ? await trx('agents').where({ id: n.agentId, is_active: true }).select('id', 'email', 'name') : n.teamId ? await teamAgents(trx, n.teamId) : [];
      await send.toAgents('assigned-alert', agents, { comment: n.comment ?? '' });
      return;
    }
    case 'ticket_transferred':
      if (s.alert_transfer) await send.toAgents('transfer-alert', await departmentAgents(trx, n.departmentId), { comment: n.comment ?? '' });
      return;
    case 'task_assigned': {
      if (!s.alert_assigned) return;
      const agents = await trx('agents').where({ id: n.agentId, is_active: true }).select('id', 'email', 'name');
      await send.toAgents('task-alert', agents, { taskTitle: n.title, taskDue: n.due, byName: ctx.actor.kind === 'agent' ? ctx.actor.name : 'The help desk' });
      return;
    }
    case 'ticket_overdue': {
      if (!s.alert_overdue) return;
      let agents = await assigneeOrDept();
      if (!t.assignee_agent_id && t.manager_agent_id) agents = [...(await trx('agents').where({ id: t.manager_agent_id, is_active: true }).select('id', 'email', 'name')), ...agents];
      await send.toAgents('overdue-alert', agents);
      return;
    }
  }
}
