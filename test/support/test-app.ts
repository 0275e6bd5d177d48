/**
 * Builds the real app on a fresh test database, with a clock the test can move.
 * Use once per test file: `const t = await startTestApp()` in beforeAll, `await t.close()` in afterAll.
 */
import type { Knex } from 'knex';
import type express from 'express';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { SYSTEM, type Actor } from '../../src/domain/actor.ts';
import type { ServiceContext } from '../../src/domain/context.ts';
import { createTestDb } from './test-db.ts';

export interface TestClock {
  (): Date;
  set(d: Date | string): void;
  advance(ms: number): void;
}

export function createTestClock(start: Date | string = new Date()): TestClock {
  let now = new Date(start);
  const clock = (() => new Date(now)) as TestClock;
  clock.set = (d) => (now = new Date(d));
  clock.advance = (ms) => (now = new Date(now.getTime() + ms));
  return clock;
}

export interface TestApp {
  app: express.Application;
  db: Knex;
  config: Config;
  clock: TestClock;
  /** A service context acting as `actor` (default: the system). */
  ctx: (actor?: Actor) => ServiceContext;
  close: () => Promise<void>;
}

export async function startTestApp(opts: { env?: Record<string, string>; now?: Date | string } = {}): Promise<TestApp> {
  const tdb = await createTestDb();
  const base = loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(40), PUBLIC_URL: 'http://helpdesk.test', DATA_DIR: '/tmp/tessera-test-data', ...opts.env });
  const config: Config = { ...base, database: tdb.database };
  const clock = createTestClock(opts.now);
  const logger = createLogger(config);
  const app = createApp({ config, db: tdb.db, clock, logger });
  return {
    app,
    db: tdb.db,
    config,
    clock,
    ctx: (actor: Actor = SYSTEM) => ({ db: tdb.db, actor, clock, publicUrl: config.publicUrl }),
    close: tdb.destroy,
  };
}
