/**
 * Session ids come from a pool of CSPRNG bytes (session.ts, newSessionId): each id is 24 bytes of its
 * own, base64url, and no id repeats across the pool's refills.
 */
import { describe, expect, it } from 'vitest';
import { newSessionId } from '../../src/web/shared/session.ts';

describe('newSessionId', () => {
  it('gives 24 random bytes as 32 base64url characters, never the same id twice across refills of its pool', () => {
    const ids = Array.from({ length: 1000 }, () => newSessionId()); // the pool holds 128
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(24);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // Not a wiped (all-zero) slice of the pool, nor a counter: the bytes are spread over every value.
    const bytes = Buffer.concat(ids.map((id) => Buffer.from(id, 'base64url')));
    expect(ids.some((id) => /^A+$/.test(id))).toBe(false);
    expect(new Set(bytes).size).toBe(256);
  });
});
