/**
 * Opening tickets (portal, agent on behalf of a user, API, email) and adding a user's message.
 * One transaction per action: ticket, first entry, attachments, event, outgoing mail.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { dbBool, dbDate, toDbDate } from '../../db/dialect.ts';
import { isAgent } from '../actor.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { Forbidden, InvalidTransition, ValidationFailed, type FieldErrors } from '../errors.ts';
import { answersForNewTicket, answerTexts, insertFieldAnswers } from '../fields/ticket-field-values.ts';
import { applyTicketFilters, type FilterSubject } from '../filters/ticket-filter-service.ts';
import { getSettings } from '../settings/settings-service.ts';
import { statusChange } from './ticket-agent-common.ts';
import { applicableDue, ticketDue } from '../sla/sla-due.ts';
import { computeSlaDueDates } from '../sla/sla-service.ts';
import { findOrCreateUser } from '../users/user-service.ts';
import { copyOrganizationOnTicket } from '../users/organization-service.ts';
import { notifyTicket } from '../mail/ticket-notifications.ts';
import { email, fieldErrors, optionalId, optionalText, parseInput, requiredText } from '../validation.ts';
import { checkAttachments, storeAttachments, type UploadedFile } from './attachment-service.ts';
import { recordTicketEvent, recordTicketEvents } from './ticket-events.ts';
import { insertTicketWithNumber } from './ticket-numbers.ts';
import { followMerges } from './ticket-merge.ts';
import { resolveRouting } from './ticket-routing.ts';
import { assertDepartmentAccess, assertMay, loadTicketFor } from './ticket-policy.ts';
import { SOURCES, type TicketSource } from './ticket-status.ts';
import { searchText } from './ticket-search-index.ts';

export const OpenTicketInput = z.object({
  email,
  name: requiredText(120, 'Name'),
  phone: optionalText(40, 'Phone'),
  topicId: optionalId,
  subject: requiredText(255, 'Subject'),
  message: requiredText(100_000, 'Message'),
  source: z.enum(SOURCES).default('web'),
  // Agent/API only: the portal ignores these (the help topic decides).
  departmentId: optionalId,
  priorityId: optionalId,
  slaPlanId: optionalId,
  assigneeId: optionalId,
  /** Notify the user (auto-response). Agents may turn it off for a walk-in. */
  notifyUser: z.boolean().default(true),
  alertAgents: z.boolean().default(true),
  ip: z.string().max(45).optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
  messageId: z.string().max(191).optional(),
  /** Custom field answers, {key: value} (src/domain/fields/): checked against the chosen topic's fields. */
  fields: z.record(z.string(), z.unknown()).optional(),
});
export type OpenTicketInput = z.input<typeof OpenTicketInput>;

export interface OpenedTicket {
  id: number;
  number: string;
  userId: number;
  entryId: number;
  departmentId: number;
}

/**
 * Opens a ticket. Users (portal) choose only a public topic; agents, the API and the system may
 * set department, priority, SLA and assignee (agents only within their departments).
 * Before the transaction: settings, the ticket filters (ticket-filter-service.ts; a refusal is
 * Forbidden TICKET_REJECTED), then the routing with the ban check and the user of that address (one statement); the transaction writes the user if new, the ticket, entry, events and mail.
 * @throws ValidationFailed, Forbidden (USER_BANNED, DEPARTMENT_FORBIDDEN, PERMISSION_DENIED: the agent's role there opens no tickets)
 */
