/**
 * `npx tsx bench/explain.ts [--db mysql] [--tickets 2000] [--kinds queuePage1,ticketPage] [--time]`
 * Seeds a small database, runs each benchmarked request once in process and prints every SQL
 * statement it issued with its query plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on MariaDB).
 * Use it to check that agent pages are answered from indexes; `--time` also runs each SELECT 50 times
 * and prints its mean time.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, migrateLatest } from '../src/db/knex.ts';
import { createApiKey } from '../src/domain/api-keys/api-key-service.ts';
import { SYSTEM } from '../src/domain/actor.ts';
import { bulkSeed } from './bulk-seed.ts';
import { countStatements } from './statement-count.ts';

const { values: args } = parseArgs({ options: { db: { type: 'string', default: 'sqlite' }, tickets: { type: 'string', default: '2000' }, kinds: { type: 'string', default: '' }, 'mysql-url': { type: 'string', default: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' }, 'no-plans': { type: 'boolean', default: false }, time: { type: 'boolean', default: false }, 'no-analyze': { type: 'boolean', default: false } } });
const kinds = args.kinds ? args.kinds.split(',') : null;

async function main() {
  let database: Parameters<typeof createDb>[0];
  if (args.db === 'mysql') {
    const admin = createDb({ client: 'mysql', url: `${args['mysql-url']}/test` });
    await admin.raw('DROP DATABASE IF EXISTS tessera_explain');
    await admin.raw('CREATE DATABASE tessera_explain CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    await admin.destroy();
    database = { client: 'mysql', url: `${args['mysql-url']}/tessera_explain` };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-explain-'));
    database = { client: 'sqlite', filename: path.join(dir, 'x.sqlite') };
  }
  const db = createDb(database);
  await migrateLatest(db);
  const seed = await bulkSeed(db, Number(args.tickets), 'bench password 123');
  // The app never runs ANALYZE itself: --no-analyze shows the plans a fresh production database gets.
  if (!args['no-analyze']) {
    if (args.db === 'mysql') await db.raw('ANALYZE TABLE tickets, thread_entries, users');
    else await db.raw('ANALYZE');
  }
  const { key } = await createApiKey({ db, actor: SYSTEM, clock: () => new Date(), publicUrl: 'http://127.0.0.1' }, { allowedIp: '*', note: 'explain', canCreateTickets: true, canManageTickets: true });
  const seen: { kind: string; sql: string; bindings: unknown[] }[] = [];
  const counts = await countStatements(database, { db, ticketId: seed.sampleTicketId, replyTicketId: seed.replyTicketId, userEmail: seed.sampleUserEmail, topicId: seed.topicId, departmentId: seed.departments[1], password: 'bench password 123', apiKey: key, onStatement: (kind, sql, bindings) => seen.push({ kind, sql, bindings }) });
  const plain = createDb(database);
  for (const s of seen) {
    if (!s.kind || (kinds && !kinds.includes(s.kind))) continue;
    process.stdout.write(`\n[${s.kind}] ${s.sql.slice(0, 600)}${s.sql.length > 600 ? '…' : ''}\n`);
    if (args.time && /^\s*(select|\(select)/i.test(s.sql)) {
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) await plain.raw(s.sql, s.bindings as any);
      process.stdout.write(`    time: ${((performance.now() - t0) / 50).toFixed(2)} ms per run (mean of 50)\n`);
    }
    if (args['no-plans'] || !/^\s*(select|\(select)/i.test(s.sql)) continue;
    try {
      if (args.db === 'mysql') {
        const [rows] = await plain.raw(`EXPLAIN ${s.sql}`, s.bindings as any);
        for (const r of rows as any[]) process.stdout.write(`    ${r.id} ${r.select_type} ${r.table} type=${r.type} key=${r.key} rows=${r.rows} ${r.Extra ?? ''}\n`);
      } else {
        const rows = await plain.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any);
        for (const r of rows as any[]) process.stdout.write(`    ${r.detail}\n`);
      }
    } catch (e) {
      process.stdout.write(`    (no plan: ${(e as Error).message.slice(0, 100)})\n`);
    }
  }
  process.stdout.write(`\n${JSON.stringify(counts)}\n`);
  await plain.destroy();
  await db.destroy();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
