import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildDepartment, buildSlaPlan, buildTopic } from '../factories/index.ts';
import { openTicket, addUserMessage } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { ValidationFailed, Forbidden, NotFound, InvalidTransition } from '../../src/domain/errors.ts';
import { dbDate } from '../../src/db/dialect.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

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
