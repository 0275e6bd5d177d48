/**
 * The signed-in agent rides along with the session read (withAgentActor + primeAgentActor): the
 * request's first loadAgentActor of that id takes it without a statement; it is the same actor a
 * read gives; a second load in the same request reads again; an inactive agent is null.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { fromOneRow } from '../../src/db/dialect.ts';
import { loadAgentActor, primeAgentActor, withAgentActor } from '../../src/domain/agents/agent-queries.ts';
import { withRequestMemo } from '../../src/domain/request-memo.ts';

describe('the agent read along with the session', () => {
  let tdb: TestDb;
  let statements = 0;
  const count = () => void (statements += 1);
  beforeAll(async () => {
    tdb = await createTestDb();
    tdb.db.on('query', count);
  });
  afterAll(async () => tdb?.destroy());

  const readAlong = (id: number) => withAgentActor(tdb.db, fromOneRow(tdb.db), tdb.db.raw('?', [id])).first();

  it('serves the first load from the session read, then reads again', async () => {
    const [d1, d2] = [await buildDepartment(tdb.db), await buildDepartment(tdb.db)];
    const [teamId] = await tdb.db('teams').insert({ name: 'Night shift', is_active: true, created_at: '2026-03-01 00:00:00.000', updated_at: '2026-03-01 00:00:00.000' });
    const agent = await buildAgent(tdb.db, { department_id: d1, extraDepartmentIds: [d2], teamIds: [teamId] });
    const other = await buildAgent(tdb.db, { department_id: d2 });
    const read = await loadAgentActor(tdb.db, agent.id); // outside a request: a read
    expect(read).toMatchObject({ kind: 'agent', id: agent.id, teamIds: [teamId] });
    expect([...read!.departmentIds].sort()).toEqual([d1, d2].sort());
    await withRequestMemo(async () => {
      primeAgentActor(await readAlong(agent.id));
      statements = 0;
      expect(await loadAgentActor(tdb.db, agent.id)).toEqual(read);
      expect(statements).toBe(0);
      expect(await loadAgentActor(tdb.db, other.id)).toMatchObject({ id: other.id }); // another id: read
      expect(statements).toBe(1);
      expect(await loadAgentActor(tdb.db, agent.id)).toEqual(read); // taken once: read again
      expect(statements).toBe(2);
    });
  });

  it('gives null for an agent made inactive, primed or read', async () => {
    const agent = await buildAgent(tdb.db, { is_active: false });
    await withRequestMemo(async () => {
      primeAgentActor(await readAlong(agent.id));
      statements = 0;
      expect(await loadAgentActor(tdb.db, agent.id)).toBeNull();
      expect(statements).toBe(0);
    });
    expect(await loadAgentActor(tdb.db, agent.id)).toBeNull();
  });
});
