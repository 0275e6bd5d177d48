/** Read side of the agent ticket page: the ticket, its thread, history, lock, and what the agent may do. */
import type { Knex } from 'knex';
import { dbBool, dbDate } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { NotFound } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { listAttachments, readAttachment } from './attachment-service.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { lockColumns, lockFromRow, lockJoin, touchTicketLock } from './ticket-locks.ts';
import { collaboratorsColumn, collaboratorsFrom } from './ticket-collaborator-list.ts';
import { tasksColumn, tasksFrom } from './ticket-tasks.ts';
import { fieldValuesColumn, fieldValuesFrom, shownAnswers, ticketFieldDefs, toFormField } from '../fields/ticket-field-values.ts';
import { editableFields } from '../fields/ticket-field-edit.ts';
import { canSeeTicket, loadTicketFor, permissionsIn } from './ticket-policy.ts';
import { describeEvent, formatDate, formatSize } from './ticket-presenters.ts';
import { dueTarget } from '../sla/sla-due.ts';
import { toLocalInput } from './ticket-property-service.ts';
import { signatureOptions } from './ticket-signatures.ts';
import { kbArticlesForTicket } from '../kb/kb-ticket-links.ts';
import { mayEditEntry } from './ticket-entry-edit.ts';
import { SOURCE_LABELS, STATUS_ACTIONS, STATUS_LABELS, STATUSES, type TicketSource, type TicketStatus } from './ticket-status.ts';

type Db = Knex | Knex.Transaction;
type Opt = { id: number; name: string };

async function loadEvents(db: Db, ticketId: number, sinceId: number, tz: string) {
  const rows = await db('ticket_events as e').leftJoin('agents as a', 'a.id', 'e.agent_id').leftJoin('users as u', 'u.id', 'e.user_id')
    .where('e.ticket_id', ticketId).where('e.id', '>', sinceId).orderBy('e.id').select('e.*', 'a.name as agent_name', 'u.name as user_name');
  const parsed = rows.map((r: any) => ({ r, data: r.data ? (JSON.parse(r.data) as Record<string, any>) : {} }));
  const ids = [...new Set(parsed.filter((p) => p.r.event === 'assigned' && p.data.to && !p.data.agentName).map((p) => Number(p.data.to)))];
  const names = new Map<number, string>(ids.length ? (await db('agents').whereIn('id', ids).select('id', 'name')).map((a: any) => [a.id, a.name]) : []);
  const fmt = (iso: string | null) => formatDate(iso ? new Date(iso) : null, tz);
  return parsed.map(({ r, data }) => ({
    id: r.id as number, event: r.event as string, entryId: (data.entryId as number | undefined) ?? null,
    who: r.actor_kind === 'agent' ? r.agent_name : r.actor_kind === 'user' ? `${r.user_name ?? 'User'} (user)` : r.actor_kind === 'api' ? 'API' : 'System',
    when: formatDate(dbDate(r.created_at), tz), text: describeEvent(r.event, data, names, fmt),
  }));
}

async function loadThread(db: Db, ticketId: number, tz: string, onlyIds?: number[]) {
  const q = db('thread_entries').where({ ticket_id: ticketId }).orderBy('id');
  if (onlyIds) q.whereIn('id', onlyIds.length ? onlyIds : [0]);
  const [entries, files] = await Promise.all([q, listAttachments(db, ticketId)]);
  const label = { message: 'Message', response: 'Reply', note: 'Internal note' } as Record<string, string>;
  return entries.map((e: any) => ({
    id: e.id as number, kind: e.kind as string, kindLabel: label[e.kind] ?? e.kind, poster: e.poster_name ?? '', source: e.source, agentId: e.agent_id as number | null,
    created: formatDate(dbDate(e.created_at), tz), body: e.body as string, edited: formatDate(dbDate(e.edited_at), tz), editUrl: `/scp/tickets/${ticketId}/entries/${e.id}/edit`,
    attachments: (files.get(e.id) ?? []).map((f) => ({ id: f.id, filename: f.filename, size: formatSize(f.size) })),
  }));
}

/**
 * The ticket with the names it shows, its CCs and tasks, the ticket it was merged into and its lock, in one statement; with them the signatures
 * the reply form offers: the department's and the viewing agent's own (`meId`; none for the API or the system).
 */
