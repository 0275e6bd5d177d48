/** Reading a ticket's CCs along with the ticket (no statement of their own); see ticket-collaborators.ts. */
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
