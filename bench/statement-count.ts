/**
 * Counts the SQL statements the app issues for one request of each benchmarked kind, in process,
 * with knex's 'query' event (every statement, BEGIN/COMMIT included). Deterministic, so the normal
 * test suite asserts the budgets too (test/http/statement-budget.test.ts).
 */
import request from 'supertest';
import type { Knex } from 'knex';
import { createApp } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createDb } from '../src/db/knex.ts';
import { createLogger } from '../src/logger.ts';

export interface StatementCounts {
  /** A new requester (a users row is written). */
  apiCreate: number;
  /** The steady state of an integration: a requester already known. */
  apiCreateKnown: number;
  portalForm: number;
  /** A new requester (a users row is written). */
  portalCreate: number;
  /** The same requester again, from another browser: no user written. */
  portalCreateKnown: number;
  /** The ticket page in the portal, for the browser that opened it (its user and tickets in its session). */
  portalTicket: number;
  portalHome: number;
  queuePage1: number;
  /** The Open queue of an agent limited to one department (not an admin). */
  queueAgent: number;
  queuePage50: number;
  queueFiltered: number;
  /** The Open queue sorted by priority (the sort key from another table). */
  queueSorted: number;
  /** Given `refinedQuery` (an organization and a custom field's answer), the Open queue filtered by them, for the admin and the limited agent. */
  queueRefined?: number;
  queueRefinedAgent?: number;
  ticketPage: number;
  searchEmail: number;
  searchWord: number;
  /** A word in no subject: its (empty) range of the word index for the total, no page statement. */
  searchNone: number;
  /** Two words: their tickets counted first (the rarer one's range is read), then as for one word. */
  searchTwoWords: number;
  reply: number;
  /** A reply with the department's signature appended (read with the ticket: no statement more). */
  replySigned: number;
  /** The agent's landing page (GET /scp): counts and the most urgent tickets. */
  dashboard: number;
  /** Reports for the last 30 days, by department (they run in parallel on the pool). */
  report30d: number;
}