async function loadHeader(db: Db, ticketId: number, meId: number | null) {
  const q = db('tickets as t').join('users as u', 'u.id', 't.user_id').join('departments as d', 'd.id', 't.department_id').join('priorities as p', 'p.id', 't.priority_id')
    .leftJoin('sla_plans as s', 's.id', 't.sla_plan_id').leftJoin('help_topics as h', 'h.id', 't.topic_id').leftJoin('agents as a', 'a.id', 't.assignee_agent_id').leftJoin('teams as tm', 'tm.id', 't.team_id')
    .leftJoin('agents as me', (j) => j.on('me.id', '=', db.raw('?', [meId ?? 0])))
    .leftJoin('tickets as mt', 'mt.id', 't.merged_into_id');
  // The requester's organization and ban, for the requester card (user-directory-service.ts).
  q.leftJoin('organizations as org', 'org.id', 'u.organization_id').select('org.id as user_org_id', 'org.name as user_org_name', 'u.is_banned as user_is_banned');
  return lockJoin(q)
    .where('t.id', ticketId)
    .first('t.*', 'u.name as user_name', 'u.email as user_email', 'u.phone as user_phone', 'd.name as department_name', 'p.name as priority_name', 'p.color as priority_color',
      's.name as sla_name', 'h.name as topic_name', 'a.name as assignee_name', 'tm.name as team_name', 'd.signature as department_signature', 'me.signature as my_signature', 'mt.number as merged_into_number', ...lockColumns,
      collaboratorsColumn(db, db.ref('t.id')), tasksColumn(db, db.ref('t.id')), fieldValuesColumn(db, db.ref('t.id')));
}

/**
 * The form choices in ONE statement (UNION ALL, as the queue's filter choices): active priorities
 * (by urgency), SLA plans, departments, topics, teams (by name), the agents who may be assigned
 * in the ticket's department (primary or extra access, or admins; by name), its canned responses and knowledge base articles.
 */
async function formOptions(db: Db, t: any) {
  // ord is numeric on every row (a union column mixing numbers and text would sort as text on MariaDB).
  const part = (kind: string, table: string, byUrgency = false) => db(table).where('is_active', true).select(db.raw('? as kind', [kind]), 'id', 'name', byUrgency ? 'urgency as ord' : db.raw('0 as ord'));
  // Agents who are away come last, marked (ord 1).
  const agents = db('agents').where('is_active', true).select(db.raw('? as kind', ['agent']), 'id', 'name', db.raw('(case when ?? then 1 else 0 end) as ord', ['is_away']))
    .andWhere((q) => q.where('department_id', t.department_id).orWhere('role', 'admin').orWhereIn('id', db('departments_agents').where({ department_id: t.department_id }).select('agent_id')));
  // The canned responses the ticket's department may use (its own and every department's), by title.
  const canned = db('canned_responses').where('is_active', true).andWhere((q) => q.whereNull('department_id').orWhere('department_id', t.department_id))
    .select(db.raw('? as kind', ['canned']), 'id', db.ref('title').as('name'), db.raw('0 as ord'));
  // Public knowledge base articles on the ticket's help topic, and the featured ones (links for a reply).
  const kb = kbArticlesForTicket(db, t.topic_id ?? null);
  const parts = [part('priority', 'priorities', true), part('sla', 'sla_plans'), part('dept', 'departments'), part('topic', 'help_topics'), part('team', 'teams'), agents, canned, kb];
  const rows = (await parts[0].unionAll(parts.slice(1)).orderBy(['kind', 'ord', 'name'])) as unknown as { kind: string; id: unknown; name: string }[];
  const of = (k: string): Opt[] => rows.filter((r) => r.kind === k).map((r) => ({ id: Number(r.id), name: k === 'agent' && Number((r as { ord?: unknown }).ord) === 1 ? `${r.name} (away)` : String(r.name) }));
  return {
    priorities: of('priority'), slaPlans: of('sla'), topics: of('topic'), teams: of('team'), agents: of('agent'), canned: of('canned'), kb: of('kb'),
    departments: of('dept').filter((d) => d.id !== t.department_id), statuses: STATUSES.map((s) => ({ id: s, name: STATUS_LABELS[s], action: STATUS_ACTIONS[s] })),
  };
}

/**
 * Everything the agent ticket page shows, for an actor who may see the ticket; takes or renews the
 * agent's collision lock and reports another agent's. @throws NotFound (TICKET_NOT_FOUND)
 */
