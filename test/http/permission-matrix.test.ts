/**
 * Every route, called as every kind of actor (anonymous, end user, another end user, an agent of
 * another department, the ticket's agent, an admin), gets the outcome declared in
 * permission-matrix.routes.ts. A route without a declared row fails the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { ACTORS, callAs, listRoutes, routeKey, setUpActors, type ActorName, type MatrixActors } from './permission-matrix-support.ts';
import { MATRIX, PENDING, type Outcome } from './permission-matrix.routes.ts';

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
    for (const k of ['GET /healthz', 'GET /', 'GET /scp/login', 'GET /scp/admin', 'GET /scp/profile']) expect(keys).toContain(k);
  });

  it('declares an expected outcome for every registered route', () => {
    const registered = listRoutes(t.app).map(routeKey);
    const declared = MATRIX.map((r) => `${r.method} ${r.path}`);
    const duplicates = declared.filter((k, i) => declared.indexOf(k) !== i);
    expect(duplicates, 'rows declared twice').toEqual([]);
    expect(registered.filter((k) => !declared.includes(k) && !PENDING.includes(k)), 'routes without a row in permission-matrix.routes.ts').toEqual([]);
    expect(declared.filter((k) => !registered.includes(k)), 'rows for routes that no longer exist').toEqual([]);
    expect(PENDING.filter((k) => declared.includes(k) || !registered.includes(k)), 'PENDING entries that have a row or no route').toEqual([]);
  });

  for (const row of MATRIX) {
    it(`${row.method} ${row.path}`, async () => {
      const url = row.url ? row.url(actors.fixtures) : row.path;
      const body = row.body?.(actors.fixtures);
      const actual = {} as Record<ActorName, Outcome>;
      for (const actor of ACTORS) {
        const c = await actors.clientFor(actor, row.fresh);
        const r = await callAs(c, row.method, url, body);
        actual[actor] = r.status >= 300 && r.status < 400 && r.location ? `${r.status} ${r.location}` : String(r.status);
      }
      expect(actual).toEqual(row.expect);
    });
  }
});
