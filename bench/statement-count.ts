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
  apiCreate: number;
  portalCreate: number;
  portalHome: number;
  queuePage1: number;
  queuePage50: number;
  queueFiltered: number;
  ticketPage: number;
  searchEmail: number;
  searchWord: number;
  reply: number;
}

/** Counts statements per request kind against an existing, seeded database. */
export async function countStatements(
  database: Config['database'],
  o: { ticketId: number; departmentId: number; password: string; apiKey: string; login?: string; db?: Knex },
): Promise<StatementCounts> {
  const db = o.db ?? createDb(database);
  const config = { ...loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 'y'.repeat(40), PUBLIC_URL: 'http://bench.test', TRUST_PROXY: 'loopback' }), database };
  const app = createApp({ config, db, clock: () => new Date(), logger: createLogger(config) });
  let n = 0;
  const onQuery = () => (n += 1);
  db.on('query', onQuery);
  const count = async (fn: () => Promise<unknown>) => {
    n = 0;
    await fn();
    return n;
  };
  try {
    const agent = request.agent(app);
    let page = await agent.get('/scp/login');
    let csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    await agent.post('/scp/login').type('form').send({ _csrf: csrf, login: o.login ?? 'bench', password: o.password });
    page = await agent.get('/scp/tickets?queue=open');
    csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? csrf;
    const portal = request.agent(app);
    const form = await portal.get('/tickets/new');
    const pcsrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    const ip = () => `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
    return {
      apiCreate: await count(() => request(app).post('/api/tickets.json').set('X-API-Key', o.apiKey).set('X-Forwarded-For', ip()).send({ name: 'Count', email: 'count@bench.test', subject: 'Counting', message: 'Statements' })),
      portalCreate: await count(() => portal.post('/tickets').set('X-Forwarded-For', ip()).type('form').send({ _csrf: pcsrf, email: 'count2@bench.test', name: 'Count', subject: 'Counting', message: 'Statements' })),
      portalHome: await count(() => request(app).get('/')),
      queuePage1: await count(() => agent.get('/scp/tickets?queue=open')),
      queuePage50: await count(() => agent.get('/scp/tickets?queue=open&page=50')),
      queueFiltered: await count(() => agent.get(`/scp/tickets?queue=open&dept=${o.departmentId}`)),
      ticketPage: await count(() => agent.get(`/scp/tickets/${o.ticketId}`)),
      searchEmail: await count(() => agent.get('/scp/tickets?queue=open&q=user1%40customers.test')),
      searchWord: await count(() => agent.get('/scp/tickets?queue=open&q=printer')),
      reply: await count(() => agent.post(`/scp/tickets/${o.ticketId}/reply`).type('form').send({ _csrf: csrf, message: 'Counting statements' })),
    };
  } finally {
    db.removeListener('query', onQuery);
    if (!o.db) await db.destroy();
  }
}
