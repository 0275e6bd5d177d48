/** A ticket opened by an agent on behalf of a user (phone call, walk-in, chat, email, other). */
import { z } from 'zod';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { DomainError, ValidationFailed, type FieldErrors } from '../errors.ts';
import { checkbox, optionalId, optionalText, parseInput } from '../validation.ts';
import type { UploadedFile } from './attachment-service.ts';
import { assertStaff } from './ticket-agent-common.ts';
import { assertMay } from './ticket-policy.ts';
import { addInternalNote, replyToTicket } from './ticket-agent-service.ts';
import { addCollaboratorsOnOpen, parseAddressList } from './ticket-collaborators.ts';
import { OpenTicketInput, openTicket, type OpenedTicket } from './ticket-service.ts';
import { answersForNewTicket, fieldsFromForm } from '../fields/ticket-field-values.ts';
import { getSettings } from '../settings/settings-service.ts';

export const OpenTicketForUserExtras = z.object({
  /** Email the user (auto-response with the number, and the first reply). */
  notifyUser: checkbox,
  /** An optional first reply to the user, posted right after the user's message. */
  reply: optionalText(100_000, 'Reply'),
  /** An optional internal note. */
  note: optionalText(100_000, 'Internal note'),
  /** People to copy on the ticket (CCs): addresses separated by commas or lines. */
  cc: optionalText(4_000, 'CCs'),
});
export type OpenTicketForUserInput = Record<string, unknown>;

/** The fields of openTicket an agent's form may set (not ip, extra, messageId…). */
const FIELDS = ['email', 'name', 'phone', 'topicId', 'subject', 'message', 'source', 'departmentId', 'priorityId', 'slaPlanId', 'assigneeId'] as const;

function collect(errors: FieldErrors, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    Object.assign(errors, err.fields);
  }
}

/**
 * Finds or creates the user by email and opens the ticket with the agent's choices (topic,
 * department, priority, SLA, source, assignee), then its CCs and the first reply and/or internal
 * note in the same transaction. All field errors are reported at once (a refused CC after the rest).
 * @throws ValidationFailed (also for what the agent's role refuses: departmentId, assigneeId, reply/cc), Forbidden
 */
export async function openTicketForUser(ctx: ServiceContext, raw: OpenTicketForUserInput, files: UploadedFile[] = []): Promise<OpenedTicket> {
  assertStaff(ctx.actor);
  const base: Record<string, unknown> = {};
  for (const f of FIELDS) if (raw[f] !== undefined) base[f] = raw[f];
  // Custom fields (cf_<key>): those of the chosen topic count (openTicket checks them).
  base.fields = fieldsFromForm(raw);
  const errors: FieldErrors = {};
  let extras: z.output<typeof OpenTicketForUserExtras> = { notifyUser: false };
  collect(errors, () => parseInput(OpenTicketInput, base));
  collect(errors, () => (extras = parseInput(OpenTicketForUserExtras, raw)));
  if (Object.keys(errors).length) {
    // The custom fields' problems too (openTicket reports them when the rest is valid).
    await answersForNewTicket(ctx, await getSettings(ctx.db), optionalId.safeParse(base.topicId).data, base.fields, errors);
    throw new ValidationFailed(errors);
  }
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const opened = await openTicket(tctx, { ...(base as OpenTicketInput), notifyUser: extras.notifyUser, alertAgents: true }, files).catch((err: unknown) => {
      if (err instanceof DomainError && err.code === 'USER_BANNED') throw new ValidationFailed({ email: 'Tickets from this address are not accepted (banned).' });
      if (err instanceof DomainError && err.code === 'DEPARTMENT_FORBIDDEN')
        throw new ValidationFailed({ departmentId: base.departmentId ? 'Choose one of your departments' : 'The help topic sends its tickets to a department that is not yours: choose one of your departments' });
      if (err instanceof DomainError && err.code === 'PERMISSION_DENIED') throw new ValidationFailed({ departmentId: `${err.message} Choose another department.` });
      throw err;
    });
    // CCs before the first reply, so that it reaches them too (both need the role's ticket.reply: a refusal is the reply's field error, nothing is opened).
    const mayReply = (err: unknown) => {
      throw err instanceof DomainError && err.code === 'PERMISSION_DENIED' ? new ValidationFailed({ [extras.reply ? 'reply' : 'cc']: err.message }) : err;
    };
    if (extras.cc || extras.reply) await assertMay(trx, ctx.actor, 'ticket.reply', opened.departmentId).catch(mayReply);
    if (extras.cc) await addCollaboratorsOnOpen(tctx, trx, opened, parseAddressList(extras.cc));
    if (extras.reply) await replyToTicket(tctx, { ticketId: opened.id, message: extras.reply, notifyUser: extras.notifyUser });
    if (extras.note) await addInternalNote(tctx, { ticketId: opened.id, note: extras.note });
    return opened;
  });
}
