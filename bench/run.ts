/**
 * `npm run bench [-- --tickets 1000000 --db mysql --duration 10 --workers 2 --reuse --smoke --only <regex>]`
 * (`--only`: the scenarios whose name matches, e.g. to profile one with BENCH_NODE_FLAGS=--cpu-prof)
 * (`--reuse`: MariaDB only, run on tessera_bench as an earlier run filled it instead of refilling it)
 * 1. fills a fresh database with N tickets (bench/bulk-seed.ts) and says how long it took;
 * 2. starts the app as `npm start` would (NODE_ENV=production, a child process) and drives it over
 *    HTTP with autocannon from this process, signed in as an agent, at concurrency 1 and 16;
 * 3. prints a table per database (requests/s, p50/p95/p99 latency, SQL statements per request, CPU per
 *    request of the app and of a local MariaDB,
 *    the app's peak RSS) and writes it to docs/benchmarks.md.
 * Benchmarks print figures; they are not tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import autocannon from 'autocannon';
import { createDb, migrateLatest } from '../src/db/knex.ts';
import { createApiKey } from '../src/domain/api-keys/api-key-service.ts';
import { SYSTEM } from '../src/domain/actor.ts';
import { writeSettings } from '../src/domain/settings/settings-service.ts';
import { benchSubject, bulkSeed, describeSeed } from './bulk-seed.ts';
import { countStatements } from './statement-count.ts';
import { indexAllPending } from '../src/domain/tickets/ticket-search-index.ts';

const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '100000' },
    db: { type: 'string', default: 'sqlite' },
    duration: { type: 'string', default: '10' },
    smoke: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    reuse: { type: 'boolean', default: false },
    'mysql-url': { type: 'string', default: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    only: { type: 'string' },
  },
});
const N = args.smoke ? 1000 : Number(args.tickets);
const DURATION = args.smoke ? 2 : Number(args.duration);
const PASSWORD = 'bench password 123';
const root = path.resolve(import.meta.dirname, '..');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
  let databaseUrl: string;
  let database: Parameters<typeof createDb>[0];
  if (args.db === 'mysql') {
    if (!args.reuse) {
      const admin = createDb({ client: 'mysql', url: `${args['mysql-url']}/test` });
      await admin.raw('DROP DATABASE IF EXISTS tessera_bench');
      await admin.raw('CREATE DATABASE tessera_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
      await admin.destroy();
    }
    databaseUrl = `${args['mysql-url']}/tessera_bench`;
    database = { client: 'mysql', url: databaseUrl };
  } else {
    const file = path.join(dir, 'bench.sqlite');
    databaseUrl = `sqlite:${file}`;
    database = { client: 'sqlite', filename: file };
  }
  const db = createDb(database);
  await migrateLatest(db);
  if (args.reuse && args.db !== 'mysql') throw new Error('--reuse needs --db mysql (the SQLite database lives in a temporary folder)');
  log(args.reuse ? 'Reusing tessera_bench as an earlier run filled it…' : `Seeding ${N.toLocaleString('en')} tickets on ${args.db}…`);
  const seed = args.reuse ? await describeSeed(db) : await bulkSeed(db, N, PASSWORD);
  // An earlier run's sign-ins count against the per-IP sign-in limit (30 in 15 minutes): start afresh.
  if (args.reuse) await db('rate_limits').delete();
  log(`${args.reuse ? 'Found' : 'Seeded'} ${seed.tickets.toLocaleString('en')} tickets and ${seed.entries.toLocaleString('en')} entries${args.reuse ? '' : ` in ${seed.seconds.toFixed(1)} s`}`);
  // The table is titled with --tickets (the size that was filled; earlier runs' API rows add a few
  // thousand): a reused database of another size would be reported, and replace a section, as this one.
  if (args.reuse && Math.abs(seed.tickets - N) > N * 0.1) throw new Error(`tessera_bench holds ${seed.tickets.toLocaleString('en')} tickets: pass --tickets with the size it was filled with`);
  // Tickets whose words are not in the search index yet (a database filled before the index existed,
  // or the API rows of an earlier run), indexed as the background task would, before anything is measured.
  const indexStarted = Date.now();
  const indexed = await indexAllPending(db);
  if (indexed) log(`Indexed ${indexed.toLocaleString('en')} tickets' subject words for search in ${((Date.now() - indexStarted) / 1000).toFixed(1)} s`);
  // The per-key API rate limit (default 300/min) would cap the ticket-creation row at 5 req/s:
  // the benchmark measures the server, so it raises it (a documented setting, not a code path).
  await writeSettings(db, { api_rate_limit_per_minute: 100_000 }, new Date());
  const { key } = await createApiKey({ db, actor: SYSTEM, clock: () => new Date(), publicUrl: 'http://127.0.0.1' }, { allowedIp: '*', note: 'bench', canCreateTickets: true, canManageTickets: true });
  const statementCounts = await countStatements(database, { ticketId: seed.sampleTicketId, replyTicketId: seed.replyTicketId, userEmail: seed.sampleUserEmail, topicId: seed.topicId, departmentId: seed.departments[1], password: PASSWORD, apiKey: key });
  // Replies go to the newest open tickets in turn, as a team's do (never two agents on one ticket at
  // once); the sample ticket is left out so the ticket-page row keeps its 10 entries.
  const replyTickets: number[] = await db('tickets').where({ state: 'open' }).whereNot('id', seed.sampleTicketId).orderBy('id', 'desc').limit(2000).pluck('id');
  await db.destroy();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // As `npm start` does: compile (scripts/build.mjs), then run the bundle with plain node.
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const app = spawn(process.execPath, startArgs(), {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, DATA_DIR: dir, SESSION_SECRET: crypto.randomBytes(32).toString('hex'), PUBLIC_URL: base, LOG_LEVEL: 'warn', JOBS_DISABLED: '1', TRUST_PROXY: 'loopback', WEB_CONCURRENCY: args.workers! },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady(base);
    const agent = await signIn(base, 'bench', PASSWORD);
    const limitedAgent = await signIn(base, 'agent1', PASSWORD);
    const rows: Row[] = [];
    // MariaDB's own CPU per request, when it runs on this machine (the bench's default URL).
    const dbPid = args.db === 'mysql' ? localMariadbPid() : undefined;
    const word = 'printer';
    let next = 0;
    const replyHeaders = { cookie: agent.cookie, 'content-type': 'application/x-www-form-urlencoded' };
    const replyBody = () => new URLSearchParams({ _csrf: agent.csrf, message: 'Benchmark reply' }).toString();
    const scenarios: Scenario[] = [
      { name: 'API: open ticket (POST /api/tickets.json)', method: 'POST', path: '/api/tickets.json', headers: { 'X-API-Key': key, 'content-type': 'application/json' }, body: () => JSON.stringify({ name: 'Bench', email: `b${crypto.randomInt(1e9)}@bench.test`, subject: benchSubject(crypto.randomInt(1e9)), message: 'Created by the benchmark.' }), stmts: `${statementCounts.apiCreate} (known requester: ${statementCounts.apiCreateKnown})` },
      { name: 'Portal: open ticket (GET form + POST /tickets)', method: 'POST', path: '/tickets', sequence: portalSequence(base, seed.topicId), stmts: `${statementCounts.portalForm} + ${statementCounts.portalCreate} (known requester: ${statementCounts.portalCreateKnown})` },
      { name: 'Portal: home page (GET /)', method: 'GET', path: '/', stmts: statementCounts.portalHome },
      { name: 'Agent: Open queue, page 1', method: 'GET', path: '/scp/tickets?queue=open', headers: { cookie: agent.cookie }, stmts: statementCounts.queuePage1 },
      { name: 'Agent (one department, not admin): Open queue, page 1', method: 'GET', path: '/scp/tickets?queue=open', headers: { cookie: limitedAgent.cookie }, stmts: statementCounts.queueAgent },
      { name: 'Agent: Open queue, page 50', method: 'GET', path: '/scp/tickets?queue=open&page=50', headers: { cookie: agent.cookie }, stmts: statementCounts.queuePage50 },
      { name: 'Agent: Open queue sorted by priority', method: 'GET', path: '/scp/tickets?queue=open&sort=priority&dir=asc', headers: { cookie: agent.cookie }, stmts: statementCounts.queueSorted },
      { name: 'Agent: queue filtered by department', method: 'GET', path: `/scp/tickets?queue=open&dept=${seed.departments[1]}`, headers: { cookie: agent.cookie }, stmts: statementCounts.queueFiltered },
      { name: 'Agent: ticket page (10 entries)', method: 'GET', path: `/scp/tickets/${seed.sampleTicketId}`, headers: { cookie: agent.cookie }, stmts: statementCounts.ticketPage },
      // The agent's landing page, and the reports of the last 30 days (~8 % of the tickets, created
      // over a year): pages the issue's table does not list, measured since session 11.
      { name: 'Agent: dashboard (GET /scp)', method: 'GET', path: '/scp', headers: { cookie: agent.cookie }, stmts: statementCounts.dashboard },
      { name: 'Agent: reports, last 30 days', method: 'GET', path: '/scp/reports?period=30d', headers: { cookie: agent.cookie }, stmts: statementCounts.report30d },
      // Pages the issue's table does not list whose cost grew with the desk until session 12: the
      // Closed queue filtered by a source no ticket has (a walk of every closed ticket: 36 s at 1M), and
      // the API's ticket list (every ticket sorted: 57 s). Statement counts not asserted (–).
      { name: 'Agent: Closed queue filtered by a source no ticket has (Chat)', method: 'GET', path: '/scp/tickets?queue=closed&source=chat', headers: { cookie: agent.cookie } },
      { name: 'API: list tickets (GET /api/v1/tickets?state=open)', method: 'GET', path: '/api/v1/tickets?state=open', headers: { 'X-API-Key': key } },
      { name: 'Agent: search by requester email', method: 'GET', path: `/scp/tickets?queue=open&q=${encodeURIComponent(seed.sampleUserEmail)}`, headers: { cookie: agent.cookie }, stmts: statementCounts.searchEmail },
      { name: `Agent: search by subject word ("${word}")`, method: 'GET', path: `/scp/tickets?queue=open&q=${word}`, headers: { cookie: agent.cookie }, stmts: statementCounts.searchWord },
      // Two words in 1 subject in 10 each: both common, so the total walks the queue's covering index (searchDriver).
      { name: 'Agent: search by two words ("printer vpn")', method: 'GET', path: '/scp/tickets?queue=open&q=printer+vpn', headers: { cookie: agent.cookie }, stmts: statementCounts.searchTwoWords },
      // A word in no subject: its range of the word index is empty (until session 9 the total walked every open ticket's entry).
      { name: 'Agent: search by a word in no subject ("zzzzqq")', method: 'GET', path: '/scp/tickets?queue=open&q=zzzzqq', headers: { cookie: agent.cookie }, stmts: statementCounts.searchNone },
      // Search message text (the thread's full-text index): a rare term (the bench's entries name their ticket's
      // sequence number: "4242" is in the entries of 4242, 42420…), and a word in every entry (the newest 2,000 read).
      { name: 'Agent: search message text, a rare term ("4242")', method: 'GET', path: '/scp/search?q=4242', headers: { cookie: agent.cookie } },
      { name: 'Agent: search message text, a word in every entry ("problem")', method: 'GET', path: '/scp/search?q=problem', headers: { cookie: agent.cookie } },
      { name: 'Agent: post a reply (each to another open ticket)', method: 'POST', path: `/scp/tickets/${seed.replyTicketId}/reply`, pathFn: () => `/scp/tickets/${replyTickets[next++ % replyTickets.length]}/reply`, headers: replyHeaders, body: replyBody, stmts: statementCounts.reply },
      // 16 agents answering the same ticket at once: each reply waits for the ticket's row lock.
      { name: 'Agent: post a reply (all to one ticket)', method: 'POST', path: `/scp/tickets/${seed.replyTicketId}/reply`, headers: replyHeaders, body: replyBody, stmts: statementCounts.reply },
    ];
    const only = args.only ? new RegExp(args.only, 'i') : undefined;
    let indexedForSearch = false;
    for (const s of scenarios.filter((x) => !only || only.test(x.name))) {
      // The server runs without its background jobs (JOBS_DISABLED), the search index task among them:
      // before the first search row, the tickets the rows above opened are indexed, as that task does
      // every 2 seconds in a help desk (until then each search tests them one by one).
      if (/^Agent: search/.test(s.name) && !indexedForSearch) {
        indexedForSearch = true;
        const idb = createDb(database);
        const n = await indexAllPending(idb);
        await idb.destroy();
        if (n) log(`  (indexed the words of ${n.toLocaleString('en')} tickets opened above, as the background task would have)`);
      }
      await warmUp(base, s);
      for (const c of [1, 16]) rows.push(await runScenario(base, s, c, { app: app.pid!, db: dbPid }));
    }
    const rss = peakRss(app.pid!);
    const table = renderTable(rows, { db: args.db!, tickets: N, seedSeconds: seed.seconds, entries: seed.entries, rss });
    process.stdout.write('\n' + table + '\n');
    writeReport(table);
  } finally {
    app.kill('SIGTERM');
  }
}

/**
 * The node arguments of `npm start` (package.json "start": `node <flags> dist/server.js`), so the
 * benchmark runs the server with the same V8 flags. BENCH_NODE_FLAGS, when set, replaces the flags
 * (to compare settings; the table then says which were used).
 */