/** Counts statements per request kind against an existing, seeded database. */
export async function countStatements(
  database: Config['database'],
  o: { ticketId: number; replyTicketId?: number; userEmail?: string; topicId?: number; departmentId: number; password: string; apiKey: string; login?: string; agentLogin?: string; refinedQuery?: string; db?: Knex; onStatement?: (kind: string, sql: string, bindings: unknown[]) => void },
): Promise<StatementCounts> {
  const db = o.db ?? createDb(database);
  const config = { ...loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 'y'.repeat(40), PUBLIC_URL: 'http://bench.test', TRUST_PROXY: 'loopback' }), database };
  const app = createApp({ config, db, clock: () => new Date(), logger: createLogger(config) });
  let n = 0;
  let kind = '';
  const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
    n += 1;
    o.onStatement?.(kind, q.sql, q.bindings ?? []);
  };
  db.on('query', onQuery);
  /** Runs one request and counts its statements; a response other than `expect` is an error (a count of a failure means nothing). */
  const count = async (label: string, expect: number, fn: () => Promise<{ status: number; text?: string }>) => {
    kind = label;
    n = 0;
    const res = await fn();
    const c = n;
    kind = '';
    if (res.status !== expect) throw new Error(`statement count: ${label} answered ${res.status}, expected ${expect}: ${(res.text ?? '').replace(/<head>[\s\S]*<\/head>/, '').replace(/\s+/g, ' ').slice(0, 800)}`);
    return c;
  };
  try {
    const agent = request.agent(app);
    let page = await agent.get('/scp/login');
    let csrf = /(?:name="_csrf" value="|[?&]_csrf=)([^"&]+)/.exec(page.text)?.[1] ?? '';
    await agent.post('/scp/login').type('form').send({ _csrf: csrf, login: o.login ?? 'bench', password: o.password });
    page = await agent.get('/scp/tickets?queue=open');
    csrf = /(?:name="_csrf" value="|[?&]_csrf=)([^"&]+)/.exec(page.text)?.[1] ?? csrf;
    const limited = request.agent(app);
    const lpage = await limited.get('/scp/login');
    const lcsrf = /(?:name="_csrf" value="|[?&]_csrf=)([^"&]+)/.exec(lpage.text)?.[1] ?? '';
    await limited.post('/scp/login').type('form').send({ _csrf: lcsrf, login: o.agentLogin ?? 'agent1', password: o.password });
    await limited.get('/scp/tickets?queue=open'); // as for the admin: the first page after sign-in also stores the CSRF token
    const portal = request.agent(app);
    let pcsrf = '';
    const portalForm = await count('portalForm', 200, async () => {
      const form = await portal.get('/tickets/new');
      pcsrf = /(?:name="_csrf" value="|[?&]_csrf=)([^"&]+)/.exec(form.text)?.[1] ?? '';
      return form;
    });
    const ip = () => `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
    const portalEmail = `portal${Date.now()}@bench.test`;
    let opened = '';
    const portalOpen = (label: string, browser: ReturnType<typeof request.agent>) => count(label, 303, async () => {
      const res = await browser.post('/tickets').set('X-Forwarded-For', ip()).type('form').send({ _csrf: pcsrf, topicId: String(o.topicId ?? ''), email: portalEmail, name: 'Count', subject: 'Counting', message: 'Statements' });
      opened = String(res.headers.location ?? '').replace(/\/opened$/, '');
      return res;
    });
    const portalCreate = await portalOpen('portalCreate', portal);
    const portalTicket = await count('portalTicket', 200, () => portal.get(opened));
    // The same requester from another browser (whose session holds no ticket yet).
    const other = request.agent(app);
    pcsrf = /(?:name="_csrf" value="|[?&]_csrf=)([^"&]+)/.exec((await other.get('/tickets/new')).text)?.[1] ?? '';
    const portalCreateKnown = await portalOpen('portalCreateKnown', other);
    return {
      apiCreate: await count('apiCreate', 201, () => request(app).post('/api/tickets.json').set('X-API-Key', o.apiKey).set('X-Forwarded-For', ip()).send({ name: 'Count', email: `count${Date.now()}@bench.test`, subject: 'Counting', message: 'Statements' })),
      apiCreateKnown: await count('apiCreateKnown', 201, () => request(app).post('/api/tickets.json').set('X-API-Key', o.apiKey).set('X-Forwarded-For', ip()).send({ name: 'Count', email: o.userEmail ?? 'user1@customers.test', subject: 'Counting again', message: 'Statements' })),
      portalForm,
      portalCreate,
      portalCreateKnown,
      portalTicket,
      portalHome: await count('portalHome', 200, () => request(app).get('/')),
      queuePage1: await count('queuePage1', 200, () => agent.get('/scp/tickets?queue=open')),
      queueAgent: await count('queueAgent', 200, () => limited.get('/scp/tickets?queue=open')),
      queuePage50: await count('queuePage50', 200, () => agent.get('/scp/tickets?queue=open&page=50')),
      queueFiltered: await count('queueFiltered', 200, () => agent.get(`/scp/tickets?queue=open&dept=${o.departmentId}`)),
      queueSorted: await count('queueSorted', 200, () => agent.get('/scp/tickets?queue=open&sort=priority&dir=asc')),
      ...(o.refinedQuery ? {
        queueRefined: await count('queueRefined', 200, () => agent.get(`/scp/tickets?queue=open&${o.refinedQuery}`)),
        queueRefinedAgent: await count('queueRefinedAgent', 200, () => limited.get(`/scp/tickets?queue=open&${o.refinedQuery}`)),
      } : {}),
      ticketPage: await count('ticketPage', 200, () => agent.get(`/scp/tickets/${o.ticketId}`)),
      searchEmail: await count('searchEmail', 200, () => agent.get(`/scp/tickets?queue=open&q=${encodeURIComponent(o.userEmail ?? 'user1@customers.test')}`)),
      searchWord: await count('searchWord', 200, () => agent.get('/scp/tickets?queue=open&q=printer')),
      searchNone: await count('searchNone', 200, () => agent.get('/scp/tickets?queue=open&q=zzzzqq')),
      searchTwoWords: await count('searchTwoWords', 200, () => agent.get('/scp/tickets?queue=open&q=printer+vpn')),
      dashboard: await count('dashboard', 200, () => agent.get('/scp')),
      report30d: await count('report30d', 200, () => agent.get('/scp/reports?period=30d')),
      reply: await count('reply', 303, () => agent.post(`/scp/tickets/${o.replyTicketId ?? o.ticketId}/reply`).type('form').send({ _csrf: csrf, message: 'Counting statements' })),
      replySigned: await count('replySigned', 303, () => agent.post(`/scp/tickets/${o.replyTicketId ?? o.ticketId}/reply`).type('form').send({ _csrf: csrf, message: 'Counting statements', signature: 'dept' })),
    };
  } finally {
    db.removeListener('query', onQuery);
    if (!o.db) await db.destroy();
  }
}
