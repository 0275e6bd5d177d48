import bcrypt from 'bcrypt';

const COST = process.env.NODE_ENV === 'test' ? 4 : 12;

/** Hashes a password with bcrypt. The caller has validated it (≤ 72 bytes). */
export function hashPassword(plain: string): Promise<string> {
  return bcrypt.hash(plain, COST);
}

/** Compares in constant time (bcrypt). */
export function verifyPassword(plain: string, hash: string): Promise<boolean> {
  if (Buffer.byteLength(plain, 'utf8') > 72) return Promise.resolve(false);
  return bcrypt.compare(plain, hash);
}

/**
 * A hash to compare against when the account does not exist (signInAgent, and the password checks of
 * the signed-in agent's own account), so timing does not reveal which accounts exist: made with the
 * same cost as every stored hash, so bcrypt does the same work (test/services/sign-in-timing.test.ts).
 */
export const DUMMY_HASH = bcrypt.hashSync('not-a-real-password', COST);
