/** The per-connection cache of prepared SQLite statements (src/db/knex.ts cacheStatements). */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { cacheStatements, createDb } from '../../src/db/knex.ts';

// The driver knex loads (no type declarations are installed for it).
const Database = createRequire(import.meta.url)('better-sqlite3');

function counted(max: number) {
  const conn = new Database(':memory:');
  let prepared = 0;
  const prepare = conn.prepare.bind(conn);
  conn.prepare = ((sql: string) => {
    prepared += 1;
    return prepare(sql);
  });
  cacheStatements(conn, max);
  return { conn, prepared: () => prepared };
}

describe('SQLite statement cache', () => {
  it('prepares a statement once per SQL text and answers each run with its own bindings', () => {
    const { conn, prepared } = counted(10);
    conn.prepare('create table t (id integer primary key, name text)').run();
    for (const name of ['a', 'b', 'c']) conn.prepare('insert into t (name) values (?)').run(name);
    const names = ['a', 'b', 'c'].map((n) => (conn.prepare('select name from t where name = ?').get(n) as { name: string }).name);
    expect(names).toEqual(['a', 'b', 'c']);
    expect(prepared()).toBe(3); // create, insert, select
  });

  it('keeps the most recently used statements up to its size', () => {
    const { conn, prepared } = counted(2);
    const q = (n: number) => conn.prepare(`select ${n} as n`).get();
    q(1); q(2); q(1); q(3); // 3 evicts 2, the least recently used
    expect(prepared()).toBe(3);
    q(1);
    expect(prepared()).toBe(3);
    q(2);
    expect(prepared()).toBe(4);
  });

  it('sees a schema change made after a statement was cached', () => {
    const { conn } = counted(10);
    conn.prepare('create table t (id integer primary key)').run();
    conn.prepare('insert into t (id) values (1)').run();
    expect(conn.prepare('select * from t').get()).toEqual({ id: 1 });
    conn.prepare('alter table t add column name text default \'x\'').run();
    expect(conn.prepare('select * from t').get()).toEqual({ id: 1, name: 'x' });
  });

  it('is what knex uses on SQLite: a repeated query gets the same prepared statement', async () => {
    const db = createDb({ client: 'sqlite', filename: ':memory:' });
    try {
      const conn: any = await db.client.acquireConnection();
      const prepare = conn.prepare;
      const statements: unknown[] = [];
      conn.prepare = (sql: string) => {
        const s = prepare(sql);
        statements.push(s);
        return s;
      };
      await db.client.releaseConnection(conn);
      const a = await db.raw('select ? as v', [1]);
      const b = await db.raw('select ? as v', [2]);
      expect([a[0].v, b[0].v]).toEqual([1, 2]);
      expect(statements).toHaveLength(2);
      expect(statements[1]).toBe(statements[0]); // better-sqlite3 alone answers a new Statement each time
    } finally {
      await db.destroy();
    }
  });
});
