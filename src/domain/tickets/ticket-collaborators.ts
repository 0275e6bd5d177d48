/**
 * CCs (osTicket's collaborators): other people who follow a ticket besides its requester. A CC is a
 * user (known by email). They get the agents' replies (unless the agent emails the requester only)
 * and the closing notice, each with their own access link, and a copy of what the requester or
 * another CC writes; they may read and answer the ticket on the portal and by email, never see
 * internal notes, and cannot close it. Agents add and remove them on the ticket page; mail adds the
 * other people a requester writes to (To and Cc; see addCollaboratorsFromMail).
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import { inTransaction, withDb, type ServiceContext } from '../context.ts';
import { ValidationFailed } from '../errors.ts';
import { systemAddresses } from '../mail/system-addresses.ts';
import { getSettings } from '../settings/settings-service.ts';
import { checkSender, findOrCreateUser } from '../users/user-service.ts';
import { checkbox, email, id, optionalText, parseInput } from '../validation.ts';
import { searchText } from './ticket-search-index.ts';
import { loadForAction, saveTicket, TicketRef } from './ticket-agent-common.ts';
import { recordTicketEvent } from './ticket-events.ts';
import type { TicketActionResult } from './ticket-agent-service.ts';

type Db = Knex | Knex.Transaction;

/** A ticket follows at most this many CCs (a mail with a long Cc list adds the first ones). */
export const MAX_COLLABORATORS = 20;

/**
 * Why `address` cannot follow a ticket, or null when it can: the help desk's own addresses (mail
 * loops), addresses that take no mail (noreply@, mailer-daemon@…), agents' addresses (agents follow
 * tickets in the panel) and banned senders.
 */
async function refusal(db: Db, address: string, system: Set<string>): Promise<string | null> {
  if (system.has(address)) return 'That is one of the help desk’s own addresses';
  if (/^(no-?reply|do-?not-?reply|mailer-daemon|postmaster)@/i.test(address)) return 'That address does not receive mail';
  if (await db('agents').where({ email: address }).first('id')) return 'That is an agent’s address: agents follow tickets in the panel';
  if ((await checkSender(db, address)).banned) return 'Mail from this address is not accepted (banned)';
  return null;
}

type Person = { address: string; name?: string };

/**
 * Adds `people` as CCs of `ticket` in the caller's transaction, one `cc_added` event each (with
 * `by`), up to MAX_COLLABORATORS in all; a new address becomes a user (a known user keeps their
 * name). Someone who may not follow it (the requester, the help desk's own addresses, an agent, a
 * banned sender, a CC already, one too many) is refused with ValidationFailed on `field`, or, without
 * a `field` (mail), skipped. Returns how many were added.
 */
async function addPeople(ctx: ServiceContext, trx: Knex.Transaction, ticket: { id: number; user_id: number }, people: Person[], opts: { field?: string; by?: 'email' | 'merge' | 'organization' | 'requester'; system?: Set<string> } = {}): Promise<number> {
  const system = opts.system ?? (await systemAddresses(trx, await getSettings(trx)));
  const requester = await trx('users').where({ id: ticket.user_id }).first('email');
  const current = new Set<string>((await trx('ticket_collaborators as tc').join('users as u', 'u.id', 'tc.user_id').where('tc.ticket_id', ticket.id).pluck('u.email')).map(String));
  const now = ctx.clock();
  const refuse = (why: string) => {
    if (opts.field) throw new ValidationFailed({ [opts.field]: why });
  };
  let added = 0;
  for (const p of people) {
    const address = p.address.trim().toLowerCase();
    if (address === requester?.email) {
      refuse(`${address} is the requester’s address: they get every reply already`);
      continue;
    }
    if (current.has(address)) {
      refuse(`${address} is already a CC of this ticket`);
      continue;
    }
    if (current.size >= MAX_COLLABORATORS) {
      refuse(`A ticket can have at most ${MAX_COLLABORATORS} CCs`);
      break;
    }
    const why = email.safeParse(address).success ? await refusal(trx, address, system) : 'Enter a valid email address';
    if (why) {
      refuse(opts.field ? `${address}: ${why}` : why);
      continue;
    }
    const user = await findOrCreateUser(trx, { email: address, name: (p.name ?? '').trim().slice(0, 120) || address.split('@')[0] }, now);
    await trx('ticket_collaborators').insert({ ticket_id: ticket.id, user_id: user.id, created_at: toDbDate(now) });
    await recordTicketEvent(ctx, trx, ticket.id, 'cc_added', { ccUserId: user.id, name: user.name, email: user.email, ...(opts.by ? { by: opts.by } : {}) });
    current.add(address);
    added += 1;
  }
  return added;
}