export async function openTicket(ctx: ServiceContext, raw: OpenTicketInput, files: UploadedFile[] = []): Promise<OpenedTicket> {
  // The form's fields and the custom fields of the chosen topic, every problem at once.
  const errors: FieldErrors = {};
  const parsed = OpenTicketInput.safeParse(raw);
  if (!parsed.success) Object.assign(errors, fieldErrors(parsed.error));
  const settings = await getSettings(ctx.db);
  const answers = await answersForNewTicket(ctx, settings, parsed.data?.topicId ?? optionalId.safeParse(raw?.topicId).data, raw?.fields, errors);
  if (!parsed.success || Object.keys(errors).length) throw new ValidationFailed(errors);
  const input = parsed.data;
  checkAttachments(files, settings);
  const now = ctx.clock();
  // The ticket filters (no statement unless they changed since this process last read them).
  const filtered = await applyTicketFilters(ctx.db, settings, { channel: channelOf(ctx, input.source), email: input.email, name: input.name, subject: input.subject, message: input.message, fields: answerTexts(answers) });
  if (filtered.rejectedBy) throw new Forbidden('This help desk does not accept this request.', 'TICKET_REJECTED');
  // One statement: the routing and the sender (banned → refused first; the user of that address, if any).
  const route = await resolveRouting(ctx.db, ctx.actor, { ...input, filtered, withAgents: input.alertAgents && settings.alert_new_ticket }, settings, now, input.email);
  const sender = route.sender;
  if (isAgent(ctx.actor)) {
    assertDepartmentAccess(ctx.actor, route.departmentId);
    // The agent's role in that department: opening tickets, and assigning one (an agent of their choice) when they do.
    await assertMay(ctx.db, ctx.actor, 'ticket.create', route.departmentId);
    if (input.assigneeId) await assertMay(ctx.db, ctx.actor, 'ticket.assign', route.departmentId).catch((err: unknown) => {
      throw err instanceof Forbidden ? new ValidationFailed({ assigneeId: err.message }) : err;
    });
  }
  const notifyUser = input.notifyUser && !filtered.noAutoresponse;
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    // A new address joins the organization claiming its domain (read with the sender).
    const user = await findOrCreateUser(trx, { email: input.email, name: input.name, phone: input.phone, organizationId: sender.organization?.id ?? null }, now, sender.user);
    const explicitAssignee = isAgent(ctx.actor) || ctx.actor.kind === 'system' ? await checkAssignee(trx, input.assigneeId, route.departmentId) : null;
    // A filter's agent only when they work in the ticket's department (else the ticket stays unassigned, and the history says so).
    const filterAssignee = !explicitAssignee && filtered.assigneeId ? await checkAssignee(trx, filtered.assigneeId, route.departmentId, true).catch((err: unknown) => {
      if (err instanceof ValidationFailed) return null;
      throw err;
    }) : null;
    const teamId = !explicitAssignee && !filterAssignee && !input.assigneeId && filtered.teamId ? filtered.teamId : null;
    // Nothing else assigned it: the account manager of the requester's organization, when they work in its department.
    const managerId = sender.organization?.managerAgentId;
    const orgAssignee = !explicitAssignee && !filterAssignee && !input.assigneeId && !teamId && managerId ? await checkAssignee(trx, managerId, route.departmentId, true).catch((err: unknown) => {
      if (err instanceof ValidationFailed) return null;
      throw err;
    }) : null;
    const assignee = explicitAssignee ?? filterAssignee ?? orgAssignee;
    const ts = toDbDate(now);
    const { id, number } = await insertTicketWithNumber(trx, settings, {
      // search_text: the subject's and the requester's words for the quick search (its word index follows: ticket-search-index.ts).
      user_id: user.id, requester_name: user.name, subject: input.subject, search_text: searchText(input.subject, user.name), status: 'open', state: 'open', department_id: route.departmentId,
      topic_id: route.topicId, priority_id: route.priorityId, sla_plan_id: route.slaPlanId, assignee_agent_id: assignee, team_id: teamId,
      source: input.source, sla_due_at: toDbDate(route.dueAt), first_response_due_at: toDbDate(route.firstResponseDueAt), is_overdue: false, is_answered: false,
      due_at: toDbDate(applicableDue({ manual: null, slaDue: route.dueAt, firstResponseDue: route.firstResponseDueAt, nextResponseDue: null, answered: false, paused: false })),
      sla_started_at: ts, last_message_at: ts, ip: input.ip ?? null, extra: input.extra ? JSON.stringify(input.extra) : null,
      version: 1, created_at: ts, updated_at: ts,
    });
    const entry = { body: input.message, posterName: input.name, messageId: input.messageId ?? null };
    const [entryId] = await trx('thread_entries').insert({
      ticket_id: id, kind: 'message', user_id: user.id, poster_name: entry.posterName, body: entry.body, source: input.source,
      message_id: entry.messageId, created_at: ts,
    });
    await storeAttachments(trx, id, entryId, files, now);
    await insertFieldAnswers(trx, id, answers);
    const events: Parameters<typeof recordTicketEvents>[3] = [['created', { source: input.source, departmentId: route.departmentId, slaPlanId: route.slaPlanId, userId: user.id }]];
    if (assignee) events.push(['assigned', { to: assignee, ...(assignee === filterAssignee ? { by: 'filter' } : assignee === orgAssignee ? { by: 'organization' } : {}) }]);
    if (teamId) events.push(['team_assigned', { teamId, teamName: filtered.teamName ?? null, by: 'filter' }]);
    const unassignable = filtered.assigneeId && !filterAssignee && !explicitAssignee && !input.assigneeId;
    for (const a of filtered.applied) events.push(['filter_applied', { filter: a.filter, actions: a.actions, ...(unassignable && a.filter === filtered.assignedBy ? { notAssigned: true } : {}) }]);
    await recordTicketEvents(tctx, trx, id, events);
    if (sender.organization) await copyOrganizationOnTicket(tctx, trx, sender.organization, { id, userId: user.id });
    const ticket = { id, number, subject: input.subject, departmentId: route.departmentId, department: route.department, user, entry: { id: entryId, ...entry } };
    await notifyTicket(tctx, trx, { kind: 'ticket_created', ticket, notifyUser, alertAgents: input.alertAgents });
    if (assignee && assignee !== (isAgent(ctx.actor) ? ctx.actor.id : 0)) await notifyTicket(tctx, trx, { kind: 'ticket_assigned', ticketId: id, agentId: assignee });
    if (teamId) await notifyTicket(tctx, trx, { kind: 'ticket_assigned', ticketId: id, teamId });
    return { id, number, userId: user.id, entryId, departmentId: route.departmentId };
  });
}

