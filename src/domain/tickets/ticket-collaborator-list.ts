/** Reading a ticket's CCs: along with the ticket (no statement of their own), and who takes part in it; see ticket-collaborators.ts. */
import type { Knex } from 'knex';
import { jsonObject, sqlJsonObjectAgg } from '../../db/dialect.ts';

type Db = Knex | Knex.Transaction;

export interface Collaborator {
  id: number;
  email: string;
  name: string;
}

/**
 * The CCs of the ticket `ticketId` (a column of the caller's query) as one JSON column `collaborators`
 * (user id → [email, name]), so a ticket read carries them without a statement of its own.
 */
export function collaboratorsColumn(db: Db, ticketId: Knex.Ref<string, any>): Knex.Raw {
  const q = db('ticket_collaborators as tc').join('users as cu', 'cu.id', 'tc.user_id').where('tc.ticket_id', ticketId).select(sqlJsonObjectAgg(db, 'cu.id', ['cu.email', 'cu.name']));
  return db.raw('(?) as collaborators', [q]);
}

/** Reads the column built by collaboratorsColumn, by name. */
export function collaboratorsFrom(column: unknown): Collaborator[] {
  return Object.entries(jsonObject(column) as Record<string, [string, string]>)
    .map(([uid, [mail, name]]) => ({ id: Number(uid), email: String(mail), name: String(name) }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.email.localeCompare(b.email));
}

/** EXISTS-able: the user (a column, or an id) is a CC of the ticket in column `ticketCol`. */
export function ccExists(db: Db, ticketCol: string, user: string | number): Knex.QueryBuilder {
  const q = db('ticket_collaborators as tc').whereRaw('?? = ??', ['tc.ticket_id', ticketCol]).select('tc.ticket_id');
  return typeof user === 'number' ? q.where('tc.user_id', user) : q.whereRaw('?? = ??', ['tc.user_id', user]);
}

/**
 * The ticket `number` and the user of `email`, when that user takes part in it (its requester or a
 * CC): the portal's email + number check, and a mail's subject token. `user_id` is that user.
 */
export function ticketOfParticipant(db: Db, number: string, email: string): Promise<{ id: number; number: string; subject: string; user_id: number; email: string; name: string } | undefined> {
  return db('tickets as t').join('users as u', 'u.email', db.raw('?', [email.toLowerCase()])).where('t.number', number)
    .andWhere((q) => q.whereRaw('?? = ??', ['u.id', 't.user_id']).orWhereExists(ccExists(db, 't.id', 'u.id')))
    .first('t.id', 't.number', 't.subject', 'u.id as user_id', 'u.email', 'u.name');
}
