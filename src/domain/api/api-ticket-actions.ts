/**
 * Ticket actions of the JSON API (/api/v1/tickets/:number/<action>): the agent action services
 * (docs/TEAM-CONTRACTS.md "Agent ticket actions") run with the API key as actor, which acts like
 * an admin and posts as "API". The ticket is named by its public number.
 */
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { BadRequest } from '../errors.ts';
import { deleteTicket, type TicketCounts } from '../tickets/ticket-delete.ts';
import { parseInput } from '../validation.ts';
import { loadTicketFor } from '../tickets/ticket-policy.ts';
import {
  addInternalNote, assignTicket, changeTicketPriority, changeTicketSla, changeTicketStatus, releaseTicket, replyToTicket, transferTicket,
} from '../tickets/ticket-agent-service.ts';
import { setTicketFields } from '../fields/ticket-field-edit.ts';
import { getTicketForApi, type ApiTicket } from './api-ticket-queries.ts';
import { assertApiKeyMay } from './api-ticket-service.ts';

type Action = (ctx: ServiceContext, input: any) => Promise<{ version: number; changed: boolean; entryId?: number }>;

const ACTIONS: Record<string, Action> = {
  replies: replyToTicket,
  notes: addInternalNote,
  status: changeTicketStatus,
  assignee: (ctx, input) => (input.agentId === null && input.teamId === null ? releaseTicket(ctx, { ...input, which: 'all' }) : assignTicket(ctx, input)),
  department: transferTicket,
  priority: changeTicketPriority,
  sla: changeTicketSla,
  fields: setTicketFields,
};
export const API_TICKET_ACTIONS = Object.keys(ACTIONS);

export interface ApiActionResult {
  ticket: ApiTicket;
  changed: boolean;
  entryId?: number;
}

/**
 * Runs `action` on the ticket `number` with the JSON body as input (the URL names the ticket).
 * @throws Forbidden (API_KEY_NOT_AUTHORIZED), NotFound, ValidationFailed, Conflict (TICKET_CHANGED), InvalidTransition
 */
export async function runTicketActionForApi(ctx: ServiceContext, number: string, action: string, body: unknown): Promise<ApiActionResult> {
  assertApiKeyMay(ctx.actor, 'manage');
  const run = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
  if (!run) throw new BadRequest('Unknown ticket action', 'UNKNOWN_ACTION');
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) throw new BadRequest('The request body must be a JSON object', 'JSON_NOT_OBJECT');
  const t = await loadTicketFor(ctx.db, ctx.actor, { number: String(number).slice(0, 20) });
  const r = await run(ctx, { ...(body as object | undefined), ticketId: t.id });
  const { thread: _thread, ...ticket } = await getTicketForApi(ctx, t.number);
  return { ticket, changed: r.changed, ...(r.entryId ? { entryId: r.entryId } : {}) };
}

/** `?ban=true`: also put the requester's address on the ban list; anything but true/false is refused. */
const DeleteQuery = z.object({ ban: z.enum(['true', 'false'], { error: 'ban: true or false' }).optional() });

export interface ApiDeleteResult {
  number: string;
  deleted: true;
  counts: TicketCounts;
  /** Numbers of tickets that had been merged into it (they stay). */
  mergedFrom: string[];
  ban: 'added' | 'already' | null;
}

/**
 * DELETE /api/v1/tickets/:number: deletes the ticket for good (ticket-delete.ts), by a key that
 * manages tickets. @throws Forbidden (API_KEY_NOT_AUTHORIZED), NotFound, ValidationFailed
 */
export async function deleteTicketForApi(ctx: ServiceContext, number: string, query: { ban?: string }): Promise<ApiDeleteResult> {
  assertApiKeyMay(ctx.actor, 'manage');
  const { ban } = parseInput(DeleteQuery, query);
  const t = await loadTicketFor(ctx.db, ctx.actor, { number: String(number).slice(0, 20) });
  const r = await deleteTicket(ctx, { ticketId: t.id, ban: ban === 'true' });
  return { number: r.number, deleted: true, counts: r.counts, mergedFrom: r.mergedFrom, ban: r.ban };
}
