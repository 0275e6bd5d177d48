/** Shared pieces of a graceful stop: the deadline, signal handling, closing HTTP and the pool. */
import type { Server } from 'node:http';
import type { Knex } from 'knex';

/** A stop takes at most this long from the signal; then whatever is left is cut. */
export const SHUTDOWN_MS = 10_000;

/** Calls `stop` once, on the first SIGINT or SIGTERM (a second signal does not restart it). */
export function onStopSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/**
 * Stops accepting connections and lets the requests in flight finish, until `deadline`; then cuts
 * the connections left. Idle keep-alive connections are closed again every 100 ms: server.close()
 * only ends those idle when it is called, and a connection turns idle once its response is sent.
 */
export async function closeHttp(server: Server, deadline: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(done);
  });
  server.closeAllConnections();
}

interface PoolStats {
  numUsed(): number;
  numPendingAcquires(): number;
}

/** How long the pool must stay idle before it counts as drained (see drainAndDestroyDb). */
const POOL_QUIET_MS = 100;

/**
 * Waits (until `deadline`) for the pool to have no connection in use and no one waiting for one, then
 * destroys it. The HTTP server can be closed while requests still run: a client that closed its
 * connection does not stop its request, and destroying the pool under such a request aborts its
 * queries ("aborted" errors). The pool must stay idle for POOL_QUIET_MS, because a request between
 * two queries (hashing a password, rendering) holds no connection for a moment.
 */
export async function drainAndDestroyDb(db: Knex, deadline: number): Promise<void> {
  const pool = db.client.pool as Partial<PoolStats> | undefined;
  const busy = () => (pool?.numUsed?.() ?? 0) + (pool?.numPendingAcquires?.() ?? 0) > 0;
  let idleSince = busy() ? 0 : Date.now();
  while (Date.now() < deadline && (!idleSince || Date.now() - idleSince < POOL_QUIET_MS)) {
    await new Promise((r) => setTimeout(r, 10));
    if (busy()) idleSince = 0;
    else if (!idleSince) idleSince = Date.now();
  }
  await db.destroy();
}
