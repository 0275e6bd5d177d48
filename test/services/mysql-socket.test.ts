/**
 * DATABASE_URL may name the MySQL/MariaDB server's Unix socket (`…@localhost/db?socketPath=/run/mysqld/mysqld.sock`,
 * passed through to mysql2): on the database's own machine each statement then costs less CPU than over
 * TCP (docs/benchmarks.md, session 5). README says so; this checks the URL works as written there.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/test-db.ts';
import { dbClient, mysqlBaseUrl } from '../support/test-env.ts';
import { loadConfig } from '../../src/config.ts';
import { createDb } from '../../src/db/knex.ts';

describe.runIf(dbClient === 'mysql')('MySQL/MariaDB over its Unix socket', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb();
  });
  afterAll(async () => tdb?.destroy());

  it('connects with ?socketPath= in DATABASE_URL, with the same session settings as over TCP', async (ctx) => {
    const [[server]] = (await tdb.db.raw('select @@socket as socket, database() as db')) as unknown as [{ socket: string; db: string }[]];
    // The suite's server runs on this machine (CI starts it here); a remote one has no socket to reach.
    if (!server.socket || !fs.existsSync(server.socket)) ctx.skip();
    const base = new URL(mysqlBaseUrl);
    const url = `mysql://${base.username}${base.password ? `:${base.password}` : ''}@localhost/${server.db}?socketPath=${encodeURIComponent(server.socket)}`;
    const config = loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 's'.repeat(32), DATABASE_URL: url });
    const db = createDb(config.database, { pool: { min: 0, max: 1 } });
    try {
      const [[row]] = (await db.raw("select (select host from information_schema.processlist where id = connection_id()) as host, @@session.time_zone as tz, @@session.sql_mode as mode, (select count(*) from priorities) as n")) as unknown as [{ host: string; tz: string; mode: string; n: number }[]];
      expect(row.host).toBe('localhost'); // over TCP it is "address:port"
      expect(row.tz).toBe('+00:00');
      expect(row.mode).toContain('STRICT_TRANS_TABLES');
      expect(Number(row.n)).toBeGreaterThan(0);
    } finally {
      await db.destroy();
    }
  });
});
