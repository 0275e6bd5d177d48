/**
 * Sign-in does the same bcrypt work whether or not the account exists, so the response time does not
 * say which usernames and addresses are agents': an unknown login is compared against a fixed dummy hash
 * of the same cost (passwords.ts DUMMY_HASH). Counted with a spy on bcrypt.compare, never timed.
 * End users have no password (the portal signs in with emailed one-time links), so no bcrypt runs there.
 */
import bcrypt from 'bcrypt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toDbDate } from '../../src/db/dialect.ts';
import { signInAgent } from '../../src/domain/auth/agent-auth-service.ts';
import { DUMMY_HASH } from '../../src/domain/auth/passwords.ts';
import { buildAgent, type BuiltAgent } from '../factories/index.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

/** bcrypt's cost factor, from a hash ("$2b$12$…" → 12). */
const costOf = (hash: string) => Number(hash.split('$')[2]);

describe('agent sign-in: the same bcrypt work for an unknown account', () => {
  let t: TestApp;
  let agent: BuiltAgent;
  let hash: string;
  const compare = vi.spyOn(bcrypt, 'compare');
  const attempt = (login: string, password = 'not-the-password') => signInAgent(t.ctx(), { login, password }).catch((e) => e);

  beforeAll(async () => {
    t = await startTestApp();
    agent = await buildAgent(t.db, { username: 'timing.agent', email: 'timing.agent@agents.test' });
    hash = (await t.db('agents').where({ id: agent.id }).first()).password_hash;
  });
  afterEach(() => compare.mockClear());
  afterAll(async () => {
    compare.mockRestore();
    await t.close();
  });

  it('the dummy hash has the cost of a real one', () => {
    expect(costOf(DUMMY_HASH)).toBe(costOf(hash));
  });

  it('an unknown username or email is compared once against the dummy hash, and refused as a wrong password is', async () => {
    for (const login of ['nobody.here', 'nobody@agents.test']) {
      const err = await attempt(login);
      expect(err.code).toBe('INVALID_CREDENTIALS');
      expect(compare).toHaveBeenCalledTimes(1);
      expect(compare).toHaveBeenLastCalledWith('not-the-password', DUMMY_HASH);
      compare.mockClear();
    }
  });

  it('a known account with a wrong password is compared once, against its own hash', async () => {
    expect((await attempt('timing.agent')).code).toBe('INVALID_CREDENTIALS');
    expect(compare).toHaveBeenCalledTimes(1);
    expect(compare).toHaveBeenLastCalledWith('not-the-password', hash);
  });

  it('a disabled or locked account is compared too, before its state is looked at', async () => {
    await t.db('agents').where({ id: agent.id }).update({ is_active: false });
    expect((await attempt('timing.agent')).code).toBe('INVALID_CREDENTIALS');
    expect(compare).toHaveBeenCalledTimes(1);
    await t.db('agents').where({ id: agent.id }).update({ is_active: true, locked_until: toDbDate(new Date(t.clock().getTime() + 3600_000)) });
    expect((await attempt('timing.agent')).code).toBe('ACCOUNT_LOCKED');
    expect(compare).toHaveBeenCalledTimes(2);
    await t.db('agents').where({ id: agent.id }).update({ locked_until: null, failed_logins: 0 });
  });
});
