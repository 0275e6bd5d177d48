/**
 * The world a browser journey runs in: the app started the way `npm start` starts it (a child
 * process running the compiled dist/server.js) on a fresh SQLite database with the demo seed, an SMTP server
 * that receives what the app sends, and headless Chromium (Debian's package) driven by playwright-core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '../../..');
export const DEMO_PASSWORD = 'lab practice password';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** An SMTP server that keeps every message it receives. */
export class MailCatcher {
  messages: ParsedMail[] = [];
  private server?: SMTPServer;
  port = 0;
  async start(): Promise<void> {
    this.port = await freePort();
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, cb) => {
        simpleParser(stream).then((m) => {
          this.messages.push(m);
          cb();
        }, cb);
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
  /** Waits for a message matching `pred` (the outbox worker delivers within seconds). */
  async waitFor(pred: (m: ParsedMail) => boolean, timeoutMs = 30_000): Promise<ParsedMail> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const m = this.messages.find(pred);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no matching mail within ${timeoutMs} ms; got: ${this.messages.map((m) => `${m.to && (m.to as any).text}: ${m.subject}`).join(' | ')}`);
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface E2EWorld {
  baseUrl: string;
  dataDir: string;
  mail: MailCatcher;
  inboundPort: number;
  browser: Browser;
  context: BrowserContext;
  newPage: () => Promise<Page>;
  /**
   * A page in a browser context of its own (its own cookies: the end user, John and Jane each use
   * their own browser), watched for console errors and failed requests like `context`.
   */
  newPersonPage: (options?: BrowserContextOptions) => Promise<Page>;
  /** Moves the app's clock forward (TEST_CLOCK). */
  advanceClock: (ms: number) => void;
  consoleErrors: string[];
  failedRequests: string[];
  stop: () => Promise<void>;
}

export async function startWorld(): Promise<E2EWorld> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-e2e-'));
  const mail = new MailCatcher();
  await mail.start();
  const port = await freePort();
  const inboundPort = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PUBLIC_URL: baseUrl,
    SMTP_URL: `smtp://127.0.0.1:${mail.port}`,
    MAIL_FROM: 'Help Desk <help@helpdesk.test>',
    INBOUND_SMTP_PORT: String(inboundPort),
    INBOUND_SMTP_HOST: '127.0.0.1',
    TEST_CLOCK: '1',
    LOG_LEVEL: 'warn',
  };
  const seed = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'seed:demo', '--password', DEMO_PASSWORD], { cwd: root, env, encoding: 'utf8' });
  if (seed.status !== 0) throw new Error(`seed failed: ${seed.stderr}`);
  // As `npm start` does: compile (scripts/build.mjs), then run the bundle with plain node.
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const server: ChildProcess = spawn(process.execPath, ['dist/server.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  server.stdout!.on('data', (d) => (serverOut += d));
  server.stderr!.on('data', (d) => (serverOut += d));
  let stopping = false;
  server.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[e2e] the app exited unexpectedly (code ${code}, signal ${signal}):\n${serverOut}\n`);
  });
  await waitForReady(baseUrl, () => serverOut, server);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const from = msg.location()?.url;
      consoleErrors.push(`${page.url()}: ${msg.text()}${from && from !== page.url() ? ` [${from}]` : ''}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
    page.on('requestfailed', (req) => {
      // The icon is fetched by the browser after the page has loaded, and a click that navigates at once
      // cancels that fetch (net::ERR_ABORTED: seen once in CI, a race of the journey's speed, not a
      // failure of the app). Any other aborted request, and the icon answered with an error status
      // (the response handler below), still count.
      if (req.failure()?.errorText === 'net::ERR_ABORTED' && new URL(req.url()).pathname === '/assets/favicon.svg') return;
      failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
    });
    page.on('response', (res) => {
      const req = res.request();
      // Server errors anywhere; 4xx only for what a page loads by itself (CSS, JS, images), not for
      // documents, where 404/409/422 are answers a person is meant to read.
      if (res.status() >= 500 || (res.status() >= 400 && !req.isNavigationRequest())) failedRequests.push(`${res.status()} ${req.method()} ${res.url()}`);
    });
  };
  context.on('page', watch);
  const newPersonPage = async (options: BrowserContextOptions = {}) => {
    const ctx = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 }, ...options });
    ctx.on('page', watch);
    return ctx.newPage();
  };
  return {
    baseUrl,
    dataDir,
    mail,
    inboundPort,
    browser,
    context,
    newPage: async () => context.newPage(),
    newPersonPage,
    advanceClock: (ms: number) => {
      const file = path.join(dataDir, 'test-clock-offset-ms');
      const current = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) || 0 : 0;
      fs.writeFileSync(file, String(current + ms));
    },
    consoleErrors,
    failedRequests,
    stop: async () => {
      await browser.close().catch(() => undefined);
      stopping = true;
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      await mail.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitForReady(baseUrl: string, output: () => string, server: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  let okInARow = 0;
  while (Date.now() < until) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the app exited while starting (code ${server.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      // Three answers in a row from a still-running child: not a stray answer from another process.
      okInARow = res.ok ? okInARow + 1 : 0;
      if (okInARow >= 3) return;
    } catch {
      okInARow = 0;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`app did not become ready:\n${output()}`);
}

/** Saves a screenshot under test-results/e2e/ and, for the README set, docs/screenshots/. */
export async function shot(page: Page, name: string, opts: { readme?: boolean; fullPage?: boolean } = {}): Promise<void> {
  const dir = path.join(root, 'test-results', 'e2e');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: opts.fullPage ?? true });
  if (opts.readme && process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(path.join(root, 'docs', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'docs', 'screenshots', `${name}.png`), fullPage: opts.fullPage ?? false });
  }
}
