/** The SQL statements a piece of work issues (knex's 'query' event), for tests of plans and statement counts. */
import type { Knex } from 'knex';

export interface Statement { sql: string; bindings: readonly unknown[] }

/** Runs `fn` and returns its result with every statement it issued on `db`, in order. */
export async function statementsDuring<T>(db: Knex, fn: () => Promise<T>): Promise<{ result: T; statements: Statement[] }> {
  const statements: Statement[] = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => void statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
  db.on('query', listener);
  try {
    return { result: await fn(), statements };
  } finally {
    db.removeListener('query', listener);
  }
}