/** Where a ticket comes from, as the ticket filters name it. */
function channelOf(ctx: ServiceContext, source: TicketSource): FilterSubject['channel'] {
  if (isAgent(ctx.actor)) return 'agent';
  if (ctx.actor.kind === 'api') return 'api';
  return source === 'email' ? 'email' : 'web';
}

/**
 * An assignee must be an active agent with access to the department; an automatic one (a filter's, an
 * organization's account manager) also not away.
 */
async function checkAssignee(trx: Knex.Transaction, assigneeId: number | undefined, departmentId: number, automatic = false): Promise<number | null> {
  if (!assigneeId) return null;
  const a = await trx('agents').where({ id: assigneeId, is_active: true, ...(automatic ? { is_away: false } : {}) }).first('id', 'role', 'department_id');
  const extra = a ? await trx('departments_agents').where({ agent_id: a.id, department_id: departmentId }).first() : undefined;
  if (!a || (a.role !== 'admin' && a.department_id !== departmentId && !extra)) throw new ValidationFailed({ assigneeId: 'Choose an agent of the ticket’s department' });
  return a.id;
}

export const AddUserMessageInput = z.object({
  ticketId: z.number().int().positive(),
  message: requiredText(100_000, 'Message'),
  source: z.enum(SOURCES).default('web'),
  messageId: z.string().max(191).optional(),
  /** Mail: the addresses it was sent to (To, Cc), who have the message already (no copy to them). */
  copiedTo: z.array(z.string().max(191)).max(200).optional(),
});
export type AddUserMessageInput = z.input<typeof AddUserMessageInput>;

