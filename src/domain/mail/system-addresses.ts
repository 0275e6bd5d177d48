/** The addresses the help desk itself receives mail at: never a requester or a CC (mail loops). */
import type { Knex } from 'knex';
import type { Settings } from '../settings/settings-service.ts';

/** The inbound address of the settings and every department's address, lower-cased. */
export async function systemAddresses(db: Knex | Knex.Transaction, s: Pick<Settings, 'inbound_address'>): Promise<Set<string>> {
  const depts: string[] = await db('departments').whereNotNull('email_address').pluck('email_address');
  return new Set([s.inbound_address, ...depts].filter(Boolean).map((a) => String(a).toLowerCase()));
}
