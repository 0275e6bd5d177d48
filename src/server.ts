/**
 * Boot: load config, then run as one process (WEB_CONCURRENCY=1: migrate, serve HTTP, run the jobs
 * and the SMTP listener) or as a node:cluster primary with HTTP workers (src/boot/primary.ts).
 */
import 'dotenv/config';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { runPrimary } from './boot/primary.ts';
import { runSingle, runWorker } from './boot/serve.ts';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  if (config.webConcurrency === 1) return runSingle(config);
  return cluster.isPrimary ? runPrimary(config) : runWorker(config);
}

main().catch((err) => {
  process.stderr.write(`Tessera failed to start: ${err?.message ?? err}\n`);
  process.exit(1);
});