function startArgs(): string[] {
  const start: string = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.start;
  const args = start.trim().split(/\s+/);
  if (args[0] !== 'node' || args.at(-1) !== 'dist/server.js') throw new Error(`package.json "start" is not "node … dist/server.js": ${start}`);
  const flags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean) : args.slice(1, -1);
  return [...flags, 'dist/server.js'];
}

interface Scenario { name: string; method: 'GET' | 'POST'; path: string; /** A path per request (else `path`). */ pathFn?: () => string; headers?: Record<string, string>; body?: () => string; sequence?: () => unknown[]; stmts?: number | string }
interface Row { name: string; concurrency: number; rps: number; p50: number; p95: number; p99: number; failed: number; stmts?: number | string; appCpu: number; dbCpu?: number }

/** A client address per request (behind TRUST_PROXY=loopback), as real traffic is: per-IP rate limits then apply per simulated client. */
const randomIp = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;

function requestsOf(s: Scenario) {
  return s.sequence
    ? s.sequence()
    : [{ method: s.method, path: s.path, setupRequest: (req: any) => ({ ...req, ...(s.pathFn ? { path: s.pathFn() } : {}), headers: { ...(s.headers ?? {}), 'x-forwarded-for': randomIp() }, ...(s.body ? { body: s.body() } : {}) }) }];
}

