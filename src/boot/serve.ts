/** The processes that serve HTTP: the single process (WEB_CONCURRENCY=1) and the cluster workers. */
import cluster from 'node:cluster';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import type { AppDeps } from '../web/shared/deps.ts';
import { describeServer, openDeps } from './deps.ts';
import { serveHttp, type HttpService } from './http.ts';
import { startServices } from './services.ts';
import { drainAndDestroyDb, onStopSignal, SHUTDOWN_MS } from './shutdown.ts';

/** WEB_CONCURRENCY=1: this process migrates, serves HTTP and runs the jobs and the SMTP listener. */
export async function runSingle(config: Config): Promise<void> {
  const deps = await openDeps(config, createLogger(config), { migrate: true });
  const http = await serveHttp(deps);
  deps.logger.info(`Tessera is listening on ${config.publicUrl} (${describeServer(config)})`);
  const services = await startServices(deps);
  stopGracefullyOnSignal(deps, http, services);
}

/** A cluster worker: HTTP only. The primary has migrated and runs the jobs and the SMTP listener. */
export async function runWorker(config: Config): Promise<void> {
  const id = cluster.worker!.id;
  const deps = await openDeps(config, createLogger(config).child({ worker: id }), { migrate: false });
  const http = await serveHttp(deps);
  deps.logger.info(`worker ${id} (pid ${process.pid}) listening`);
  stopGracefullyOnSignal(deps, http, null);
}

/** On SIGINT/SIGTERM: finish the requests in flight, stop the services, drain the pool; at most SHUTDOWN_MS. */
function stopGracefullyOnSignal(deps: AppDeps, http: HttpService, services: { stop: () => Promise<void> } | null): void {
  onStopSignal(async (signal) => {
    deps.logger.info({ signal }, 'shutting down');
    const deadline = Date.now() + SHUTDOWN_MS;
    await http.close(deadline);
    await services?.stop();
    await drainAndDestroyDb(deps.db, deadline);
    process.exit(0);
  });
}
