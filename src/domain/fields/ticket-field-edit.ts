/** An agent (or an API key that manages tickets) changes a ticket's custom field answers (the ticket page's "Custom fields" form; POST /api/v1/tickets/:number/fields). */
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { inTransaction, withDb } from '../context.ts';
import type { FieldErrors } from '../errors.ts';
import { getSettings } from '../settings/settings-service.ts';
import { parseInput } from '../validation.ts';
import { loadForAction, saveTicket, TicketRef } from '../tickets/ticket-agent-common.ts';
import type { TicketActionResult } from '../tickets/ticket-agent-service.ts';
import { recordTicketEvent } from '../tickets/ticket-events.ts';
import type { TicketField } from './ticket-field-service.ts';
import { answerText, appliesTo, fieldInputName, fieldsFromForm, readAnswers, throwIfErrors, ticketFieldDefs } from './ticket-field-values.ts';

export const SetTicketFieldsInput = z.object(TicketRef);
export type SetTicketFieldsInput = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The fields an agent may edit on a ticket: enabled ones of its topic, and enabled ones it already has an answer to. */
export function editableFields(fields: TicketField[], topicId: number | null, answered: { has(id: number): boolean }): TicketField[] {
  return fields.filter((f) => f.isActive && (appliesTo(f, topicId) || answered.has(f.id)));
}

/**
 * Sets the answers to the editable fields (an empty one removes the answer); required fields may be
 * left empty by agents. Version-checked like every property change; one history event lists each
 * change with the field's label (readable after a rename or delete). Nothing changed → `changed` false.
 * @throws ValidationFailed (cf_<key>), NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (TICKET_MERGED)
 */
export async function setTicketFields(ctx: ServiceContext, raw: SetTicketFieldsInput): Promise<TicketActionResult> {
  const input = parseInput(SetTicketFieldsInput, raw);
  const defs = await ticketFieldDefs(ctx.db, await getSettings(ctx.db));
  return inTransaction(ctx, async (trx) => {
    const t = await loadForAction(ctx, trx, input, 'ticket.edit');
    const rows = await trx('ticket_field_values').where({ ticket_id: t.id }).select('field_id', 'value');
    const current = new Map<number, string>(rows.map((r: any) => [Number(r.field_id), String(r.value)]));
    // The form sends every editable field (cf_<key>; an absent checkbox is unticked); the API a `fields`
    // object with the ones to change (null or '' clears one).
    const api = isObject(raw.fields);
    const given = api ? (raw.fields as Record<string, unknown>) : fieldsFromForm(raw);
    const editable = editableFields(defs, t.topic_id ?? null, current).filter((f) => !api || Object.hasOwn(given, f.name));
    const errors: FieldErrors = {};
    const answers = new Map(readAnswers(editable, 'agent', given, errors, api ? (f) => `fields.${f.name}` : fieldInputName).map((a) => [a.fieldId, a.value]));
    throwIfErrors(errors);
    const changed = editable.filter((f) => answers.get(f.id) !== current.get(f.id));
    if (!changed.length) return { ticketId: t.id, version: Number(t.version), changed: false };
    const ids = changed.map((f) => f.id);
    await trx('ticket_field_values').where({ ticket_id: t.id }).whereIn('field_id', ids).delete();
    const fresh = changed.filter((f) => answers.has(f.id)).map((f) => ({ ticket_id: t.id, field_id: f.id, value: answers.get(f.id)! }));
    if (fresh.length) await trx('ticket_field_values').insert(fresh);
    await saveTicket(trx, t, {}, ctx.clock());
    const text = (f: TicketField, v: string | undefined) => (v === undefined ? null : answerText(f, v));
    await recordTicketEvent(withDb(ctx, trx), trx, t.id, 'fields_changed', { changes: changed.map((f) => ({ field: f.label, from: text(f, current.get(f.id)), to: text(f, answers.get(f.id)) })) });
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}