/**
 * One unmeasured second of the scenario before its rows: the first requests of a code path run
 * before V8 has optimised it (and the first row after the start also loaded lazily imported modules),
 * which put the first row's CPU per request up to ~50 % above the steady state.
 */
async function warmUp(base: string, s: Scenario): Promise<void> {
  await autocannon({ url: base, connections: 4, duration: Math.min(1, DURATION), requests: requestsOf(s) } as any);
}

async function runScenario(base: string, s: Scenario, connections: number, pids: { app: number; db?: number }): Promise<Row> {
  const requests = requestsOf(s);
  const app0 = cpuMs(processTree(pids.app));
  const db0 = pids.db ? cpuMs([pids.db]) : 0;
  const result: any = await autocannon({ url: base, connections, duration: DURATION, requests } as any);
  const done = Math.max(1, result.requests.total);
  const appCpu = (cpuMs(processTree(pids.app)) - app0) / done;
  const dbCpu = pids.db ? (cpuMs([pids.db]) - db0) / done : undefined;
  const lat = result.latency;
  const failed = (result['4xx'] ?? 0) + (result['5xx'] ?? 0) + (result.errors ?? 0) + (result.timeouts ?? 0);
  const row = { name: s.name, concurrency: connections, rps: result.requests.average, p50: lat.p50, p95: lat.p95 ?? lat.p97_5, p99: lat.p99, failed, stmts: s.stmts, appCpu, dbCpu };
  log(`  ${s.name} @${connections}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p95 ${row.p95} ms, p99 ${row.p99} ms, failed ${failed} (2xx ${result['2xx']}, 3xx ${result['3xx']}), CPU ms/req app ${appCpu.toFixed(2)} db ${dbCpu?.toFixed(2) ?? '–'}`);
  return row;
}

