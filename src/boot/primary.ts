/**
 * WEB_CONCURRENCY>1: the cluster primary. It migrates once, runs the background jobs and the inbound
 * SMTP listener (one copy per server), forks the HTTP workers and re-forks those that die. It serves
 * no HTTP itself: the workers share the port through node:cluster.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { describeServer, openDeps } from './deps.ts';
import { startServices } from './services.ts';
import { drainAndDestroyDb, onStopSignal, SHUTDOWN_MS } from './shutdown.ts';

/**
 * A worker that dies before it listens, or sooner than this after its fork, counts as a failed start
 * (however long a loaded machine took to get it to listen(): a taken port is a failed start).
 */
const QUICK_EXIT_MS = 5_000;
/** More failed starts than this in a row: the workers cannot start (bad database, port taken); give up. */
const MAX_QUICK_EXITS = 5;
/** Re-fork delay per failed start in a row, so a crash loop does not spin. */
const RESTART_DELAY_MS = 500;
/** A worker gets its own graceful stop (SHUTDOWN_MS) plus this much before it is killed. */
const WORKER_STOP_GRACE_MS = 2_000;

export async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger(config);
  const deps = await openDeps(config, logger, { migrate: true });
  const services = await startServices(deps);
  logger.info(`Tessera is starting ${config.webConcurrency} HTTP workers for ${config.publicUrl} (${describeServer(config)})`);
  const workers = superviseWorkers(config.webConcurrency, logger, () => void stop({ reason: 'workers keep failing' }, 1));
  let stopping = false;
  const stop = async (reason: Record<string, unknown>, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info(reason, 'shutting down');
    const deadline = Date.now() + SHUTDOWN_MS;
    await Promise.all([workers.stop(), services.stop()]);
    await drainAndDestroyDb(deps.db, deadline);
    process.exit(exitCode);
  };
  onStopSignal((signal) => stop({ signal }, 0));
}

/** Forks `count` workers and keeps that many running until stop(). */
function superviseWorkers(count: number, logger: Logger, onCrashLoop: () => void): { stop: () => Promise<void> } {
  let stopping = false;
  let quickExits = 0;
  const forkedAt = new Map<number, number>();
  const listened = new Set<number>();
  const fork = () => {
    if (stopping) return;
    const worker = cluster.fork();
    forkedAt.set(worker.id, Date.now());
    worker.once('listening', () => listened.add(worker.id));
  };
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (forkedAt.get(worker.id) ?? 0);
    const served = listened.delete(worker.id);
    forkedAt.delete(worker.id);
    if (stopping) return;
    quickExits = !served || lived < QUICK_EXIT_MS ? quickExits + 1 : 0;
    const who = { worker: worker.id, pid: worker.process.pid, code, signal };
    if (quickExits > MAX_QUICK_EXITS) {
      logger.error(who, `workers died within ${QUICK_EXIT_MS / 1000} s of starting ${quickExits} times in a row; stopping`);
      return onCrashLoop();
    }
    const delay = quickExits * RESTART_DELAY_MS;
    logger.error(who, `worker ${worker.id} exited unexpectedly; starting another in ${delay} ms`);
    setTimeout(fork, delay);
  });
  for (let i = 0; i < count; i++) fork();
  return {
    async stop() {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      await Promise.all(alive.map(stopWorker));
    },
  };
}

/** SIGTERM runs the worker's graceful stop (the same as a signal sent to it directly); SIGKILL if it hangs. */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), SHUTDOWN_MS + WORKER_STOP_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.process.kill('SIGTERM');
  });
}
