/**
 * An API client that closes its connection before its body is read (a client that timed out, a load
 * generator at the end of its run): body-parser skips such a request and leaves no body. It used to
 * be refused as an empty body and logged as a warning ("API request refused", EMPTY_BODY); nobody is
 * left to answer, so it is logged at info as aborted, and nothing is created.
 */
import net from 'node:net';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { pino } from 'pino';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createApp } from '../../src/app.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';

interface LogLine { level: number; msg: string; code?: string; status?: number; req?: { url?: string } }

describe('an API request whose client went away before its body was read', () => {
  let t: TestApp;
  let key: string;
  let server: net.Server;
  let port: number;
  const lines: LogLine[] = [];
  /** Requests carrying this header reach the app only once their connection has closed. */
  const WAIT = 'x-test-wait-for-close';

  beforeAll(async () => {
    // Behind one proxy, the client's address comes from X-Forwarded-For: a closed socket has none of its own.
    t = await startTestApp({ env: { TRUST_PROXY: '1' } });
    key = (await createApiKey(t.ctx(), { allowedIp: '*', note: 'client gone', canCreateTickets: true, canManageTickets: true })).key;
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine)), cb()) });
    const app = createApp({ config: t.config, db: t.db, clock: t.clock, logger: pino({ level: 'info' }, sink) });
    const outer = express();
    outer.use(async (req, _res, next) => {
      if (req.headers[WAIT] && !req.socket.destroyed) await once(req.socket, 'close');
      next();
    });
    outer.use(app);
    server = outer.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server?.close();
    await t?.close();
  });

  const ticketCount = async () => Number((await t.db('tickets').count({ n: '*' }))[0].n);

  /** Sends a whole request, then closes the connection without waiting for the answer. */
  async function sendAndHangUp(path: string, body: string) {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.end(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\nX-Forwarded-For: 10.1.2.3\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${WAIT}: 1\r\n\r\n${body}`,
    );
    socket.destroy();
  }

  /** Waits until the app has logged the outcome of the request to `path`. */
  async function outcomeOf(path: string) {
    for (let i = 0; i < 200; i++) {
      const found = lines.filter((l) => l.req?.url === path && /API request|api error/.test(l.msg));
      if (found.length) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no outcome logged for ${path}: ${JSON.stringify(lines.slice(-5))}`);
  }

  const body = JSON.stringify({ name: 'Gone Away', email: 'gone@example.com', subject: 'Hung up', message: 'Sent, then closed.' });

  it.each(['/api/tickets.json', '/api/v1/tickets'])('POST %s: logged at info as aborted, not as an empty body, and no ticket is created', async (path) => {
    const before = await ticketCount();
    await sendAndHangUp(path, body);
    const logged = await outcomeOf(path);
    expect(logged.map((l) => [l.level, l.code, l.msg])).toEqual([[30, 'REQUEST_ABORTED', 'API request aborted by its client']]);
    expect(lines.some((l) => l.code === 'EMPTY_BODY')).toBe(false);
    expect(await ticketCount()).toBe(before);
  });

  it('still refuses a request that really has an empty body (400 EMPTY_BODY, logged as refused)', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/tickets.json`, { method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' }, body: '' });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Empty request body');
    const logged = await outcomeOf('/api/tickets.json');
    expect(logged.at(-1)).toMatchObject({ level: 40, code: 'EMPTY_BODY', msg: 'API request refused' });
  });
});
