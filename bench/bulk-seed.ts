/**
 * Fills a database with N realistic tickets fast (batched multi-row inserts in transactions):
 * several departments, agents, priorities and SLA plans; 1–10 thread entries per ticket; 80% closed;
 * some overdue. Used by the benchmark only.
 */
import type { Knex } from 'knex';
import { toDbDate } from '../src/db/dialect.ts';
import { hashPassword } from '../src/domain/auth/passwords.ts';
import { searchText, wordsOfSearchText } from '../src/domain/tickets/ticket-search-index.ts';

export interface BulkSeedResult {
  departments: number[];
  agents: { id: number; username: string }[];
  users: number;
  tickets: number;
  entries: number;
  sampleTicketId: number;
  replyTicketId: number;
  sampleUserEmail: string;
  /** A public help topic (the portal form requires one). */
  topicId: number;
  seconds: number;
}

/** A small deterministic PRNG so runs are comparable. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A subject as the fill writes them: two of WORDS, each in about one subject in ten. The bench's own
 * tickets (the create rows) take such subjects too: "Benchmark ticket" on every one of them put
 * thousands of tickets with none of the words at the newest end of the Open queue, which a word search
 * (walking the queue newest first) read past before its first match, as no desk's newest tickets are.
 */
export function benchSubject(n: number, rand: () => number = Math.random): string {
  return `${WORDS[Math.floor(rand() * WORDS.length)]} ${WORDS[Math.floor(rand() * WORDS.length)]} problem ${n}`;
}
const WORDS = ['printer', 'vpn', 'password', 'laptop', 'email', 'banking', 'outlook', 'adobe', 'network', 'wifi', 'invoice', 'login', 'phone', 'monitor', 'server', 'backup', 'license', 'access', 'crash', 'slow'];

export async function bulkSeed(db: Knex, n: number, password: string, batch = 1000): Promise<BulkSeedResult> {
  const started = Date.now();
  const rand = rng(42);
  const now = new Date();
  const ts = toDbDate(now);
  const deptIds: number[] = [(await db('departments').where({ name: 'Support' }).first('id')).id];
  for (const name of ['Online Banking', 'Accounting', 'Facilities', 'Security', 'HR']) {
    const [id] = await db('departments').insert({ name, is_public: true, is_active: true, created_at: ts, updated_at: ts });
    deptIds.push(id);
  }
  const slaIds: number[] = [(await db('sla_plans').first('id')).id];
  for (const [name, m] of [['Sev-A', 60], ['Sev-B', 240]] as const) {
    const [id] = await db('sla_plans').insert({ name, grace_minutes: m, is_active: true, alerts_disabled: false, created_at: ts, updated_at: ts });
    slaIds.push(id);
  }
  const prioIds: number[] = await db('priorities').pluck('id');
  const hash = await hashPassword(password);
  const agents: { id: number; username: string }[] = [];
  const roleId = (await db('roles').where({ name: 'Expanded access' }).first('id'))?.id ?? null;
  for (let i = 0; i < 20; i++) {
    const username = i === 0 ? 'bench' : `agent${i}`;
    const [id] = await db('agents').insert({ username, email: `${username}@bench.test`, name: `Agent ${i}`, password_hash: hash, role: i === 0 ? 'admin' : 'agent', role_id: roleId, department_id: deptIds[i % deptIds.length], is_active: true, failed_logins: 0, created_at: ts, updated_at: ts });
    agents.push({ id, username });
  }
  const userCount = Math.max(10, Math.floor(n / 5));
  const firstUserId = await insertBatches(db, 'users', userCount, batch, (i) => ({ email: `user${i}@customers.test`, name: `Customer ${i}`, is_banned: false, created_at: ts, updated_at: ts }));
  let entries = 0;
  let firstTicketId = 0;
  let sampleTicketId = 0; // an open ticket with exactly 10 entries (the ticket-page scenario)
  let replyTicketId = 0; // another open ticket, for the reply scenario (so the ticket page stays at 10 entries)
  const span = 365 * 24 * 3600_000;
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const rows: Record<string, unknown>[] = [];
    const meta: { created: number; closed: boolean; user: number; entries: number }[] = [];
    for (let k = 0; k < size; k++) {
      const i = start + k;
      const created = now.getTime() - Math.floor(rand() * span);
      const closed = rand() < 0.8;
      const overdue = !closed && rand() < 0.3;
      const dueAt = created + (overdue ? 3600_000 : 30 * 24 * 3600_000);
      const user = firstUserId + Math.floor(rand() * userCount);
      const entryCount = 1 + Math.floor(rand() * 10);
      const subject = benchSubject(i, rand); // (drawn here: the seeded sequence, so the fill, as before)
      const updated = closed ? created + Math.floor(rand() * 5 * 24 * 3600_000) : created + Math.floor(rand() * 3600_000);
      rows.push({
        number: String(1_000_000_000 + i), user_id: user, requester_name: `Customer ${user - firstUserId}`, subject, search_text: searchText(subject, `Customer ${user - firstUserId}`), status: closed ? 'closed' : 'open', state: closed ? 'closed' : 'open',
        department_id: deptIds[Math.floor(rand() * deptIds.length)], priority_id: prioIds[Math.floor(rand() * prioIds.length)], sla_plan_id: slaIds[Math.floor(rand() * slaIds.length)],
        assignee_agent_id: rand() < 0.6 ? agents[Math.floor(rand() * agents.length)].id : null, source: ['web', 'email', 'phone', 'api'][Math.floor(rand() * 4)],
        sla_due_at: toDbDate(new Date(dueAt)), due_at: toDbDate(new Date(dueAt)), is_overdue: overdue, is_answered: entryCount > 1, sla_started_at: toDbDate(new Date(created)),
        first_response_at: entryCount > 1 ? toDbDate(new Date(created + 1800_000)) : null, last_message_at: toDbDate(new Date(created)), closed_at: closed ? toDbDate(new Date(updated)) : null,
        reopen_count: 0, version: 1, search_indexed: true, created_at: toDbDate(new Date(created)), updated_at: toDbDate(new Date(updated)),
      });
      meta.push({ created, closed, user, entries: entryCount });
    }
    await db.transaction(async (trx) => {
      const first = await insertRows(trx, 'tickets', rows);
      if (!firstTicketId) firstTicketId = first;
      const entryRows: Record<string, unknown>[] = [];
      for (let k = 0; k < size; k++) {
        if (!meta[k].closed && meta[k].entries === 10) {
          if (!sampleTicketId) sampleTicketId = first + k;
          else if (!replyTicketId) replyTicketId = first + k;
        }
        for (let e = 0; e < meta[k].entries; e++) {
          const kind = e === 0 ? 'message' : e % 3 === 0 ? 'note' : e % 2 ? 'response' : 'message';
          entryRows.push({ ticket_id: first + k, kind, user_id: kind === 'message' ? meta[k].user : null, agent_id: kind === 'message' ? null : agents[e % agents.length].id, poster_name: 'Bench', body: `Entry ${e} of ticket ${start + k}.\nSome text describing the problem in a few lines.`, source: 'web', created_at: toDbDate(new Date(meta[k].created + e * 60_000)) });
        }
      }
      for (let j = 0; j < entryRows.length; j += batch) await insertRows(trx, 'thread_entries', entryRows.slice(j, j + batch));
      // The subjects' words, as the background task would index them (the tickets are written indexed).
      const words = rows.flatMap((r, k) => wordsOfSearchText(String(r.search_text)).map((word) => ({ word, ticket_id: first + k })));
      await insertRows(trx, 'ticket_search_words', words, false);
      entries += entryRows.length;
    });
  }
  const sampleUser = await db('users').where({ id: firstUserId }).first('email');
  const topic = await db('help_topics').where({ is_active: true }).orderBy('id').first('id');
  return { topicId: topic?.id ?? 0, departments: deptIds, agents, users: userCount, tickets: n, entries, sampleTicketId: sampleTicketId || firstTicketId, replyTicketId: replyTicketId || sampleTicketId || firstTicketId, sampleUserEmail: sampleUser.email, seconds: (Date.now() - started) / 1000 };
}

