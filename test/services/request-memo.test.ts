/**
 * The signed-in agent rides along with the session read (KnexSessionStore.get → withAgentActor +
 * primeAgentActor): the request's first loadAgentActor of that id takes it without a statement; it is
 * the same actor a read gives; a second load in the same request reads again; an inactive agent is
 * null; an expired session primes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { loadAgentActor } from '../../src/domain/agents/agent-queries.ts';
import { withRequestMemo } from '../../src/domain/request-memo.ts';
import { KnexSessionStore } from '../../src/web/shared/session-store.ts';

describe('the agent read along with the session', () => {
  let tdb: TestDb;
  let store: KnexSessionStore;
  let statements = 0;
  const count = () => void (statements += 1);
  const NOW = new Date('2026-03-02T10:00:00.000Z');
  beforeAll(async () => {
    tdb = await createTestDb();
    store = new KnexSessionStore(tdb.db, () => NOW);
    tdb.db.on('query', count);
  });
  afterAll(async () => tdb?.destroy());

  /** A stored session of `agentId`, expiring at `expires`. */
  async function sessionOf(agentId: number, expires = '2026-03-02 11:00:00.000'): Promise<string> {
    const sid = `sid-${agentId}-${expires.slice(11, 13)}`;
    await tdb.db('sessions').insert({ sid, sess: JSON.stringify({ agentId }), expires_at: expires, agent_id: agentId, user_id: null });
    return sid;
  }
  const readSession = (sid: string) => new Promise<unknown>((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))));

  it('serves the first load from the session read, then reads again', async () => {
    const [d1, d2] = [await buildDepartment(tdb.db), await buildDepartment(tdb.db)];
    const [teamId] = await tdb.db('teams').insert({ name: 'Night shift', is_active: true, created_at: '2026-03-01 00:00:00.000', updated_at: '2026-03-01 00:00:00.000' });
    const agent = await buildAgent(tdb.db, { department_id: d1, extraDepartmentIds: [d2], teamIds: [teamId] });
    const other = await buildAgent(tdb.db, { department_id: d2 });
    const read = await loadAgentActor(tdb.db, agent.id); // outside a request: a read
    expect(read).toMatchObject({ kind: 'agent', id: agent.id, teamIds: [teamId] });
    expect([...read!.departmentIds].sort()).toEqual([d1, d2].sort());
    const sid = await sessionOf(agent.id);
    await withRequestMemo(async () => {
      statements = 0;
      expect(await readSession(sid)).toEqual({ agentId: agent.id });
      expect(statements).toBe(1);
      expect(await loadAgentActor(tdb.db, agent.id)).toEqual(read);
      expect(statements).toBe(1);
      expect(await loadAgentActor(tdb.db, other.id)).toMatchObject({ id: other.id }); // another id: read
      expect(statements).toBe(2);
      expect(await loadAgentActor(tdb.db, agent.id)).toEqual(read); // taken once: read again
      expect(statements).toBe(3);
    });
  });

  it('gives null for an agent made inactive, and primes nothing from an expired session', async () => {
    const inactive = await buildAgent(tdb.db, { is_active: false });
    const sid = await sessionOf(inactive.id);
    await withRequestMemo(async () => {
      await readSession(sid);
      statements = 0;
      expect(await loadAgentActor(tdb.db, inactive.id)).toBeNull();
      expect(statements).toBe(0);
    });
    const active = await buildAgent(tdb.db);
    const expired = await sessionOf(active.id, '2026-03-02 09:00:00.000');
    await withRequestMemo(async () => {
      expect(await readSession(expired)).toBeNull();
      statements = 0;
      expect(await loadAgentActor(tdb.db, active.id)).toMatchObject({ id: active.id });
      expect(statements).toBe(1);
    });
  });
});
