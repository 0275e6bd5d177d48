/**
 * The quick search's word index (src/domain/tickets/ticket-search-index.ts) as an agent meets it:
 * a ticket is found from the moment it is opened, by the start of any word of its subject once the
 * background task has indexed it, never outside what the agent may see, and the total of a word is
 * read from the index (issue 10: a word in few or no subjects read the whole queue).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, buildUser, type BuiltAgent } from '../factories/index.ts';
import { listQueue, WALK_COUNT_CAP } from '../../src/domain/tickets/ticket-queue-queries.ts';
import { editTicket } from '../../src/domain/tickets/ticket-agent-service.ts';
import { indexAllPending, indexPendingTickets, searchText } from '../../src/domain/tickets/ticket-search-index.ts';
import { dbBool } from '../../src/db/dialect.ts';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { dbClient } from '../support/test-env.ts';
import { statementsDuring } from '../support/statements.ts';

describe('quick search by subject words', () => {
  let t: TestApp;
  let support: number;
  let banking: number;
  let john: BuiltAgent; // Support only
  let admin: BuiltAgent;
  const indexed = async (id: number) => dbBool((await t.db('tickets').where({ id }).first('search_indexed')).search_indexed);
  const search = async (who: BuiltAgent, q: string, queue = 'open') => {
    const page = await listQueue(t.ctx(who.actor), { queue, q });
    return { ids: page.rows.map((r) => r.id).sort((a, b) => a - b), total: page.total };
  };
  const ids = (...xs: { id: number }[]) => xs.map((x) => x.id).sort((a, b) => a - b);

  beforeAll(async () => {
    t = await startTestApp();
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Online Banking' });
    john = await buildAgent(t.db, { department_id: support, name: 'John' });
    admin = await buildAdmin(t.db);
  });
  afterAll(async () => t?.close());

  it('finds a ticket from the moment it is opened, then by the start of any word of its subject, in any case and with or without accents', async () => {
    const a = await buildTicket(t.db, { department_id: support, subject: 'Café plotter OFFLINE on floor 3' });
    const b = await buildTicket(t.db, { department_id: support, subject: 'Plotting tool crashes' });
    expect(await indexed(a.id)).toBe(false);
    // Not in the word index yet: found at once, by its search_text.
    expect(await search(admin, 'plotter')).toEqual({ ids: ids(a), total: 1 });
    expect(await search(admin, 'otter')).toEqual({ ids: [], total: 0 });
    expect(await indexPendingTickets(t.db)).toBeGreaterThanOrEqual(2);
    expect(await indexed(a.id)).toBe(true);
    expect(await t.db('ticket_search_words').where('ticket_id', a.id).orderBy('word').pluck('word')).toEqual(['3', 'cafe', 'floor', 'offline', 'on', 'plotter', 'test', 'user']); // the subject's and the requester's (Test User)
    for (const q of ['plotter', 'PLOTTER', 'plotte', 'cafe', 'Café', 'café offline', 'offline plotter', 'floor 3', 'Offline, plotter!'])
      expect(await search(admin, q), q).toEqual({ ids: ids(a), total: 1 });
    expect(await search(admin, 'plot')).toEqual({ ids: ids(a, b), total: 2 });
    // The start of a word, not any part of it; every term must match.
    expect(await search(admin, 'otter')).toEqual({ ids: [], total: 0 });
    expect(await search(admin, 'plotter crashes')).toEqual({ ids: [], total: 0 });
    // The number still finds its ticket, with or without '#'.
    expect((await search(admin, a.number)).ids).toEqual(ids(a));
    expect((await search(admin, `#${a.number}`)).ids).toEqual(ids(a));
  });

  it('keeps the index in step with a subject edit: the new subject is found at once, the old words no longer', async () => {
    const x = await buildTicket(t.db, { department_id: support, subject: 'Stapler jammed again' });
    await indexAllPending(t.db);
    expect((await search(admin, 'stapler')).ids).toEqual(ids(x));
    await editTicket(t.ctx(admin.actor), { ticketId: x.id, version: 1, subject: 'Shredder jammed again' });
    expect(await indexed(x.id)).toBe(false);
    expect((await search(admin, 'shredder')).ids).toEqual(ids(x));
    expect((await search(admin, 'stapler')).ids).toEqual([]);
    await indexAllPending(t.db);
    expect(await indexed(x.id)).toBe(true);
    expect((await search(admin, 'shredder')).ids).toEqual(ids(x));
    expect((await search(admin, 'stapler')).ids).toEqual([]);
    expect(await t.db('ticket_search_words').where('ticket_id', x.id).orderBy('word').pluck('word')).toEqual(['again', 'jammed', 'shredder', 'test', 'user']);
  });

  it("finds a ticket by its requester's name too (the start of any word of it, accents ignored), with the subject's words, indexed or not", async () => {
    const zoe = await buildUser(t.db, { name: 'Zoë Müller-Lüdenscheidt' });
    const a = await buildTicket(t.db, { department_id: support, user_id: zoe.id, subject: 'Scanner shows error 42' });
    const b = await buildTicket(t.db, { department_id: support, subject: 'Zoetrope for the lobby' });
    for (const pass of ['pending', 'indexed']) {
      if (pass === 'indexed') expect(await indexAllPending(t.db)).toBeGreaterThanOrEqual(2);
      for (const q of ['müller', 'muller', 'MULL', 'ludenscheidt', 'zoe muller', 'zoe scanner', 'scanner zoë', 'muller 42'])
        expect(await search(admin, q), `${pass}: ${q}`).toEqual({ ids: ids(a), total: 1 });
      // "zoe" starts a word of b's subject and a word of a's requester.
      expect(await search(admin, 'zoe'), pass).toEqual({ ids: ids(a, b), total: 2 });
      expect(await search(admin, 'muller lobby'), pass).toEqual({ ids: [], total: 0 });
    }
    // An agent of another department still does not see it.
    const jane = await buildAgent(t.db, { department_id: banking });
    expect(await search(jane, 'muller')).toEqual({ ids: [], total: 0 });
  });

  it("finds only what the agent may see, in the queue searched, indexed or not", async () => {
    const mine = await buildTicket(t.db, { department_id: support, subject: 'Scanner zeta broken' });
    const theirs = await buildTicket(t.db, { department_id: banking, subject: 'Scanner zeta broken too' });
    const closed = await buildTicket(t.db, { department_id: support, subject: 'Scanner zeta fixed', status: 'closed' });
    for (const round of ['pending', 'indexed']) {
      if (round === 'indexed') await indexAllPending(t.db);
      expect(await search(john, 'scanner zeta'), round).toEqual({ ids: ids(mine), total: 1 });
      expect(await search(admin, 'scanner zeta'), round).toEqual({ ids: ids(mine, theirs), total: 2 });
      expect(await search(john, 'scanner zeta', 'closed'), round).toEqual({ ids: ids(closed), total: 1 });
      expect(await search(john, 'scanner zeta', 'unassigned'), round).toEqual({ ids: ids(mine), total: 1 });
      expect(await search(john, 'scanner zeta', 'mine'), round).toEqual({ ids: [], total: 0 });
      expect((await search(john, theirs.number)).ids, round).toEqual([]);
    }
  });

  it('reads the total of a word from the word index, then looks each ticket up by id (not the queue walked)', async () => {
    await buildTicket(t.db, { department_id: support, subject: 'Projector lamp dead' });
    await indexAllPending(t.db);
    const { result, statements: seen } = await statementsDuring(t.db, () => search(john, 'projector'));
    expect(result.total).toBe(1);
    const summary = seen.find((s) => s.sql.includes('ticket_search_words') && /group_concat/i.test(s.sql))!;
    expect(summary).toBeDefined();
    if (t.config.database.client === 'sqlite') {
      const plan = ((await t.db.raw(`EXPLAIN QUERY PLAN ${summary.sql}`, summary.bindings as any[])) as { detail: string }[]).map((r) => r.detail);
      const at = plan.findIndex((d) => /^SEARCH sw USING (COVERING INDEX sqlite_autoindex_ticket_search_words_1|PRIMARY KEY) \(word>\? AND word<\?\)/.test(d));
      expect(at, plan.join('\n')).toBeGreaterThanOrEqual(0);
      expect(plan[at + 1]).toBe('SEARCH t USING INTEGER PRIMARY KEY (rowid=?)');
      // Newest first, by reading the range backwards: no sort of it inside its subquery (the UNION's
      // merge then sorts each part by id, as before).
      const part = plan.slice(plan.lastIndexOf('CO-ROUTINE p1', at), plan.indexOf('SCAN p1', at));
      expect(part.length, plan.join('\n')).toBeGreaterThan(1);
      expect(part.join('\n')).not.toMatch(/TEMP B-TREE/);
    } else {
      const [plan] = (await t.db.raw(`EXPLAIN ${summary.sql}`, summary.bindings as any[])) as unknown as [{ id: number; table: string; type: string; key: string | null; Extra: string | null }[]];
      const at = plan.findIndex((r) => r.table === 'sw');
      expect(plan[at], JSON.stringify(plan)).toMatchObject({ type: 'range', key: 'PRIMARY' });
      expect(plan[at].Extra ?? '', JSON.stringify(plan)).not.toMatch(/filesort|temporary/i);
      expect(plan[at + 1], JSON.stringify(plan)).toMatchObject({ id: plan[at].id, table: 't', type: 'eq_ref', key: 'PRIMARY' });
    }
    expect(summary.sql).toMatch(/order by [`"]sw[`"]\.[`"]word[`"] desc, [`"]sw[`"]\.[`"]ticket_id[`"] desc limit/i);
  });

  it('reads several terms from the range of the one with the fewest tickets (counted first, as one term is), and finds only tickets with all of them', async () => {
    const common = [];
    for (let i = 0; i < 12; i++) common.push(await buildTicket(t.db, { department_id: support, subject: `Monitor flicker ${i}` }));
    const both = await buildTicket(t.db, { department_id: support, subject: 'Monitor flicker on the omega desk' });
    await buildTicket(t.db, { department_id: support, subject: 'Omega desk chair' });
    await indexAllPending(t.db);
    const { result: single, statements: one } = await statementsDuring(t.db, () => search(admin, 'flicker'));
    const n1 = one.length;
    const { statements: two } = await statementsDuring(t.db, async () => {
      expect(await search(admin, 'flicker omega')).toEqual({ ids: ids(both), total: 1 });
      expect(await search(admin, 'OMEGA monitor')).toEqual({ ids: ids(both), total: 1 });
    });
    expect(single.total).toBe(13);
    // Each search, of one term or two: the terms' counts (one statement), then the summary and the page.
    expect(two.length).toBe(2 * n1);
    const counts = (xs: typeof two) => xs.filter((s) => /count\(\*\)/i.test(s.sql) && s.sql.includes('ticket_search_words') && !/group_concat/i.test(s.sql));
    expect(counts(one)).toHaveLength(1);
    expect(counts(two)).toHaveLength(2);
    // The summary reads the range of "omega" (2 tickets), not "flicker" or "monitor" (13).
    for (const summary of two.filter((s) => /group_concat/i.test(s.sql))) expect(summary.bindings).toContain('omega');
  });

  it('counts the total of several common terms along the queue, and of a common and a rare one from the rare one\'s range', async () => {
    // 5,000 tickets (RAREST_CAP) with both words: each term is common, so the total walks the queue.
    const user = (await t.db('users').first('id')).id;
    const priority = (await t.db('priorities').first('id')).id;
    const ts = '2026-03-01 09:00:00.000';
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const subject = `Sigma tau report ${i}`;
      return { number: `ST${String(i).padStart(6, '0')}`, user_id: user, requester_name: 'Bulk', subject, search_text: searchText(subject), status: 'open', state: 'open', department_id: support, priority_id: priority, source: 'web', sla_started_at: ts, is_overdue: false, is_answered: false, version: 1, created_at: ts, updated_at: ts };
    });
    for (let i = 0; i < rows.length; i += 250) await t.db('tickets').insert(rows.slice(i, i + 250));
    await indexAllPending(t.db);
    const { result: common, statements } = await statementsDuring(t.db, () => listQueue(t.ctx(john.actor), { queue: 'open', q: 'sigma tau' }));
    // Counted only to WALK_COUNT_CAP (each common: the walk would go 4× further for SEARCH_COUNT_CAP).
    expect(common.total).toBe(WALK_COUNT_CAP + 1);
    expect(common.totalText).toBe(`${WALK_COUNT_CAP}+`);
    expect(common.rows.length).toBeGreaterThan(0);
    expect(common.rows.every((r) => r.subject.startsWith('Sigma tau report'))).toBe(true);
    const summary = statements.map((x) => x.sql).find((x) => /group_concat/i.test(x))!;
    expect(summary).toBeDefined();
    expect(summary).not.toContain('ticket_search_words');
    expect(summary).toContain('search_text');
    // The total walked in the page's order (update, newest first), so the page is read among the ids it
    // found, by primary key: the queue is walked once, not a second time for the page.
    const page = statements.at(-1)!.sql;
    expect(page).toMatch(/not indexed|force index \(primary\)/i);
    expect(page).toMatch(/`t`\.`id` in \(/);
    // A page past that cap counts as far as the page, and is that page.
    const ordered = (await t.db('tickets').where('subject', 'like', 'Sigma tau report %').orderBy('updated_at', 'desc').orderBy('id', 'desc').select('id')).map((r) => r.id);
    for (const page of [1, 2, 3, 40]) {
      const deep = await listQueue(t.ctx(john.actor), { queue: 'open', q: 'sigma tau', page: String(page) });
      expect(deep.page).toBe(page);
      expect(deep.total).toBe(Math.max(WALK_COUNT_CAP, page * deep.pageSize) + 1);
      expect(deep.rows.map((r) => r.id)).toEqual(ordered.slice((page - 1) * deep.pageSize, page * deep.pageSize));
    }
    // One common term alone walks the queue too, instead of looking each of its 5,000 tickets up: in
    // the Open queue it finds them; in the Closed queue, where none of them is, it finds none.
    const { result: alone, statements: aloneSeen } = await statementsDuring(t.db, () => listQueue(t.ctx(john.actor), { queue: 'open', q: 'sigma' }));
    expect([alone.total, alone.totalText]).toEqual([WALK_COUNT_CAP + 1, `${WALK_COUNT_CAP}+`]);
    const aloneSummary = aloneSeen.map((x) => x.sql).find((x) => /group_concat/i.test(x))!;
    expect(aloneSummary).not.toContain('ticket_search_words');
    expect(aloneSummary).toContain('search_text');
    expect(await search(john, 'sigma', 'closed')).toEqual({ ids: [], total: 0 });
    // One of them rare: read from its range, exactly.
    expect(await search(john, 'sigma tau 4321')).toEqual({ ids: [(await t.db('tickets').where('number', 'ST004321').first('id')).id], total: 1 });
    expect(await search(john, 'tau 43')).toMatchObject({ total: 111 }); // 43, 430–439, 4300–4399
    // A page past its last (40 × 25: the queues' own cap of 1,000 asked for) is its last page, counted as a search.
    const far = await listQueue(t.ctx(john.actor), { queue: 'open', q: 'tau 43', page: '40' });
    expect([far.total, far.pages, far.page, far.rows.length]).toEqual([111, 5, 5, 11]);
  });

  it.runIf(dbClient === 'sqlite')('indexes from another process while the server writes (SQLite: the write lock first, not a stale read)', async () => {
    // `tessera search:index` beside a running server: the server holds SQLite's write lock in a
    // transaction; the indexer (another process) waits for it (busy_timeout) instead of failing with
    // SQLITE_BUSY, as it did when it read first and wrote after the server's commit.
    const x = await buildTicket(t.db, { department_id: support, subject: 'Lambda lock test' });
    const server = await t.db.transaction();
    try {
      await server('tickets').where({ id: x.id }).update({ updated_at: '2026-03-01 10:00:00.000' });
      // The other process: opens the database, says so, then indexes (no migration check, which would
      // itself wait for the lock first).
      const script = `
        import { createDb } from './src/db/knex.ts';
        import { indexPendingTickets } from './src/domain/tickets/ticket-search-index.ts';
        const db = createDb({ client: 'sqlite', filename: process.env.DB_FILE });
        await db.raw('select 1');
        console.log('ready');
        console.log('indexed', await indexPendingTickets(db));
        await db.destroy();`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: path.resolve(__dirname, '../..'), env: { ...process.env, DB_FILE: (t.config.database as { filename: string }).filename },
      });
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (b) => ((out += b), out.includes('ready') && resolve())));
      child.stderr.on('data', (b) => (out += b));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await ready;
      // The child is now in its transaction: waiting for the lock (or, reading first, holding a snapshot).
      await new Promise((r) => setTimeout(r, 400));
      await server.commit();
      expect(await exited, out).toBe(0);
      expect(await t.db('ticket_search_words').where({ ticket_id: x.id }).orderBy('word').pluck('word')).toEqual(['lambda', 'lock', 'test', 'user']);
    } finally {
      if (!server.isCompleted()) await server.rollback();
    }
  }, 30_000);

  it('indexes in batches, each ticket once, with two indexers side by side', async () => {
    const made = [];
    for (let i = 0; i < 24; i++) made.push(await buildTicket(t.db, { department_id: support, subject: `Batch kappa ${i}` }));
    const [one, two] = await Promise.all([indexPendingTickets(t.db, 10), indexPendingTickets(t.db, 10)]);
    expect(one + two).toBe(20);
    expect(await indexAllPending(t.db)).toBe(4);
    expect(await indexAllPending(t.db)).toBe(0);
    const rows = await t.db('ticket_search_words').where('word', 'kappa').pluck('ticket_id');
    expect(rows.sort((a: number, b: number) => a - b)).toEqual(ids(...made));
    expect((await search(admin, 'kappa')).total).toBe(24);
  });
});
