/** Public ticket numbers: random digits of a chosen length (default), or sequential. Never the row id. */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Settings } from '../settings/settings-service.ts';

/** A number not yet used. Random: retries on collision; sequential: an atomic counter in `sequences`. */
export async function nextTicketNumber(trx: Knex.Transaction, settings: Pick<Settings, 'ticket_number_format' | 'ticket_number_length'>): Promise<string> {
  if (settings.ticket_number_format === 'sequential') {
    const updated = await trx('sequences').where({ name: 'ticket_number' }).increment('value', 1);
    if (!updated) await trx('sequences').insert({ name: 'ticket_number', value: 1 });
    const row = await trx('sequences').where({ name: 'ticket_number' }).first('value');
    return String(row.value).padStart(settings.ticket_number_length, '0');
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const len = settings.ticket_number_length + Math.floor(attempt / 10); // grow if the space is crowded
    const first = crypto.randomInt(1, 10);
    let n = String(first);
    while (n.length < len) n += String(crypto.randomInt(0, 10));
    if (!(await trx('tickets').where({ number: n }).first('id'))) return n;
  }
  throw new Error('Could not find a free ticket number');
}
