/** Public ticket numbers: random digits of a chosen length (default), or sequential. Never the row id. */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isUniqueViolationOf } from '../../db/dialect.ts';
import type { Settings } from '../settings/settings-service.ts';

type NumberSettings = Pick<Settings, 'ticket_number_format' | 'ticket_number_length'>;

/** Random digits, `length` of them, never starting with 0. */
function randomNumber(length: number): string {
  let n = String(crypto.randomInt(1, 10));
  while (n.length < length) n += String(crypto.randomInt(0, 10));
  return n;
}

/** The next sequential number: an atomic counter in `sequences`. */
async function nextSequentialNumber(trx: Knex.Transaction, length: number): Promise<string> {
  const updated = await trx('sequences').where({ name: 'ticket_number' }).increment('value', 1);
  if (!updated) await trx('sequences').insert({ name: 'ticket_number', value: 1 });
  const row = await trx('sequences').where({ name: 'ticket_number' }).first('value');
  return String(row.value).padStart(length, '0');
}

/**
 * Inserts the ticket `row` under a public number not used yet; returns its id and number.
 * Random numbers are not looked up first: the INSERT is the check. A unique violation of
 * tickets.number rolls back that one statement (MySQL/MariaDB and SQLite alike, the transaction
 * goes on), and another number is tried; after 10 collisions the numbers grow by a digit.
 */
export async function insertTicketWithNumber(trx: Knex.Transaction, settings: NumberSettings, row: Record<string, unknown>): Promise<{ id: number; number: string }> {
  if (settings.ticket_number_format === 'sequential') {
    const number = await nextSequentialNumber(trx, settings.ticket_number_length);
    const [id] = await trx('tickets').insert({ ...row, number });
    return { id, number };
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const number = randomNumber(settings.ticket_number_length + Math.floor(attempt / 10));
    try {
      const [id] = await trx('tickets').insert({ ...row, number });
      return { id, number };
    } catch (err) {
      if (!isUniqueViolationOf(err, 'tickets', 'number')) throw err;
    }
  }
  throw new Error('Could not find a free ticket number');
}