export async function getTicketForAgent(ctx: ServiceContext, ticketId: number) {
  assertStaff(ctx.actor);
  if (!Number.isInteger(ticketId) || ticketId <= 0) throw new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
  const settings = await getSettings(ctx.db);
  const tz = settings.timezone;
  // The ticket, its names and its lock in one read; the same permission rule as loadTicketFor (NotFound, never Forbidden).
  const actor = ctx.actor;
  const me = actor.kind === 'agent' ? actor : null;
  const t = await loadHeader(ctx.db, ticketId, me?.id ?? null);
  if (!t || !canSeeTicket(ctx.actor, t)) throw new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
  const [thread, events, options, lock] = await Promise.all([loadThread(ctx.db, t.id, tz), loadEvents(ctx.db, t.id, 0, tz), formOptions(ctx.db, t), touchTicketLock(ctx, t.id, lockFromRow(t))]);
  const open = t.state === 'open';
  const manual = dbDate(t.manual_due_at);
  // Custom fields: the answers read with the ticket, the definitions from this process's cache.
  const fieldDefs = await ticketFieldDefs(ctx.db, settings);
  const answers = fieldValuesFrom(t.field_values);
  // What the agent's role allows in the ticket's department (the buttons shown; the services check again). No statement.
  const may = (await permissionsIn(ctx.db, actor, t.department_id, settings)).has;
  return {
    ticket: {
      id: t.id as number, number: t.number as string, subject: t.subject as string, status: t.status as TicketStatus, statusLabel: STATUS_LABELS[t.status as TicketStatus], state: t.state,
      version: Number(t.version), priority: { id: t.priority_id, name: t.priority_name, color: t.priority_color }, department: { id: t.department_id, name: t.department_name },
      slaPlan: t.sla_plan_id ? { id: t.sla_plan_id, name: t.sla_name } : null, topic: t.topic_id ? { id: t.topic_id, name: t.topic_name } : null,
      source: SOURCE_LABELS[t.source as TicketSource] ?? t.source, dueAt: formatDate(dbDate(t.due_at), tz), dueKind: dueKind(t),
      slaDueAt: formatDate(dbDate(t.sla_due_at), tz), manualDueAt: formatDate(manual, tz), manualDueInput: toLocalInput(manual, tz), timezone: tz,
      isOverdue: dbBool(t.is_overdue), isAnswered: dbBool(t.is_answered), assignee: t.assignee_agent_id ? { id: t.assignee_agent_id, name: t.assignee_name } : null,
      team: t.team_id ? { id: t.team_id, name: t.team_name } : null, requester: { id: Number(t.user_id), name: t.user_name, email: t.user_email, phone: t.user_phone ?? '', organization: t.user_org_id ? { id: Number(t.user_org_id), name: String(t.user_org_name) } : null, isBanned: dbBool(t.user_is_banned) },
      ccs: collaboratorsFrom(t.collaborators),
      fields: shownAnswers(fieldDefs, answers, 'agent'),
      /** The custom field form: each editable field with its current answer. */
      fieldForm: editableFields(fieldDefs, t.topic_id ?? null, answers).map((f) => ({ ...toFormField(f), value: answers.get(f.id) ?? '' })),
      tasks: tasksFrom(t.tasks).map((k) => ({ ...k, dueText: formatDate(k.dueAt, tz), isLate: !k.isDone && !!k.dueAt && k.dueAt.getTime() < ctx.clock().getTime() })),
      /** Merged into another ticket: nothing more happens here (the page links there). */
      mergedInto: t.merged_into_id ? { id: Number(t.merged_into_id), number: String(t.merged_into_number) } : null,
      created: formatDate(dbDate(t.created_at), tz), lastMessage: formatDate(dbDate(t.last_message_at), tz), lastResponse: formatDate(dbDate(t.last_response_at), tz),
      closedAt: formatDate(dbDate(t.closed_at), tz), reopenCount: Number(t.reopen_count),
      /** Waiting on the requester since; whether that stopped the SLA clock (sla-pause.ts). */
      waitingSince: formatDate(dbDate(t.waiting_since), tz), slaPaused: !!t.sla_paused_at,
      /** The plan's first-response target: when it fell due, and whether the first response (without one: the closing, else now) is past it, as in reports. */
      firstResponse: firstResponseView(dbDate(t.first_response_due_at), dbDate(t.first_response_at), t.state === 'closed' ? dbDate(t.closed_at) : null, ctx.clock(), tz),
      /** The plan's next-response target while a requester's message awaits a reply: when it falls, and whether now is past it. */
      nextResponse: t.next_response_due_at && open ? { due: formatDate(dbDate(t.next_response_due_at), tz), late: dbDate(t.next_response_due_at)!.getTime() < ctx.clock().getTime() } : null,
    },
    /** Each entry with whether this agent may edit it (ticket-entry-edit.ts). */
    thread: thread.map((e) => ({ ...e, canEdit: !t.merged_into_id && mayEditEntry(ctx.actor, { kind: e.kind, agent_id: e.agentId }) && (e.kind !== 'response' || may('ticket.reply')) })),
    events, seenEventId: events.at(-1)?.id ?? 0, options, signatures: signatureOptions(t.my_signature, t.department_signature, t.department_name),
    lock: lock ? { name: lock.name, until: formatDate(lock.expiresAt, tz) } : null,
    /** What to offer: the ticket's state, and what the agent's role in its department allows (role-permissions.ts). */
    can: {
      assign: may('ticket.assign'),
      claim: may('ticket.assign') && !!me && open && !t.assignee_agent_id && (me.role === 'admin' || me.departmentIds.includes(t.department_id)),
      release: may('ticket.assign') && !!(t.assignee_agent_id || t.team_id),
      /** Any status change (with a reply or note too). */
      status: may('ticket.close'),
      resolve: may('ticket.close') && t.status !== 'resolved', close: may('ticket.close') && t.status !== 'closed', reopen: may('ticket.close') && !open,
      wait: may('ticket.close') && t.status === 'open', stopWaiting: may('ticket.close') && t.status === 'pending',
      transfer: may('ticket.transfer') && options.departments.length > 0,
      reply: may('ticket.reply'), edit: may('ticket.edit'), merge: may('ticket.merge'), tasks: may('task.manage'),
      delete: may('ticket.delete'),
    },
  };
}
export type AgentTicketView = Awaited<ReturnType<typeof getTicketForAgent>>;

