import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildDepartment, buildPriority, buildSlaPlan, buildTopic, buildUser } from '../factories/index.ts';
import { openTicket, addUserMessage } from '../../src/domain/tickets/ticket-service.ts';
import { replyToTicket } from '../../src/domain/tickets/ticket-agent-service.ts';
import { findOrCreateUser } from '../../src/domain/users/user-service.ts';
import { withDb } from '../../src/domain/context.ts';
import { ANONYMOUS, SYSTEM, type ApiActor } from '../../src/domain/actor.ts';
import { ValidationFailed, Forbidden, NotFound, InvalidTransition } from '../../src/domain/errors.ts';
import { dbDate, isUniqueViolationOf } from '../../src/db/dialect.ts';
import { getSettings, writeSettings } from '../../src/domain/settings/settings-service.ts';

/** The SQL statements `fn` issues on `db` (knex's 'query' event). */
async function statementsOf(db: Knex, fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onQuery = (q: { sql: string }) => seen.push(q.sql);
  db.on('query', onQuery);
  try {
    await fn();
  } finally {
    db.removeListener('query', onQuery);
  }
  return seen;
}

describe('openTicket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());

  it('opens a ticket with a public number, the first message, an event, and queued mail', async () => {
    const res = await openTicket(t.ctx(ANONYMOUS), { email: 'Pat@Example.com', name: 'Pat', subject: 'Entire mobile/online banking system is down', message: 'Line one\nLine two' });
    const row = await t.db('tickets').where({ id: res.id }).first();
    expect(row.number).toMatch(/^[1-9]\d{5}$/);
    expect(String(row.number)).not.toBe(String(row.id));
    expect(row).toMatchObject({ status: 'open', state: 'open', source: 'web', subject: 'Entire mobile/online banking system is down' });
    // Default SLA (18 h, 24/7) from the install defaults.
    expect(dbDate(row.due_at)!.toISOString()).toBe('2026-03-03T04:00:00.000Z');
    const entries = await t.db('thread_entries').where({ ticket_id: res.id });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'message', body: 'Line one\nLine two' });
    expect(await t.db('ticket_events').where({ ticket_id: res.id }).pluck('event')).toEqual(['created']);
    const user = await t.db('users').where({ id: res.userId }).first();
    expect(user.email).toBe('pat@example.com');
    const mail = await t.db('outbox').where({ ticket_id: res.id, to_address: 'pat@example.com' });
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toBe(`[#${res.number}] Entire mobile/online banking system is down`);
    expect(mail[0].text_body).toContain('http://helpdesk.test/tickets/access?token=');
  });

  it("copies the requester's stored name onto the ticket (requester order reads it), a known requester's too", async () => {
    const fresh = await openTicket(t.ctx(ANONYMOUS), { email: 'Quinn@Example.com', name: 'Quinn Árvíz', subject: 'S', message: 'M' });
    expect((await t.db('tickets').where({ id: fresh.id }).first('requester_name')).requester_name).toBe('Quinn Árvíz');
    // A known address keeps its stored name whatever name a later ticket gives; so does the copy.
    const again = await openTicket(t.ctx(ANONYMOUS), { email: 'quinn@example.com', name: 'Q. Arviz', subject: 'S2', message: 'M' });
    expect((await t.db('tickets').where({ id: again.id }).first('requester_name')).requester_name).toBe('Quinn Árvíz');
    // The quick search finds both by the stored name (search_text: the subject's words, then the name's).
    expect(await t.db('tickets').whereIn('id', [fresh.id, again.id]).orderBy('id').pluck('search_text')).toEqual([' s quinn arviz', ' s2 quinn arviz']);
    // Every ticket's copy is its user's name (the migration filled the ones before it the same way).
    const stale = await t.db('tickets as t').join('users as u', 'u.id', 't.user_id').whereRaw('t.requester_name <> u.name').count({ n: '*' }).first();
    expect(Number(stale!.n)).toBe(0);
  });

  it('lets the help topic choose department, priority and SLA', async () => {
    const dept = await buildDepartment(t.db);
    const sla = await buildSlaPlan(t.db, { grace_minutes: 60 });
    const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
    const topic = await buildTopic(t.db, { department_id: dept, priority_id: high, sla_plan_id: sla });
    const res = await openTicket(t.ctx(ANONYMOUS), { email: 'a@b.test', name: 'A', subject: 'S', message: 'M', topicId: String(topic) });
    const row = await t.db('tickets').where({ id: res.id }).first();
    expect(row).toMatchObject({ department_id: dept, priority_id: high, sla_plan_id: sla });
    expect(dbDate(row.due_at)!.toISOString()).toBe('2026-03-02T11:00:00.000Z');
  });

  it('sends a topic’s tickets to the default department while the topic’s department is disabled', async () => {
    const dept = await buildDepartment(t.db, { is_active: false });
    const topic = await buildTopic(t.db, { department_id: dept });
    const defaultDept = (await getSettings(t.db)).default_department_id;
    expect(defaultDept).toBeGreaterThan(0);
    const portal = await openTicket(t.ctx(ANONYMOUS), { email: 'a@b.test', name: 'A', subject: 'S', message: 'M', topicId: String(topic) });
    const api = await openTicket(t.ctx(SYSTEM), { email: 'a@b.test', name: 'A', subject: 'S', message: 'M', topicId: String(topic) });
    for (const id of [portal.id, api.id]) expect((await t.db('tickets').where({ id }).first()).department_id).toBe(defaultDept);
    // Enabled again, the department receives the topic's tickets again.
    await t.db('departments').where({ id: dept }).update({ is_active: true });
    const after = await openTicket(t.ctx(ANONYMOUS), { email: 'a@b.test', name: 'A', subject: 'S', message: 'M', topicId: String(topic) });
    expect((await t.db('tickets').where({ id: after.id }).first()).department_id).toBe(dept);
  });

  it('ignores department/priority chosen by a portal user, but honours an agent’s', async () => {
    const dept = await buildDepartment(t.db);
    const anon = await openTicket(t.ctx(ANONYMOUS), { email: 'a@b.test', name: 'A', subject: 'S', message: 'M', departmentId: String(dept) });
    expect((await t.db('tickets').where({ id: anon.id }).first()).department_id).not.toBe(dept);
    const agent = await buildAgent(t.db, { department_id: dept });
    const byAgent = await openTicket(t.ctx(agent.actor), { email: 'c@b.test', name: 'C', subject: 'Phone call', message: 'M', departmentId: String(dept), source: 'phone', assigneeId: String(agent.id) });
    expect(await t.db('tickets').where({ id: byAgent.id }).first()).toMatchObject({ department_id: dept, source: 'phone', assignee_agent_id: agent.id });
  });

  it('refuses an agent opening a ticket in a department they cannot reach', async () => {
    const agent = await buildAgent(t.db);
    const other = await buildDepartment(t.db);
    await expect(openTicket(t.ctx(agent.actor), { email: 'c@b.test', name: 'C', subject: 'S', message: 'M', departmentId: String(other) })).rejects.toBeInstanceOf(Forbidden);
  });

  it('rejects bad input with field errors and writes nothing', async () => {
    const before = await t.db('tickets').count({ n: '*' });
    const err = await openTicket(t.ctx(ANONYMOUS), { email: 'nope', name: '', subject: ['a', 'b'] as any, message: '' }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys(err.fields).sort()).toEqual(['email', 'message', 'name', 'subject']);
    expect(await t.db('tickets').count({ n: '*' })).toEqual(before);
  });

  it('refuses a banned sender', async () => {
    await t.db('bans').insert({ pattern: '@spam.test', created_at: '2026-01-01 00:00:00' });
    await expect(openTicket(t.ctx(ANONYMOUS), { email: 'x@spam.test', name: 'X', subject: 'S', message: 'M' })).rejects.toBeInstanceOf(Forbidden);
    // A user flagged as banned is refused too (the same statement reads the ban list and the user).
    await buildUser(t.db, { email: 'flagged@ok.test', is_banned: true });
    await expect(openTicket(t.ctx(ANONYMOUS), { email: 'Flagged@OK.test', name: 'F', subject: 'S', message: 'M' })).rejects.toMatchObject({ code: 'USER_BANNED' });
  });

  it('refuses an explicit department, priority or SLA plan that is unknown or inactive, field by field (API, agents)', async () => {
    const api: ApiActor = { kind: 'api', keyId: 1, canCreateTickets: true, canManageTickets: false };
    const open = (extra: Record<string, unknown>) => openTicket(t.ctx(api), { email: 'api@b.test', name: 'A', subject: 'S', message: 'M', ...extra }).catch((e) => e);
    const closedDept = await buildDepartment(t.db, { is_active: false });
    const oldPlan = await buildSlaPlan(t.db, { is_active: false });
    const oldPriority = await buildPriority(t.db, { is_active: false });
    for (const [field, value] of [['departmentId', closedDept], ['departmentId', 999_999], ['priorityId', oldPriority], ['priorityId', 999_999], ['slaPlanId', oldPlan], ['slaPlanId', 999_999]] as const) {
      const err = await open({ [field]: value });
      expect(err, `${field}=${value}`).toBeInstanceOf(ValidationFailed);
      expect(Object.keys(err.fields)).toEqual([field]);
    }
    const retiredTopic = await buildTopic(t.db, { is_active: false });
    expect((await open({ topicId: retiredTopic, departmentId: closedDept })).fields).toEqual({ topicId: expect.any(String) });
    // Valid explicit choices win over the topic and the defaults; the due date follows the chosen plan.
    const dept = await buildDepartment(t.db);
    const plan = await buildSlaPlan(t.db, { grace_minutes: 30 });
    const res = await openTicket(t.ctx(api), { email: 'api@b.test', name: 'A', subject: 'S', message: 'M', departmentId: dept, slaPlanId: plan });
    const row = await t.db('tickets').where({ id: res.id }).first();
    expect(row).toMatchObject({ department_id: dept, sla_plan_id: plan });
    expect(dbDate(row.due_at)!.toISOString()).toBe('2026-03-02T10:30:00.000Z');
  });

  it('queues the auto-response and the alerts in one INSERT: user first, then the department’s active agents', async () => {
    const dept = await buildDepartment(t.db);
    const member = await buildAgent(t.db, { department_id: dept });
    const extra = await buildAgent(t.db, { extraDepartmentIds: [dept], name: 'Zoë "Z" O\'Neil ✓' });
    await buildAgent(t.db, { department_id: dept, is_active: false });
    await buildAgent(t.db); // another department
    const topic = await buildTopic(t.db, { department_id: dept });
    let res!: Awaited<ReturnType<typeof openTicket>>;
    const sql = await statementsOf(t.db, async () => {
      res = await openTicket(t.ctx(ANONYMOUS), { email: 'quinn@b.test', name: 'Quinn', subject: 'S', message: 'The first message', topicId: topic });
    });
    expect(sql.filter((s) => /^insert into [`"]outbox/i.test(s))).toHaveLength(1);
    // A new ticket is not read back, and has no earlier mail to thread to.
    expect(sql.filter((s) => /from [`"]tickets[`"] as [`"]t[`"]|[`"]outbox[`"] where/i.test(s))).toEqual([]);
    const mail = await t.db('outbox').where({ ticket_id: res.id }).orderBy('id');
    expect(mail.map((m: any) => m.template)).toEqual(['ticket-autoresponse', 'new-ticket-alert', 'new-ticket-alert']);
    expect(mail[0].to_address).toBe('quinn@b.test');
    expect(mail.slice(1).map((m: any) => m.to_address).sort()).toEqual([member.email, extra.email].sort());
    // The recipients travel as JSON from the database: names arrive as they are.
    expect(mail.find((m: any) => m.to_address === extra.email).to_name).toBe('Zoë "Z" O\'Neil ✓');
    expect(mail[1].text_body).toContain('The first message');
    expect(JSON.parse(mail[0].headers)['In-Reply-To']).toBeUndefined();
  });

  it('threads the auto-response of a ticket opened by email to that email, and the reply to all mail so far', async () => {
    const opened = await openTicket(t.ctx(SYSTEM), { email: 'mia@b.test', name: 'Mia', subject: 'By mail', message: 'M', source: 'email', messageId: '<first@mia.test>' });
    const auto = await t.db('outbox').where({ ticket_id: opened.id, template: 'ticket-autoresponse' }).first();
    expect(JSON.parse(auto.headers)).toMatchObject({ 'In-Reply-To': '<first@mia.test>', References: '<first@mia.test>' });
    const user = { kind: 'user' as const, id: opened.userId, email: 'mia@b.test', name: 'Mia' };
    await addUserMessage(t.ctx(user), { ticketId: opened.id, message: 'More', source: 'email', messageId: '<second@mia.test>' });
    await replyToTicket(t.ctx(SYSTEM), { ticketId: opened.id, message: 'Answer' });
    const reply = await t.db('outbox').where({ ticket_id: opened.id, template: 'agent-response' }).first();
    // Oldest first: what we sent, then what we received; the newest received one is answered.
    expect(JSON.parse(reply.headers)).toMatchObject({ 'In-Reply-To': '<second@mia.test>', References: `${auto.message_id} <first@mia.test> <second@mia.test>` });
  });
});

describe('ticket numbers and users when two requests race', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Makes the next random ticket number `digits` (6 × randomInt), then lets randomness go on. */
  function nextRandomNumberIs(digits: string) {
    const real = crypto.randomInt.bind(crypto) as (a: number, b: number) => number;
    let i = 0;
    vi.spyOn(crypto, 'randomInt').mockImplementation(((a: number, b: number) => (i < digits.length ? Number(digits[i++]) : real(a, b))) as any);
  }

  it('inserts without looking the number up first, and tries another on a collision, in the same transaction', async () => {
    const first = await openTicket(t.ctx(ANONYMOUS), { email: 'a@race.test', name: 'A', subject: 'First', message: 'M' });
    nextRandomNumberIs(first.number);
    const sql = await statementsOf(t.db, async () => {
      // Inside an outer transaction (as the agent form and email intake open tickets): the failed INSERT
      // is rolled back alone and the transaction goes on.
      await t.db.transaction((trx) => openTicket(withDb(t.ctx(ANONYMOUS), trx), { email: 'b@race.test', name: 'B', subject: 'Second', message: 'M' }));
    });
    expect(sql.filter((s) => /select .* from [`"]tickets[`"] where [`"]number[`"]/i.test(s))).toEqual([]);
    expect(sql.filter((s) => /^insert into [`"]tickets[`"]/i.test(s))).toHaveLength(2);
    const second = await t.db('tickets').where({ subject: 'Second' }).first();
    expect(second.number).toMatch(/^[1-9]\d{5}$/);
    expect(second.number).not.toBe(first.number);
    expect(await t.db('ticket_events').where({ ticket_id: second.id }).pluck('event')).toEqual(['created']);
    expect(await t.db('outbox').where({ ticket_id: second.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('keeps the counter for sequential numbers', async () => {
    await writeSettings(t.db, { ticket_number_format: 'sequential', ticket_number_length: 5 }, new Date());
    const a = await openTicket(t.ctx(ANONYMOUS), { email: 'a@race.test', name: 'A', subject: 'S', message: 'M' });
    const b = await openTicket(t.ctx(ANONYMOUS), { email: 'a@race.test', name: 'A', subject: 'S', message: 'M' });
    expect(Number(b.number)).toBe(Number(a.number) + 1);
    expect(b.number).toMatch(/^\d{5}$/);
    await writeSettings(t.db, { ticket_number_format: 'random', ticket_number_length: 6 }, new Date());
  });

  it('tells a collision of tickets.number from any other unique violation, whatever the values say', async () => {
    await buildUser(t.db, { email: 'taken@race.test' });
    const err = await t.db('users').insert({ email: 'taken@race.test', name: "tickets.number 'tickets_number_unique'", is_banned: false, created_at: '2026-01-01 00:00:00', updated_at: '2026-01-01 00:00:00' }).catch((e) => e);
    expect(isUniqueViolationOf(err, 'users', 'email')).toBe(true);
    expect(isUniqueViolationOf(err, 'tickets', 'number')).toBe(false);
    const { id: _id, ...ticket } = await t.db('tickets').first();
    const dup = await t.db('tickets').insert({ ...ticket, subject: "users.email 'users_email_unique'" }).catch((e) => e);
    expect(isUniqueViolationOf(dup, 'tickets', 'number')).toBe(true);
    expect(isUniqueViolationOf(dup, 'users', 'email')).toBe(false);
  });

  it('uses the user read with the ban check, and finds the user created meanwhile when the insert collides', async () => {
    const now = new Date('2026-03-02T10:00:00Z');
    const existing = (await buildUser(t.db, { email: 'sam@race.test', name: 'Sam', phone: null })).id;
    const known = { id: existing, email: 'sam@race.test', name: 'Sam', phone: null };
    const sql = await statementsOf(t.db, async () => {
      expect(await findOrCreateUser(t.db, { email: 'sam@race.test', name: 'Other', phone: '555' }, now, known)).toEqual({ ...known, phone: '555' });
    });
    expect(sql).toHaveLength(1); // only the phone is written
    expect(sql[0]).toMatch(/^update [`"]users[`"]/i);
    // The check saw no user, another request created it since: the INSERT fails, the row is read instead.
    const raced = await t.db.transaction((trx) => findOrCreateUser(trx, { email: 'sam@race.test', name: 'Other' }, now, null));
    expect(raced).toMatchObject({ id: existing, name: 'Sam', phone: '555' });
    expect(await t.db('users').where({ email: 'sam@race.test' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});

describe('addUserMessage', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());

  it('adds the user’s message, marks the ticket unanswered, and reopens a closed ticket', async () => {
    const opened = await openTicket(t.ctx(ANONYMOUS), { email: 'u@x.test', name: 'U', subject: 'S', message: 'M' });
    await t.db('tickets').where({ id: opened.id }).update({ status: 'closed', state: 'closed', is_answered: true, closed_at: '2026-03-02 11:00:00' });
    const user = { kind: 'user' as const, id: opened.userId, email: 'u@x.test', name: 'U' };
    t.clock.advance(3600_000);
    const res = await addUserMessage(t.ctx(user), { ticketId: opened.id, message: 'Still broken' });
    expect(res.reopened).toBe(true);
    const row = await t.db('tickets').where({ id: opened.id }).first();
    expect(row).toMatchObject({ status: 'open', state: 'open', reopen_count: 1 });
    expect(Number(row.is_answered)).toBe(0);
    expect(await t.db('ticket_events').where({ ticket_id: opened.id }).orderBy('id').pluck('event')).toEqual(['created', 'message', 'reopened']);
  });

  it('hides another user’s ticket as not found', async () => {
    const opened = await openTicket(t.ctx(ANONYMOUS), { email: 'owner@x.test', name: 'O', subject: 'S', message: 'M' });
    const intruder = { kind: 'user' as const, id: opened.userId + 1000, email: 'i@x.test', name: 'I' };
    await expect(addUserMessage(t.ctx(intruder), { ticketId: opened.id, message: 'hi' })).rejects.toBeInstanceOf(NotFound);
  });

  it('refuses to reopen when the setting says no', async () => {
    await writeSettings(t.db, { reopen_on_user_reply: false }, new Date());
    const opened = await openTicket(t.ctx(ANONYMOUS), { email: 'u2@x.test', name: 'U', subject: 'S', message: 'M' });
    await t.db('tickets').where({ id: opened.id }).update({ status: 'closed', state: 'closed' });
    const user = { kind: 'user' as const, id: opened.userId, email: 'u2@x.test', name: 'U' };
    await expect(addUserMessage(t.ctx(user), { ticketId: opened.id, message: 'x' })).rejects.toBeInstanceOf(InvalidTransition);
    await writeSettings(t.db, { reopen_on_user_reply: true }, new Date());
  });
});
