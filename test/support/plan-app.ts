/**
 * A test app on a bulk-seeded database (bench/bulk-seed.ts, 2,000 tickets), for the tests of query
 * plans. SQLite keeps no statistics, as in production (the app never runs ANALYZE there: with them
 * some plans were right while production's were not); MariaDB keeps its own, refreshed for `analyze`.
 */
import { bulkSeed } from '../../bench/bulk-seed.ts';
import { startTestApp, type TestApp } from './test-app.ts';

export async function startPlanApp(analyze: string[]): Promise<{ t: TestApp; seed: Awaited<ReturnType<typeof bulkSeed>> }> {
  const t = await startTestApp({ now: new Date().toISOString() });
  const seed = await bulkSeed(t.db, 2000, 'query plans password');
  // sql-safe: only placeholders; the table names are bound as identifiers.
  if (analyze.length && t.config.database.client !== 'sqlite') await t.db.raw(`ANALYZE TABLE ${analyze.map(() => '??').join(', ')}`, analyze);
  return { t, seed };
}