export const AddCollaboratorInput = z.object({ ...TicketRef, email, name: optionalText(120, 'Name') });
export type AddCollaboratorInput = z.input<typeof AddCollaboratorInput>;

/**
 * An agent adds a CC by email on the ticket page. Event `cc_added`.
 * @throws ValidationFailed (the requester, already a CC, too many, refused address), NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function addCollaborator(ctx: ServiceContext, raw: AddCollaboratorInput): Promise<TicketActionResult> {
  const input = parseInput(AddCollaboratorInput, raw);
  return inTransaction(ctx, async (trx) => {
    const t = await loadForAction(ctx, trx, input, 'ticket.reply');
    await addPeople(withDb(ctx, trx), trx, t, [{ address: input.email, name: input.name }], { field: 'email' });
    await saveTicket(trx, t, {}, ctx.clock());
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

/** A list of addresses typed into one field (commas, semicolons, spaces or lines between them), "Name <address>" allowed. */
export function parseAddressList(text: string | undefined): Person[] {
  return String(text ?? '')
    .split(/[,;\n]+/)
    .map((part) => part.trim())
    .filter(Boolean)
    .flatMap((part): Person[] => {
      const m = /^(.*)<([^<>]+)>$/.exec(part);
      if (m) return [{ address: m[2].trim(), name: m[1].trim().replace(/^"|"$/g, '') }];
      return part.split(/\s+/).map((address) => ({ address }));
    });
}

/**
 * CCs typed on the agent's New ticket form (field `cc`), added to the ticket just opened in the
 * caller's transaction. @throws ValidationFailed (field `cc`) naming the address refused
 */
export async function addCollaboratorsOnOpen(ctx: ServiceContext, trx: Knex.Transaction, ticket: { id: number; userId: number }, people: Person[]): Promise<number> {
  return addPeople(ctx, trx, { id: ticket.id, user_id: ticket.userId }, people, { field: 'cc' });
}

/**
 * Takes `userId` off the CCs of the ticket in the caller's transaction, with event `cc_removed` (and
 * `by`). False when they were not a CC (removed meanwhile): nothing happens.
 */
export async function dropCollaborator(ctx: ServiceContext, trx: Knex.Transaction, ticketId: number, userId: number, by?: 'requester'): Promise<boolean> {
  const user = Number.isInteger(userId) && userId > 0 ? await trx('users').where({ id: userId }).first('id', 'name', 'email') : undefined;
  const n = user ? await trx('ticket_collaborators').where({ ticket_id: ticketId, user_id: user.id }).del() : 0;
  if (!n) return false;
  await recordTicketEvent(ctx, trx, ticketId, 'cc_removed', { ccUserId: user.id, name: user.name, email: user.email, ...(by ? { by } : {}) });
  return true;
}

export const RemoveCollaboratorInput = z.object({ ...TicketRef, userId: id });
export type RemoveCollaboratorInput = z.input<typeof RemoveCollaboratorInput>;

/**
 * An agent removes a CC (they are mailed nothing more and lose access to the ticket). Someone who is
 * not a CC (removed meanwhile) changes nothing. Event `cc_removed`.
 * @throws ValidationFailed, NotFound, Forbidden, Conflict (TICKET_CHANGED)
 */
