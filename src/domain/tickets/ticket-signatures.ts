/**
 * Signatures on replies (osTicket's): an agent's own and the ticket's department's. The reply form
 * offers the ones that are not empty; the one chosen is appended to the reply's body when it is
 * posted (replyToTicket), so the thread and the mail to the user carry it. Stored as plain text
 * (`agents.signature`, `departments.signature`; null = none), written through `signatureText`
 * (validation.ts) by the profile and the admin forms.
 */
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Actor } from '../actor.ts';
import { ValidationFailed } from '../errors.ts';
import { assertStaff } from './ticket-agent-common.ts';

export const SIGNATURE_CHOICES = ['none', 'mine', 'dept'] as const;
export type SignatureChoice = (typeof SIGNATURE_CHOICES)[number];

/** The reply's "Signature" choice; absent (or '') = none, so callers that do not know it are unchanged. */
export const signatureChoice = z.preprocess(
  (v) => (v === '' || v === null ? undefined : v),
  z.enum(SIGNATURE_CHOICES, { error: 'Choose a signature from the list: none, mine (yours) or dept (the department’s)' }).optional(),
);

/** The column alias the chosen signature is read under (see signatureColumn). */
const ALIAS = 'chosen_signature';

/**
 * The chosen signature as a column of the reply's ticket read (loadForAction: `tickets`, locked),
 * so it costs no statement of its own and is read in the reply's transaction; null for none.
 * NOTE(dialect): a scalar subquery, not a join: InnoDB's FOR UPDATE locks the rows of every joined
 * table (the department's row would be held by each reply in it until commit), not a subquery's.
 * @throws ValidationFailed (mine, for an API key or the system), Forbidden (mine, for anyone else who is not staff)
 */
export function signatureColumn(db: Knex | Knex.Transaction, actor: Actor, choice: SignatureChoice | undefined): Knex.Raw | null {
  if (!choice || choice === 'none') return null;
  if (choice === 'dept') return db.raw('(select ?? from ?? as ?? where ?? = ??) as ??', ['sd.signature', 'departments', 'sd', 'sd.id', 'tickets.department_id', ALIAS]);
  if (actor.kind !== 'agent') {
    assertStaff(actor); // whoever may not reply at all is told so first (Forbidden, as loadForAction would)
    throw new ValidationFailed({ signature: 'Only an agent has a signature of their own; choose none or dept.' });
  }
  return db.raw('(select ?? from ?? as ?? where ?? = ?) as ??', ['sa.signature', 'agents', 'sa', 'sa.id', actor.id, ALIAS]);
}

/**
 * The reply's body with the signature read by signatureColumn appended ("\n\n" + signature). An
 * empty signature (cleared since the form was shown) adds nothing.
 */
export function withSignature(body: string, row: Record<string, unknown>): string {
  const signature = typeof row[ALIAS] === 'string' ? row[ALIAS].trim() : '';
  return signature ? `${body}\n\n${signature}` : body;
}

export interface SignatureOptions {
  /** The select's options: none, then each signature that is not empty. */
  options: { value: SignatureChoice; label: string }[];
  /** Preselected: mine if I have one, else the department's, else none. */
  selected: SignatureChoice;
  /** The text each option appends (shown under the select). */
  previews: { value: SignatureChoice; label: string; text: string }[];
}

/** The reply form's "Signature" choice, from the agent's and the department's signatures. */
export function signatureOptions(mine: string | null | undefined, dept: string | null | undefined, departmentName: string): SignatureOptions {
  const previews: SignatureOptions['previews'] = [];
  if (mine?.trim()) previews.push({ value: 'mine', label: 'My signature', text: mine.trim() });
  if (dept?.trim()) previews.push({ value: 'dept', label: `Department signature (${departmentName})`, text: dept.trim() });
  return {
    options: [{ value: 'none', label: 'None' }, ...previews.map(({ value, label }) => ({ value, label }))],
    selected: previews[0]?.value ?? 'none',
    previews,
  };
}