/**
 * Inserts rows with one multi-row `INSERT … VALUES (…), (…)` per chunk (both dialects; knex's own
 * multi-row insert on SQLite is a compound SELECT, limited to 500 terms) and returns the first new id.
 * Ids are given explicitly (max(id) + 1 …), so they are known without dialect tricks (`ids` false:
 * a table without an id column; returns 0).
 */
async function insertRows(db: Knex | Knex.Transaction, table: string, rows: Record<string, unknown>[], ids = true): Promise<number> {
  if (!rows.length) return 0;
  const first = ids ? Number((await db(table).max({ m: 'id' }).first())?.m ?? 0) + 1 : 0;
  const cols = [...(ids ? ['id'] : []), ...Object.keys(rows[0])];
  // SQLite allows 32,766 bound values per statement; MySQL 65,535.
  const per = Math.max(1, Math.floor(30_000 / cols.length));
  for (let s = 0; s < rows.length; s += per) {
    const chunk = rows.slice(s, s + per);
    const bindings: unknown[] = [];
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    chunk.forEach((r, k) => {
      if (ids) bindings.push(first + s + k);
      for (const c of cols.slice(ids ? 1 : 0)) bindings.push(r[c] === true ? 1 : r[c] === false ? 0 : r[c]);
    });
    await db.raw(`INSERT INTO ?? (${cols.map(() => '??').join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`, [table, ...cols, ...bindings] as any[]);
  }
  return first;
}

async function insertBatches(db: Knex, table: string, count: number, batch: number, make: (i: number) => Record<string, unknown>): Promise<number> {
  let first = 0;
  for (let s = 0; s < count; s += batch) {
    const rows = Array.from({ length: Math.min(batch, count - s) }, (_, k) => make(s + k));
    const id = await db.transaction((trx) => insertRows(trx, table, rows));
    if (!first) first = id;
  }
  return first;
}

/**
 * What bulkSeed returned, read back from a database it filled in an earlier run (`--reuse`): filling
 * 1M tickets takes minutes. `seconds` is unknown then (NaN). The sample tickets are the first two
 * open tickets (of the first 5,000) with exactly 10 entries, as bulkSeed chose them.
 */
export async function describeSeed(db: Knex): Promise<BulkSeedResult> {
  const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
  const open = await db('tickets').where({ state: 'open' }).orderBy('id').limit(5000).pluck('id');
  const ten = await db('thread_entries').whereIn('ticket_id', open).groupBy('ticket_id').havingRaw('count(*) = 10').orderBy('ticket_id').limit(2).pluck('ticket_id');
  const firstUser = await db('users').orderBy('id').first('email');
  const topic = await db('help_topics').where({ is_active: true }).orderBy('id').first('id');
  return {
    departments: await db('departments').orderBy('id').pluck('id'),
    agents: await db('agents').orderBy('id').select('id', 'username'),
    users: await count('users'), tickets: await count('tickets'), entries: await count('thread_entries'),
    sampleTicketId: ten[0] ?? open[0], replyTicketId: ten[1] ?? ten[0] ?? open[0], sampleUserEmail: firstUser.email,
    topicId: topic?.id ?? 0, seconds: NaN,
  };
}