/**
 * Opening a ticket in the portal as a browser does: load the form (a session and its CSRF token),
 * then submit it. Each submission starts a new session (the portal grants the new ticket to it).
 */
function portalSequence(base: string, topicId: number) {
  return () => [
    {
      method: 'GET', path: '/tickets/new',
      setupRequest: (req: any, context: any) => ((context.ip = randomIp()), { ...req, headers: { 'x-forwarded-for': context.ip } }),
      onResponse: (_status: number, body: string, context: any, headers: any) => {
        context.csrf = csrfIn(body);
        const raw = headers?.['set-cookie'] ?? headers?.['Set-Cookie'];
        const list: string[] = Array.isArray(raw) ? raw : raw ? [raw] : [];
        context.cookie = list.map((c) => c.split(';')[0]).join('; ');
      },
    },
    {
      method: 'POST', path: '/tickets',
      setupRequest: (req: any, context: any) => ({
        ...req,
        headers: { cookie: context.cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': context.ip, origin: base },
        body: new URLSearchParams({ _csrf: context.csrf, topicId: String(topicId), email: `p${crypto.randomInt(1e9)}@bench.test`, name: 'Bench', subject: benchSubject(crypto.randomInt(1e9)), message: 'Hello' }).toString(),
      }),
    },
  ];
}

/** A port nothing listens on (a fixed range once hit 4369, Erlang's epmd, which RabbitMQ runs here). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(base: string) {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(base + '/readyz')).ok) return;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('app did not start');
}

function cookieOf(res: Response, jar: string): string {
  const set = res.headers.getSetCookie?.() ?? [];
  const map = new Map(jar.split('; ').filter(Boolean).map((c) => [c.split('=')[0], c]));
  for (const c of set) map.set(c.split('=')[0], c.split(';')[0]);
  return [...map.values()].join('; ');
}
function csrfIn(html: string): string {
  return /(?:name="_csrf" value="|[?&]_csrf=)([^"&]+)/.exec(html)?.[1] ?? '';
}

async function signIn(base: string, login: string, password: string) {
  let res = await fetch(base + '/scp/login', { redirect: 'manual' });
  let cookie = cookieOf(res, '');
  const csrf = csrfIn(await res.text());
  res = await fetch(base + '/scp/login', { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, login, password }) });
  cookie = cookieOf(res, cookie);
  if (res.status !== 303) throw new Error(`bench sign-in failed: ${res.status}`);
  res = await fetch(base + '/scp/tickets?queue=open', { headers: { cookie } });
  return { cookie, csrf: csrfIn(await res.text()) };
}

/** The app's process and its worker processes (--workers). */
function processTree(pid: number): number[] {
  try {
    return [pid, ...fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ). */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU time (ms, user + system) the processes have used so far. Latency at concurrency 16 is mostly the
 * queue for the 2 cores; CPU per request is what a change moves, and it varies far less between runs.
 */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch { /* gone */ }
  }
  return (ticks / CLK_TCK) * 1000;
}

/** The MariaDB (or MySQL) server's process on this machine, if one runs here. */
function localMariadbPid(): number | undefined {
  if (!/@(127\.0\.0\.1|localhost)(:|\/|$)/.test(args['mysql-url']!)) return undefined;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (['mariadbd', 'mysqld'].includes(fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim())) return Number(d);
    } catch { /* gone */ }
  }
  return undefined;
}