/** What the due date shown stands for (the ticket page says it beside the date). */
function dueKind(t: any): 'manual' | 'first_response' | 'next_response' | 'sla' | null {
  const target = dueTarget(t);
  return target === 'resolution' ? (t.sla_due_at ? 'sla' : null) : target;
}

/** A ticket closed unanswered before its first response fell due was not late (reports count it in neither). */
function firstResponseView(due: Date | null, at: Date | null, closedAt: Date | null, now: Date, tz: string): { due: string; at: string; late: boolean } | null {
  if (!due) return null;
  return { due: formatDate(due, tz), at: formatDate(at, tz), late: (at ?? closedAt ?? now).getTime() > due.getTime() };
}

/**
 * What happened on a ticket after event `sinceEventId` (for "this ticket changed — review and
 * retry"): the events, and the thread entries they added. @throws NotFound
 */
export async function getTicketChangesSince(ctx: ServiceContext, ticketId: number, sinceEventId: number) {
  assertStaff(ctx.actor);
  if (!Number.isInteger(ticketId) || ticketId <= 0) throw new NotFound('Ticket not found.', 'TICKET_NOT_FOUND');
  const t = await loadTicketFor(ctx.db, ctx.actor, { id: ticketId });
  const { timezone: tz } = await getSettings(ctx.db);
  const events = await loadEvents(ctx.db, t.id, Math.max(0, sinceEventId || 0), tz);
  const entryIds = events.map((e) => e.entryId).filter((x): x is number => !!x);
  const entries = await loadThread(ctx.db, t.id, tz, entryIds);
  return { ticket: { id: t.id as number, number: t.number as string, subject: t.subject as string, version: Number(t.version) }, events, entries, seenEventId: events.at(-1)?.id ?? sinceEventId };
}

/**
 * An attachment for download, after the same permission check as its ticket. The type is made
 * safe (never HTML/SVG/XML). @throws NotFound (ATTACHMENT_NOT_FOUND)
 */
export async function getAttachmentForAgent(ctx: ServiceContext, attachmentId: number) {
  assertStaff(ctx.actor);
  const id = Number(attachmentId);
  const a = Number.isInteger(id) && id > 0 ? await readAttachment(ctx.db, id) : undefined;
  if (!a) throw new NotFound('Attachment not found.', 'ATTACHMENT_NOT_FOUND');
  await loadTicketFor(ctx.db, ctx.actor, { id: a.ticketId }).catch(() => {
    throw new NotFound('Attachment not found.', 'ATTACHMENT_NOT_FOUND');
  });
  return a;
}
