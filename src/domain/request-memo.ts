/**
 * What one HTTP request has already read, reused by the rest of that request and gone with it
 * (app.ts wraps each request in withRequestMemo). Nothing here outlives a request: every request
 * still reads fresh, so all processes agree.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestMemo {
  /** The settings (settings-service.ts). */
  settings?: Promise<unknown>;
  /** Agents read along with the session (agent-queries.ts primeAgentActor), by id; taken by their first use. */
  agents?: Map<number, unknown>;
  /** Portal users read along with the session (user-service.ts primeSessionUser), by id; taken by their first use. */
  users?: Map<number, unknown>;
  /**
   * The session a limited form's request carries (its id, from the signed cookie), read by the
   * statement that counts the request's rate-limit hit: `row` is that session's row, taken by the
   * session store's read of that id (web/shared/session-store.ts, limitsBeforeSession).
   */
  sessionAlong?: { sid: string; row?: Record<string, unknown> };
}

const store = new AsyncLocalStorage<RequestMemo>();

/** Runs `fn` (one HTTP request) with an empty memo. */
export function withRequestMemo<T>(fn: () => T): T {
  return store.run({}, fn);
}

/** The running request's memo, or undefined outside a request (CLI, jobs, tests calling services). */
export function requestMemo(): RequestMemo | undefined {
  return store.getStore();
}
