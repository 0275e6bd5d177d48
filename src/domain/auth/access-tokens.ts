/**
 * Tokens that grant access (portal access links, password resets): 32 random bytes, stored as a
 * SHA-256 hash, expiring, single-use where they grant a login. An empty token never matches.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { dbDate, toDbDate } from '../../db/dialect.ts';

/** portal_access: one ticket, from mail; portal_signin: every ticket of a user, once (a sign-in link); password_reset: an agent's. */
export type TokenKind = 'portal_access' | 'portal_signin' | 'password_reset';

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

type NewToken = { kind: TokenKind; userId?: number; agentId?: number; ticketId?: number; ttlMinutes: number };

/** Creates a token and returns it (the only time it exists in clear). */
export async function createAccessToken(trx: Knex | Knex.Transaction, t: NewToken, now: Date): Promise<string> {
  return (await createAccessTokens(trx, [t], now))[0];
}

/** Creates several tokens in one INSERT (a mail to each person following a ticket) and returns them, in order. */
export async function createAccessTokens(trx: Knex | Knex.Transaction, list: NewToken[], now: Date): Promise<string[]> {
  if (!list.length) return [];
  const tokens = list.map(() => crypto.randomBytes(32).toString('base64url'));
  await trx('access_tokens').insert(list.map((t, i) => ({
    kind: t.kind, token_hash: hashToken(tokens[i]), user_id: t.userId ?? null, agent_id: t.agentId ?? null, ticket_id: t.ticketId ?? null,
    expires_at: toDbDate(new Date(now.getTime() + t.ttlMinutes * 60_000)), created_at: toDbDate(now),
  })));
  return tokens;
}

export interface AccessTokenRow {
  id: number;
  userId: number | null;
  agentId: number | null;
  ticketId: number | null;
}

/**
 * Finds a valid (unexpired, unused) token of `kind`. With `consume`, marks it used atomically so it
 * works once. The lookup is by hash (an index probe on a value the attacker cannot choose), and
 * the stored hash is compared again in constant time.
 */
export async function findAccessToken(trx: Knex | Knex.Transaction, kind: TokenKind, token: unknown, now: Date, consume: boolean): Promise<AccessTokenRow | null> {
  if (typeof token !== 'string' || !token.trim() || token.length > 200) return null;
  const hash = hashToken(token);
  const row = await trx('access_tokens').where({ token_hash: hash, kind }).first();
  if (!row || row.used_at) return null;
  if (!crypto.timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash))) return null;
  const exp = dbDate(row.expires_at);
  if (!exp || exp <= now) return null;
  if (consume) {
    const n = await trx('access_tokens').where({ id: row.id }).whereNull('used_at').update({ used_at: toDbDate(now) });
    if (n !== 1) return null; // someone else used it first
  }
  return { id: row.id, userId: row.user_id, agentId: row.agent_id, ticketId: row.ticket_id };
}
