/**
 * Who is told what when a ticket changes. Each notice becomes outbox rows in the caller's
 * transaction, subject to the settings that turn each auto-response and alert on or off.
 */
import type { Knex } from 'knex';
import type { ServiceContext } from '../context.ts';
import { getSettings, type Settings } from '../settings/settings-service.ts';
import { createAccessToken } from '../auth/access-tokens.ts';
import { queueMail, queueMails, type MailToQueue } from './outbox-service.ts';

export type TicketNotice =
  | { kind: 'ticket_created'; ticketId: number; entryId: number; notifyUser: boolean; alertAgents: boolean }
  | { kind: 'user_message'; ticketId: number; entryId: number }
  | { kind: 'agent_response'; ticketId: number; entryId: number }
  | { kind: 'ticket_closed'; ticketId: number; status: 'resolved' | 'closed' }
  | { kind: 'ticket_assigned'; ticketId: number; agentId?: number | null; teamId?: number | null; comment?: string | null }
  | { kind: 'ticket_transferred'; ticketId: number; departmentId: number; comment?: string | null }
  | { kind: 'ticket_overdue'; ticketId: number };

/** Access links in mail to users stay valid for 30 days. */
const USER_LINK_TTL_MINUTES = 30 * 24 * 60;

type Db = Knex | Knex.Transaction;

/** The ticket with the names mail needs and, for a notice about a thread entry, that entry (one statement). */
async function loadTicket(db: Db, ticketId: number, entryId?: number) {
  const q = db('tickets as t')
    .join('users as u', 'u.id', 't.user_id')
    .join('departments as d', 'd.id', 't.department_id')
    .leftJoin('agents as a', 'a.id', 't.assignee_agent_id')
    .where('t.id', ticketId);
  const cols = ['t.*', 'u.email as user_email', 'u.name as user_name', 'd.name as department_name', 'd.manager_agent_id', 'd.email_address as dept_email', 'd.email_name as dept_email_name', 'a.email as assignee_email', 'a.name as assignee_name'];
  if (entryId === undefined) return q.first(cols);
  return q.leftJoin('thread_entries as e', (j) => j.on('e.id', '=', db.raw('?', [entryId]))).first([...cols, 'e.id as entry_id', 'e.body as entry_body', 'e.poster_name as entry_poster_name']);
}

/** The thread entry a notice is about, as read by loadTicket. */
function entry(t: any): { body: string; poster_name: string | null } | undefined {
  return t.entry_id ? { body: t.entry_body, poster_name: t.entry_poster_name } : undefined;
}

/**
 * Message-IDs of mail already exchanged about this ticket, oldest first (for References): the last
 * 10 received (thread entries) and the last 10 sent (outbox), in one statement (UNION ALL).
 */
async function threadIds(db: Db, ticketId: number): Promise<string[]> {
  const inboundQ = db('thread_entries').where({ ticket_id: ticketId }).whereNotNull('message_id').orderBy('id', 'desc').limit(10).select('id', 'message_id');
  const outboundQ = db('outbox').where({ ticket_id: ticketId }).orderBy('id', 'desc').limit(10).select('id', 'message_id');
  const rows = (await db.select(db.raw("'in' as src"), 'id', 'message_id').from(inboundQ.as('i'))
    .unionAll(db.select(db.raw("'out' as src"), 'id', 'message_id').from(outboundQ.as('o')))) as { src: string; id: number; message_id: string }[];
  const newestFirst = (src: string) => rows.filter((r) => r.src === src).sort((a, b) => Number(b.id) - Number(a.id)).map((r) => r.message_id);
  return [...new Set([...newestFirst('in'), ...newestFirst('out')])].slice(0, 10).reverse();
}

/** Active agents of a department (primary or extra access), except `exceptId`. */
async function departmentAgents(db: Db, departmentId: number, exceptId?: number) {
  const rows = await db('agents')
    .where('is_active', true)
    .andWhere((q) => q.where('department_id', departmentId).orWhereIn('id', db('departments_agents').where({ department_id: departmentId }).select('agent_id')))
    .select('id', 'email', 'name');
  return rows.filter((r: any) => r.id !== exceptId);
}

async function teamAgents(db: Db, teamId: number) {
  return db('agents').where('is_active', true).whereIn('id', db('teams_agents').where({ team_id: teamId }).select('agent_id')).select('id', 'email', 'name');
}

