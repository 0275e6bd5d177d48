/**
 * A real HTTP server on 127.0.0.1 that receives webhook POSTs (no mocks): it keeps every request (path,
 * headers, raw body) and answers each path as the test says (a status, a redirect, or never).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How a path answers: a status (with an optional body), a redirect, or no answer at all (hang). */
export type Answer = { status: number; body?: string; location?: string } | 'hang';

export interface WebhookReceiver {
  /** The base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  received: ReceivedRequest[];
  /** Requests to one path. */
  at: (path: string) => ReceivedRequest[];
  /** Sets how `path` answers (default: 200 "ok"). */
  answer: (path: string, a: Answer) => void;
  close: () => Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const answers = new Map<string, Answer>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      received.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = answers.get(path) ?? { status: 200, body: 'ok' };
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(a.status, { 'Content-Type': 'text/plain', ...(a.location ? { Location: a.location } : {}) });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    at: (path) => received.filter((r) => r.path === path),
    answer: (path, a) => void answers.set(path, a),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
