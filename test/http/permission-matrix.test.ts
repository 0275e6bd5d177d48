/**
 * Every route, called as every kind of actor (anonymous, end user, another end user, an agent of
 * another department, the ticket's agent, an admin, and an API key with and without the route's
 * permission), gets the outcome declared in permission-matrix.routes.ts. A route without a declared
 * row fails the test; a refused call must leave the data its row names unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { ACTORS, callAs, listRoutes, routeKey, setUpActors, type ActorName, type MatrixActors } from './permission-matrix-support.ts';
import { isRefusal, MATRIX, type Outcome } from './permission-matrix.routes.ts';

/** `expected` with `*` for one path segment (an id the call creates) matches `actual`. */
function matches(expected: Outcome, actual: Outcome): boolean {
  if (!expected.includes('*')) return expected === actual;
  const re = new RegExp(`^${expected.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
  return re.test(actual);
}

describe('permission matrix', () => {
  let t: TestApp;
  let actors: MatrixActors;
  beforeAll(async () => {
    t = await startTestApp();
    actors = await setUpActors(t);
  });
  afterAll(async () => t.close());

  it('finds the routes of every area (the route walk works)', async () => {
    const keys = listRoutes(t.app).map(routeKey);
    for (const k of ['GET /healthz', 'GET /', 'GET /scp/login', 'GET /scp/admin', 'GET /scp/profile', 'POST /api/v1/tickets', 'GET /attachments/:id']) expect(keys).toContain(k);
  });

  it('declares an expected outcome for every registered route', () => {
    const registered = listRoutes(t.app).map(routeKey);
    const declared = MATRIX.map((r) => `${r.method} ${r.path}`);
    const duplicates = declared.filter((k, i) => declared.indexOf(k) !== i);
    expect(duplicates, 'rows declared twice').toEqual([]);
    expect(registered.filter((k) => !declared.includes(k)), 'routes without a row in permission-matrix.routes.ts').toEqual([]);
    expect(declared.filter((k) => !registered.includes(k)), 'rows for routes that no longer exist').toEqual([]);
  });

  for (const row of MATRIX) {
    it(`${row.method} ${row.path}`, async () => {
      const f = actors.fixtures;
      const url = row.url ? row.url(f) : row.path;
      const body = row.body?.(f);
      const expected = typeof row.expect === 'function' ? row.expect(f) : row.expect;
      // Refused actors first, so each meets the data no allowed call has changed yet.
      const order = [...ACTORS].sort((a, b) => Number(!isRefusal(expected[a])) - Number(!isRefusal(expected[b])));
      const actual = {} as Record<ActorName, Outcome>;
      const changedByRefusal: string[] = [];
      for (const actor of order) {
        const c = await actors.clientFor(actor, row.fresh);
        await row.setup?.(t.db, f);
        const before = row.unchanged ? await row.unchanged(t.db, f) : undefined;
        const r = await callAs(c, row.method, url, body);
        const got = r.status >= 300 && r.status < 400 && r.location ? `${r.status} ${r.location}` : String(r.status);
        actual[actor] = matches(expected[actor], got) ? expected[actor] : got;
        if (row.unchanged && isRefusal(got)) {
          const after = await row.unchanged(t.db, f);
          if (JSON.stringify(after) !== JSON.stringify(before)) changedByRefusal.push(actor);
        }
      }
      expect(Object.fromEntries(ACTORS.map((a) => [a, actual[a]]))).toEqual(expected);
      expect(changedByRefusal, 'actors whose refused call changed the data').toEqual([]);
    });
  }
});
