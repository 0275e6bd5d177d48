import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { createDb, migrateLatest } from '../db/knex.ts';
import { createClock } from '../test-clock.ts';
import type { AppDeps } from '../web/shared/deps.ts';

/** Opens this process's database pool; `migrate` only where one process per server does it. */
export async function openDeps(config: Config, logger: Logger, opts: { migrate: boolean }): Promise<AppDeps> {
  const db = createDb(config.database);
  if (opts.migrate) {
    const applied = await migrateLatest(db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
  }
  return { config, db, clock: createClock(config), logger };
}

/** "portal /, agent panel /scp, database sqlite": the tail of the start-up line. */
export function describeServer(config: Config): string {
  return `portal /, agent panel /scp, database ${config.database.client}`;
}
