/** End users (requesters), known by email. */
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import { isUniqueViolation } from '../../db/dialect.ts';

export interface User {
  id: number;
  email: string;
  name: string;
  phone: string | null;
}

/**
 * Finds the user by email (lower-cased), or creates them. A known user's name is kept; an empty phone
 * is filled in. Safe against two requests creating the same user at once.
 */
export async function findOrCreateUser(trx: Knex | Knex.Transaction, input: { email: string; name: string; phone?: string | null }, now: Date): Promise<User> {
  const email = input.email.trim().toLowerCase();
  const existing = await trx('users').where({ email }).first();
  if (existing) {
    if (input.phone && !existing.phone) await trx('users').where({ id: existing.id }).update({ phone: input.phone, updated_at: toDbDate(now) });
    return { id: existing.id, email, name: existing.name, phone: existing.phone ?? input.phone ?? null };
  }
  try {
    const [id] = await trx('users').insert({ email, name: input.name, phone: input.phone ?? null, is_banned: false, created_at: toDbDate(now), updated_at: toDbDate(now) });
    return { id, email, name: input.name, phone: input.phone ?? null };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const row = await trx('users').where({ email }).first();
    return { id: row.id, email, name: row.name, phone: row.phone };
  }
}

/** True when `email` matches the ban list (exact address or '@domain'). */
export async function isBanned(db: Knex | Knex.Transaction, email: string): Promise<boolean> {
  const e = email.toLowerCase();
  const domain = '@' + e.split('@')[1];
  // One statement: a matching ban pattern, or the user's own ban flag.
  const [row] = await db.select(
    db('bans').whereIn('pattern', [e, domain]).select('id').limit(1).as('ban_id'),
    db('users').where({ email: e }).select('is_banned').limit(1).as('user_banned'),
  );
  return Boolean(row?.ban_id) || Boolean(row && Number(row.user_banned));
}