export async function removeCollaborator(ctx: ServiceContext, raw: RemoveCollaboratorInput): Promise<TicketActionResult> {
  const input = parseInput(RemoveCollaboratorInput, raw);
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock();
    const t = await loadForAction(ctx, trx, input, 'ticket.reply');
    if (!(await dropCollaborator(withDb(ctx, trx), trx, t.id, input.userId))) return { ticketId: t.id, version: Number(t.version), changed: false };
    await saveTicket(trx, t, {}, now);
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

/**
 * The other people a requester's mail went to (its To and Cc), added as CCs of the ticket in the
 * caller's transaction (event `cc_added` by: 'email'): not the requester, the help desk's own
 * addresses (settings, departments, the mail's Delivered-To; with none known, only the Cc is read),
 * agents, banned senders or those already CCs; up to MAX_COLLABORATORS in all. Returns how many.
 */
export async function addCollaboratorsFromMail(ctx: ServiceContext, trx: Knex.Transaction, ticket: { id: number; user_id: number }, mail: { to: Person[]; cc: Person[]; deliveredTo: string[] }): Promise<number> {
  const system = await systemAddresses(trx, await getSettings(trx));
  for (const a of mail.deliveredTo) system.add(a.toLowerCase());
  // Until the help desk knows an address of its own, the To of a mail is taken for its address: only the Cc is read.
  return addPeople(ctx, trx, ticket, system.size ? [...mail.to, ...mail.cc] : mail.cc, { by: 'email', system });
}

/**
 * A merged ticket's requester and CCs, added as CCs of the ticket it was merged into (event
 * `cc_added` by: 'merge'; its requester and those already CCs are skipped). Returns how many.
 */
export async function addCollaboratorsFromMerge(ctx: ServiceContext, trx: Knex.Transaction, from: { id: number; user_id: number }, into: { id: number; user_id: number }): Promise<number> {
  const people: Person[] = await trx('users').where('id', from.user_id).orWhereIn('id', trx('ticket_collaborators').where({ ticket_id: from.id }).select('user_id'))
    .orderBy('id').select('email as address', 'name');
  return addPeople(ctx, trx, into, people, { by: 'merge' });
}

/**
 * Members of the requester's organization copied on their new ticket (organization-service.ts
 * copyOrganizationOnTicket; event `cc_added` by: 'organization'; those who may not follow it skipped).
 */
export async function addCollaboratorsFromOrganization(ctx: ServiceContext, trx: Knex.Transaction, ticket: { id: number; user_id: number }, people: Person[]): Promise<number> {
  return addPeople(ctx, trx, ticket, people, { by: 'organization' });
}

export const ChangeRequesterInput = z.object({ ...TicketRef, email, name: optionalText(120, 'Name'), keepAsCc: checkbox.default(false) });
export type ChangeRequesterInput = z.input<typeof ChangeRequesterInput>;

/**
 * An agent hands the ticket to another person (osTicket's "Change owner": an assistant wrote for
 * their manager, a shared mailbox for a colleague). The new requester is found or created by email
 * (a known user keeps their name), leaves the CCs if they were one, and gets the replies and the
 * access from now on; the old one stays on as a CC when `keepAsCc`. The queue's requester name and
 * search text follow. Nothing is mailed. Event `requester_changed`.
 * @throws ValidationFailed (the same person, a refused address), NotFound, Forbidden, Conflict (TICKET_CHANGED), InvalidTransition (TICKET_MERGED)
 */
export async function changeRequester(ctx: ServiceContext, raw: ChangeRequesterInput): Promise<TicketActionResult> {
  const input = parseInput(ChangeRequesterInput, raw);
  return inTransaction(ctx, async (trx) => {
    const tctx = withDb(ctx, trx);
    const now = ctx.clock();
    const t = await loadForAction(ctx, trx, input, 'ticket.edit');
    const old = await trx('users').where({ id: t.user_id }).first('id', 'name', 'email');
    if (old?.email === input.email) throw new ValidationFailed({ email: `${input.email} is the requester already` });
    const why = await refusal(trx, input.email, await systemAddresses(trx, await getSettings(trx)));
    if (why) throw new ValidationFailed({ email: why });
    const user = await findOrCreateUser(trx, { email: input.email, name: input.name || input.email.split('@')[0] }, now);
    await trx('ticket_collaborators').where({ ticket_id: t.id, user_id: user.id }).del();
    await saveTicket(trx, t, { user_id: user.id, requester_name: user.name, search_text: searchText(String(t.subject), user.name), search_indexed: false }, now);
    await recordTicketEvent(tctx, trx, t.id, 'requester_changed', { from: old ? { id: old.id, name: old.name, email: old.email } : null, to: { id: user.id, name: user.name, email: user.email }, keptAsCc: input.keepAsCc });
    if (input.keepAsCc && old) await addPeople(tctx, trx, { id: t.id, user_id: user.id }, [{ address: old.email, name: old.name }]);
    return { ticketId: t.id, version: Number(t.version) + 1, changed: true };
  });
}

/**
 * The requester copies someone in from the portal (when settings.portal_allow_cc), in the caller's
 * transaction: the agents' rules (ValidationFailed on `ccEmail`); event `cc_added` by: 'requester'.
 */
export async function addCollaboratorByRequester(ctx: ServiceContext, trx: Knex.Transaction, ticket: { id: number; user_id: number }, person: Person): Promise<number> {
  return addPeople(ctx, trx, ticket, [person], { field: 'ccEmail', by: 'requester' });
}
