/** Boot: load config → create db → migrate → build app → listen → start background jobs. */
import 'dotenv/config';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { createDb, migrateLatest } from './db/knex.ts';
import { createLogger } from './logger.ts';
import { createApp } from './app.ts';
import { startBackground } from './jobs/background.ts';
import { startInboundSmtp } from './mail/inbound-smtp.ts';
import { createClock } from './test-clock.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config);
  const db = createDb(config.database);
  const applied = await migrateLatest(db);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const clock = createClock(config);
  const app = createApp({ config, db, clock, logger });
  const server: Server = app.listen(config.port, config.host, () => {
    logger.info(`Tessera is listening on ${config.publicUrl} (portal /, agent panel /scp, database ${config.database.client})`);
  });
  const background = config.jobsDisabled ? null : await startBackground({ config, db, clock, logger });
  const inboundSmtp = config.inboundSmtp ? await startInboundSmtp({ db, clock, logger, publicUrl: config.publicUrl, ...config.inboundSmtp }) : null;
  if (inboundSmtp) logger.info(`Inbound SMTP listener on ${config.inboundSmtp!.host}:${inboundSmtp.port}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop taking requests, let the ones in flight finish (at most 10 s), then close the pool.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    server.closeAllConnections();
    await inboundSmtp?.close();
    await background?.stop();
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Tessera failed to start: ${err?.message ?? err}\n`);
  process.exit(1);
});