/** Peak RSS (VmHWM, MB) of the app's process and of each of its worker processes (--workers). */
function peakRss(pid: number): { largest: number; total: number; processes: number } {
  const hwm = (p: number) => {
    try {
      return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  const all = processTree(pid).map(hwm);
  return { largest: Math.max(...all), total: all.reduce((a, b) => a + b, 0), processes: all.length };
}

function renderTable(rows: Row[], m: { db: string; tickets: number; seedSeconds: number; entries: number; rss: ReturnType<typeof peakRss> }): string {
  const workers = Number(args.workers) > 1 ? `, ${args.workers} HTTP workers` : '';
  const head = `### ${m.db === 'mysql' ? 'MariaDB' : 'SQLite'}, ${m.tickets.toLocaleString('en')} tickets${workers} (${m.entries.toLocaleString('en')} entries; ${Number.isNaN(m.seedSeconds) ? 'filled by an earlier run' : `filled in ${m.seedSeconds.toFixed(1)} s`})\n\n` +
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; \`node ${startArgs().join(' ')}\`; ${DURATION} s per row; ` +
    (m.rss.processes > 1
      ? `${m.rss.processes - 1} HTTP workers (WEB_CONCURRENCY); peak RSS ${m.rss.largest.toFixed(0)} MB for the largest process, ${m.rss.total.toFixed(0)} MB for all ${m.rss.processes}.\n\n`
      : `one process; app peak RSS ${m.rss.largest.toFixed(0)} MB.\n\n`) +
    '| scenario | conc. | req/s | p50 ms | p95 ms | p99 ms | failed | SQL/req | app CPU ms/req | DB CPU ms/req |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  const db = (r: Row) => (r.dbCpu !== undefined ? r.dbCpu.toFixed(2) : m.db === 'mysql' ? '–' : 'in app');
  return head + rows.map((r) => `| ${r.name} | ${r.concurrency} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.failed} | ${r.stmts ?? '–'} | ${r.appCpu.toFixed(2)} | ${db(r)} |`).join('\n') + '\n';
}

function writeReport(table: string) {
  const file = path.resolve(root, args.out!);
  const header = '# Benchmarks\n\nProduced by `npm run bench` (see bench/run.ts). Each section is replaced by the latest run for that database and size.\n\n';
  let body = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : header;
  const title = table.split('\n')[0].replace(/ \(.*$/, '');
  const sections = body.split(/(?=^### )/m);
  // Same database, size and worker count only ("…, 100,000 tickets" must not replace "…, 100,000 tickets, 2 HTTP workers").
  const kept = sections.filter((s) => s.split('\n')[0].replace(/ \(.*$/, '') !== title);
  body = kept.join('') + (kept.at(-1)?.endsWith('\n\n') ? '' : '\n') + table;
  fs.writeFileSync(file, body.startsWith('# Benchmarks') ? body : header + body);
  log(`Wrote ${args.out}`);
}

function log(s: string) {
  process.stderr.write(s + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