/**
 * Adds the requester's (or a CC's) message to the ticket (portal reply, or a reply by email). A message
 * marks the ticket unanswered; on a closed ticket it reopens it when the setting allows; on a ticket
 * waiting on the requester it ends the wait (status open, the SLA clock runs again). A message to
 * a ticket merged into another is added there (`ticket`: the ticket it was added to).
 * @throws ValidationFailed, NotFound, InvalidTransition (REOPEN_DISABLED)
 */
/**
 * The next-response due date a requester's message at `now` starts on ticket `t` (as it is after the
 * message's status change), with the due date that applies: only once the ticket has had its first
 * response, and not while an older message already awaits a reply (the oldest one counts). Nothing to
 * write when its SLA plan has no next-response target (one statement to learn that).
 */
async function nextResponseDue(trx: Knex.Transaction, t: any, now: Date): Promise<Record<string, unknown>> {
  if (!t.first_response_at || t.next_response_due_at || !t.sla_plan_id) return {};
  const { nextResponseDueAt } = await computeSlaDueDates(trx, t.sla_plan_id, t.department_id ?? null, dbDate(t.sla_started_at) ?? now, { awaitingSince: now });
  if (!nextResponseDueAt) return {};
  return { next_response_due_at: toDbDate(nextResponseDueAt), due_at: toDbDate(ticketDue(t, { nextResponseDue: nextResponseDueAt, paused: false })) };
}

export async function addUserMessage(ctx: ServiceContext, raw: AddUserMessageInput, files: UploadedFile[] = []): Promise<{ entryId: number; reopened: boolean; ticket: { id: number; number: string; user_id: number } }> {
  const input = parseInput(AddUserMessageInput, raw);
  const settings = await getSettings(ctx.db);
  checkAttachments(files, settings);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    // A ticket merged into another: the message goes on there (whoever may write on one may on the other).
    const t = await followMerges(trx, await loadTicketFor(trx, ctx.actor, { id: input.ticketId }, { forUpdate: true }), { forUpdate: true });
    const reopen = t.state === 'closed';
    if (reopen && !settings.reopen_on_user_reply) throw new InvalidTransition('This ticket is closed. Please open a new ticket.', 'REOPEN_DISABLED');
    const now = ctx.clock();
    const ts = toDbDate(now);
    // The poster: the requester, or a CC writing on the portal or by mail (the actor); the requester for the system.
    const posterId = ctx.actor.kind === 'user' ? ctx.actor.id : t.user_id;
    const user = await trx('users').where({ id: posterId }).first('name', 'is_banned');
    // A banned user writes no more (mail from a banned address is refused before it gets here).
    if (ctx.actor.kind === 'user' && dbBool(user?.is_banned)) throw new Forbidden('Messages from this address are not accepted.', 'USER_BANNED');
    const [entryId] = await trx('thread_entries').insert({
      ticket_id: t.id, kind: 'message', user_id: posterId, poster_name: user?.name ?? null, body: input.message, source: input.source,
      message_id: input.messageId ?? null, created_at: ts,
    });
    await storeAttachments(trx, t.id, entryId, files, now);
    // The answer reopens a closed ticket (the SLA clock starts afresh) or ends a wait for it (the clock runs on).
    const change = reopen || t.status === 'pending' ? await statusChange(trx, t, 'open', now) : null;
    const nextResponse = await nextResponseDue(trx, { ...t, ...change?.patch }, now);
    await trx('tickets').where({ id: t.id }).update({ ...change?.patch, ...nextResponse, is_answered: false, last_message_at: ts, updated_at: ts, version: t.version + 1 });
    const events: Parameters<typeof recordTicketEvents>[3] = [['message', { entryId, userId: posterId, source: input.source }]];
    if (change) events.push([change.event, { ...change.data, by: 'user_reply', userId: posterId }]);
    await recordTicketEvents(tctx, trx, t.id, events);
    await notifyTicket(tctx, trx, { kind: 'user_message', ticketId: t.id, entryId, copiedTo: input.copiedTo });
    return { entryId, reopened: reopen, ticket: { id: t.id as number, number: t.number as string, user_id: t.user_id as number } };
  });
}
