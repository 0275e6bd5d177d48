/** The HTTP side of a serving process: build the app, listen, stop gracefully. */
import http from 'node:http';
import { createApp } from '../app.ts';
import type { AppDeps } from '../web/shared/deps.ts';
import { closeHttp } from './shutdown.ts';

export interface HttpService {
  /** Graceful: requests in flight finish (until `deadline`). */
  close: (deadline: number) => Promise<void>;
}

/** Serves the app on config.host:port; resolves once listening, rejects if the port cannot be had. */
export async function serveHttp(d: AppDeps): Promise<HttpService> {
  const server = http.createServer(createApp(d));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(d.config.port, d.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { close: (deadline) => closeHttp(server, deadline) };
}
