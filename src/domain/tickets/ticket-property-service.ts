/** Ticket properties an agent sets: priority, SLA plan (recomputes the due date) and a manual due date. */
import { z } from 'zod';
import { DateTime } from 'luxon';
import { dbDate } from '../../db/dialect.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { id, optionalId, parseInput } from '../validation.ts';
import { dueFields, overdueCleared, loadForAction, nameOf, saveTicket, slaDueDatesFor, TicketRef } from './ticket-agent-common.ts';
import type { TicketActionResult } from './ticket-agent-service.ts';
import { recordTicketEvent, recordTicketEvents } from './ticket-events.ts';

export const ChangeTicketPriorityInput = z.object({ ...TicketRef, priorityId: id });
export type ChangeTicketPriorityInput = z.input<typeof ChangeTicketPriorityInput>;

/**
 * Sets the priority. The same priority again is not an error (`changed` false).
 * @throws ValidationFailed (priorityId), NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function changeTicketPriority(ctx: ServiceContext, raw: ChangeTicketPriorityInput): Promise<TicketActionResult> {
  const input = parseInput(ChangeTicketPriorityInput, raw);
  return inTransaction(ctx, async (trx) => {
    const t = await loadForAction(ctx, trx, input, 'ticket.edit');
    const p = await trx('priorities').where({ id: input.priorityId, is_active: true }).first('id', 'name');
    if (!p) throw new ValidationFailed({ priorityId: 'Choose a priority from the list' });
    if (p.id === t.priority_id) return { ticketId: t.id, version: Number(t.version), changed: false };
    await saveTicket(trx, t, { priority_id: p.id }, ctx.clock());
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, 'priority_changed', { fromId: t.priority_id, from: await nameOf(trx, 'priorities', t.priority_id), toId: p.id, to: p.name });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const ChangeTicketSlaInput = z.object({ ...TicketRef, slaPlanId: optionalId });
export type ChangeTicketSlaInput = z.input<typeof ChangeTicketSlaInput>;

/**
 * Sets the SLA plan (none = no SLA) and recomputes the SLA due date from the ticket's
 * sla_started_at. A manual due date still wins; a due date moved past now clears the overdue flag.
 * @throws ValidationFailed (slaPlanId), NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function changeTicketSla(ctx: ServiceContext, raw: ChangeTicketSlaInput): Promise<TicketActionResult> {
  const input = parseInput(ChangeTicketSlaInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    const t = await loadForAction(ctx, trx, input, 'ticket.edit');
    const planId = input.slaPlanId ?? null;
    if (planId && !(await trx('sla_plans').where({ id: planId, is_active: true }).first('id')))
      throw new ValidationFailed({ slaPlanId: 'Choose an SLA plan from the list' });
    if (planId === (t.sla_plan_id ?? null)) return { ticketId: t.id, version: Number(t.version), changed: false };
    const { dueAt: sla, ...responses } = await slaDueDatesFor(trx, t, planId, t.department_id);
    const due = dueFields(t, sla, dbDate(t.manual_due_at), now, responses);
    await saveTicket(trx, t, { sla_plan_id: planId, ...due.patch }, now);
    await recordTicketEvents(tctx, trx, t.id, [['sla_changed', {
      fromId: t.sla_plan_id, from: await nameOf(trx, 'sla_plans', t.sla_plan_id), toId: planId, to: await nameOf(trx, 'sla_plans', planId),
      slaDueAt: sla?.toISOString() ?? null, dueAt: (due.patch.due_at as string | null) ?? null,
    }], ...overdueCleared(due)]);
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

export const SetTicketDueDateInput = z.object({
  ...TicketRef,
  /** 'YYYY-MM-DDTHH:MM' in the help desk's time zone (or ISO with an offset); empty = back to the SLA due date. */
  dueAt: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string({ error: 'Enter a date and time' }).max(40).optional()),
});
export type SetTicketDueDateInput = z.input<typeof SetTicketDueDateInput>;

/**
 * Sets a due date by hand (it wins over the SLA's) or removes it. The date must be in the future.
 * @throws ValidationFailed (dueAt), NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function setTicketDueDate(ctx: ServiceContext, raw: SetTicketDueDateInput): Promise<TicketActionResult> {
  const input = parseInput(SetTicketDueDateInput, raw);
  const now = ctx.clock();
  let manual: Date | null = null;
  if (input.dueAt) {
    const { timezone } = await getSettings(ctx.db);
    const dt = DateTime.fromISO(input.dueAt, { zone: timezone });
    if (!dt.isValid) throw new ValidationFailed({ dueAt: 'Enter a valid date and time' });
    if (dt.toMillis() <= now.getTime()) throw new ValidationFailed({ dueAt: 'Choose a date and time in the future' });
    manual = dt.toJSDate();
  }
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const t = await loadForAction(ctx, trx, input, 'ticket.edit');
    const before = dbDate(t.manual_due_at);
    if ((before?.getTime() ?? null) === (manual?.getTime() ?? null)) return { ticketId: t.id, version: Number(t.version), changed: false };
    const due = dueFields(t, dbDate(t.sla_due_at), manual, now);
    await saveTicket(trx, t, due.patch, now);
    await recordTicketEvents(tctx, trx, t.id, [['due_changed', { from: before?.toISOString() ?? null, to: manual?.toISOString() ?? null, dueAt: due.patch.due_at ? dbDate(due.patch.due_at)!.toISOString() : null }], ...overdueCleared(due)]);
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

/** Exposed for the view: the due date to prefill the form with, in the help desk's zone. */
export function toLocalInput(d: Date | null, timezone: string): string {
  return d ? DateTime.fromJSDate(d, { zone: timezone }).toFormat("yyyy-MM-dd'T'HH:mm") : '';
}