function actingAgentId(ctx: ServiceContext): number | undefined {
  return ctx.actor.kind === 'agent' ? ctx.actor.id : undefined;
}

/** Queues the mail a ticket change calls for. */
export async function notifyTicket(ctx: ServiceContext, trx: Db, notice: TicketNotice): Promise<void> {
  const settings = await getSettings(trx);
  const t = await loadTicket(trx, notice.ticketId, 'entryId' in notice ? notice.entryId : undefined);
  if (!t) return;
  const refs = await threadIds(trx, t.id);
  const base = { ticket: { number: t.number, subject: t.subject, status: t.status, department: t.department_name }, agentUrl: `${ctx.publicUrl}/scp/tickets/${t.id}` };
  const from = { fromAddress: t.dept_email ?? null, fromName: t.dept_email_name ?? null };
  const toUser = async (template: string, vars: Record<string, unknown>, automatic: boolean) => {
    const token = await createAccessToken(trx, { kind: 'portal_access', userId: t.user_id, ticketId: t.id, ttlMinutes: USER_LINK_TTL_MINUTES }, ctx.clock());
    await queueMail(ctx, trx, {
      template, to: t.user_email, toName: t.user_name, ticketId: t.id, automatic, inReplyTo: refs.at(-1) ?? null, references: refs, ...from,
      vars: { ...base, ...vars, userName: t.user_name, ticketUrl: `${ctx.publicUrl}/tickets/access?token=${encodeURIComponent(token)}` },
    });
  };
  const toAgents = async (template: string, agents: { id: number; email: string; name: string }[], vars: Record<string, unknown> = {}) => {
    const seen = new Set<number>();
    const mails: MailToQueue[] = [];
    for (const a of agents) {
      if (seen.has(a.id) || a.id === actingAgentId(ctx)) continue;
      seen.add(a.id);
      mails.push({ template, to: a.email, toName: a.name, ticketId: t.id, automatic: true, ...from, vars: { ...base, ...vars, agentName: a.name, requester: { name: t.user_name, email: t.user_email } } });
    }
    await queueMails(ctx, trx, mails);
  };
  await dispatch(ctx, trx, notice, settings, t, { toUser, toAgents });
}

async function dispatch(ctx: ServiceContext, trx: Db, n: TicketNotice, s: Settings, t: any, send: { toUser: (tpl: string, v: Record<string, unknown>, auto: boolean) => Promise<void>; toAgents: (tpl: string, a: { id: number; email: string; name: string }[], v?: Record<string, unknown>) => Promise<void> }): Promise<void> {
  const assigneeOrDept = async () =>
    t.assignee_agent_id ? [{ id: t.assignee_agent_id, email: t.assignee_email, name: t.assignee_name }] : departmentAgents(trx, t.department_id);
  switch (n.kind) {
    case 'ticket_created': {
      const e = entry(t);
      if (n.notifyUser && s.autoresponse_new_ticket) await send.toUser('ticket-autoresponse', { message: e?.body ?? '' }, true);
      if (n.alertAgents && s.alert_new_ticket) await send.toAgents('new-ticket-alert', await departmentAgents(trx, t.department_id), { message: e?.body ?? '' });
      return;
    }
    case 'user_message': {
      const e = entry(t);
      if (s.alert_new_message) await send.toAgents('new-message-alert', await assigneeOrDept(), { message: e?.body ?? '' });
      if (s.autoresponse_new_message) await send.toUser('message-autoresponse', {}, true);
      return;
    }
    case 'agent_response': {
      const e = entry(t);
      if (s.notice_response) await send.toUser('agent-response', { message: e?.body ?? '', agentName: e?.poster_name ?? '' }, false);
      return;
    }
    case 'ticket_closed':
      if (s.notice_closed) await send.toUser('ticket-closed', { status: n.status }, true);
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
    case 'ticket_overdue': {
      if (!s.alert_overdue) return;
      let agents = await assigneeOrDept();
      if (!t.assignee_agent_id && t.manager_agent_id) agents = [...(await trx('agents').where({ id: t.manager_agent_id, is_active: true }).select('id', 'email', 'name')), ...agents];
      await send.toAgents('overdue-alert', agents);
      return;
    }
  }
}
