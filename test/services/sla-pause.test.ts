import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAgent, buildSlaPlan, unique } from '../factories/index.ts';
import { ANONYMOUS, SYSTEM } from '../../src/domain/actor.ts';
import { dbBool, dbDate, toDbDate } from '../../src/db/dialect.ts';
import { InvalidTransition } from '../../src/domain/errors.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { markOverdueTickets } from '../../src/domain/sla/overdue-service.ts';
import { slaFacts } from '../../src/domain/sla/sla-facts.ts';
import { addUserMessage, openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { changeTicketSla, changeTicketStatus, replyToTicket, setTicketDueDate } from '../../src/domain/tickets/ticket-agent-service.ts';
import { closeTicketByUser } from '../../src/domain/tickets/ticket-portal-service.ts';
import { addTask } from '../../src/domain/tickets/ticket-tasks.ts';
import { closeUnansweredWaitingTickets } from '../../src/domain/tickets/ticket-waiting.ts';

const iso = (v: unknown) => dbDate(v)?.toISOString() ?? null;
const HOUR = 3600_000;

describe('waiting on the requester: the SLA clock stops and runs on', () => {
  let t: TestApp;
  let agent: Awaited<ReturnType<typeof buildAgent>>;
  let fourHours: number;
  let office: number;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const lastEvent = async (id: number) => {
    const e = await t.db('ticket_events').where({ ticket_id: id }).orderBy('id', 'desc').first();
    return { event: e.event, actor: e.actor_kind, data: e.data ? JSON.parse(e.data) : {} };
  };
  const open = async () => {
    const email = `${unique('req')}@example.test`;
    const o = await openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat', subject: 'The VPN drops every hour', message: 'Since Monday' });
    return { ...o, requester: { kind: 'user' as const, id: o.userId, email, name: 'Pat' } };
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' }); // a Monday
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    agent = await buildAgent(t.db, { department_id: support, name: 'John' });
    fourHours = await buildSlaPlan(t.db, { name: 'Four hours', grace_minutes: 240 });
    const now = toDbDate(new Date())!;
    [office] = await t.db('schedules').insert({ name: 'London office', kind: 'business', timezone: 'Europe/London', is_active: true, created_at: now, updated_at: now });
    for (const d of [1, 2, 3, 4, 5]) await t.db('schedule_entries').insert({ schedule_id: office, weekday: d, start_time: '09:00', end_time: '17:00' });
    await t.db('departments').where({ id: support }).update({ sla_plan_id: fourHours });
  });
  afterAll(async () => t.close());

  it('stops the clock when the agent replies and waits; the requester’s answer moves the due date by the time waited', async () => {
    t.clock.set('2026-03-02T10:00:00Z');
    const o = await open();
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-02T14:00:00.000Z');

    t.clock.set('2026-03-02T11:00:00Z');
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Which VPN client version do you run?', status: 'pending' });
    let tk = await row(o.id);
    expect(tk).toMatchObject({ status: 'pending', state: 'open', sla_paused_seconds: 0 });
    expect(iso(tk.waiting_since)).toBe('2026-03-02T11:00:00.000Z');
    expect(iso(tk.sla_paused_at)).toBe('2026-03-02T11:00:00.000Z');
    expect(tk.due_at).toBeNull();
    expect(iso(tk.sla_due_at)).toBe('2026-03-02T14:00:00.000Z'); // kept: the remaining time is measured from it
    expect(await lastEvent(o.id)).toMatchObject({ event: 'status_changed', data: { from: 'open', to: 'pending', slaPaused: true } });

    // Past the old due date nothing is flagged: the clock is stopped.
    t.clock.set('2026-03-02T15:00:00Z');
    expect((await markOverdueTickets(t.ctx(SYSTEM))).marked).toBe(0);
    expect(dbBool((await row(o.id)).is_overdue)).toBe(false);

    // Five hours after the question the requester answers: open again, due five hours later than before.
    t.clock.set('2026-03-02T16:00:00Z');
    const res = await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Version 5.2' });
    expect(res.reopened).toBe(false);
    tk = await row(o.id);
    expect(tk).toMatchObject({ status: 'open', state: 'open', reopen_count: 0, sla_paused_seconds: 5 * 3600, waiting_since: null, sla_paused_at: null });
    expect(iso(tk.sla_due_at)).toBe('2026-03-02T19:00:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-02T19:00:00.000Z');
    expect(await lastEvent(o.id)).toMatchObject({ event: 'status_changed', actor: 'user', data: { from: 'pending', to: 'open', by: 'user_reply', slaPausedMinutes: 300, slaDueAt: '2026-03-02T19:00:00.000Z' } });

    // A second wait adds to the first: both count when the SLA is computed again (a plan change).
    t.clock.set('2026-03-02T17:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    t.clock.set('2026-03-02T18:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'open' });
    tk = await row(o.id);
    expect(tk.sla_paused_seconds).toBe(6 * 3600);
    expect(iso(tk.due_at)).toBe('2026-03-02T20:00:00.000Z');
    const eight = await buildSlaPlan(t.db, { name: unique('Eight hours '), grace_minutes: 480 });
    await changeTicketSla(t.ctx(agent.actor), { ticketId: o.id, slaPlanId: eight });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-03T00:00:00.000Z'); // 10:00 + 8 h + 6 h waited
  });

  it('counts only working time waited on a business-hours schedule', async () => {
    const plan = await buildSlaPlan(t.db, { name: unique('Office 4 h '), grace_minutes: 240, schedule_id: office });
    t.clock.set('2026-03-06T14:00:00Z'); // Friday 14:00 in London
    const o = await open();
    await changeTicketSla(t.ctx(agent.actor), { ticketId: o.id, slaPlanId: plan });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-09T10:00:00.000Z'); // 3 h on Friday, 1 h on Monday
    t.clock.set('2026-03-06T16:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    // Answered on Monday at 10:00: Friday 16–17 and Monday 9–10 were working time, the weekend was not.
    t.clock.set('2026-03-09T10:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Here is the log' });
    const tk = await row(o.id);
    expect(tk.sla_paused_seconds).toBe(2 * 3600);
    expect(iso(tk.due_at)).toBe('2026-03-09T12:00:00.000Z');
  });

  it('does not stop a clock that has run out: a breach stays a breach', async () => {
    t.clock.set('2026-03-10T10:00:00Z');
    const o = await open();
    t.clock.set('2026-03-10T15:00:00Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    expect(dbBool((await row(o.id)).is_overdue)).toBe(true);
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    const tk = await row(o.id);
    expect(tk.status).toBe('pending');
    expect(tk.sla_paused_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-10T14:00:00.000Z');
    expect(dbBool(tk.is_overdue)).toBe(true);
    expect(await lastEvent(o.id)).toMatchObject({ data: { to: 'pending', slaPaused: false } });
    t.clock.set('2026-03-10T17:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'ok' });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-10T14:00:00.000Z');
  });

  it('keeps a due date set by hand while waiting (an agent’s promise is not paused)', async () => {
    t.clock.set('2026-03-11T10:00:00Z');
    const o = await open();
    await setTicketDueDate(t.ctx(agent.actor), { ticketId: o.id, dueAt: '2026-03-11T12:00:00Z' });
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    let tk = await row(o.id);
    expect(iso(tk.due_at)).toBe('2026-03-11T12:00:00.000Z');
    expect(iso(tk.sla_paused_at)).toBe('2026-03-11T10:00:00.000Z');
    // Removing the manual date while waiting leaves no due date (the SLA's is paused), not the old SLA one.
    await setTicketDueDate(t.ctx(agent.actor), { ticketId: o.id, dueAt: '' });
    tk = await row(o.id);
    expect(tk.due_at).toBeNull();
    expect(iso(tk.sla_due_at)).toBe('2026-03-11T14:00:00.000Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'closed' });
  });

  it('measures a ticket resolved while waiting against the due date moved by the wait', async () => {
    t.clock.set('2026-03-12T10:00:00Z');
    const o = await open();
    t.clock.set('2026-03-12T13:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    t.clock.set('2026-03-12T20:00:00Z'); // past the original due date, 1 h of SLA time left
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'resolved' });
    const tk = await row(o.id);
    expect(tk).toMatchObject({ status: 'resolved', state: 'closed', waiting_since: null, sla_paused_at: null, sla_paused_seconds: 7 * 3600 });
    expect(iso(tk.due_at)).toBe('2026-03-12T21:00:00.000Z');
    const facts = slaFacts(tk, t.clock());
    expect(facts.met).toBe(true);
    // Reopened, the clock starts afresh: no paused time carried over.
    t.clock.set('2026-03-13T09:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'open' });
    const again = await row(o.id);
    expect(again.sla_paused_seconds).toBe(0);
    expect(iso(again.due_at)).toBe('2026-03-13T13:00:00.000Z');
  });

  it('ends the wait when the requester closes the ticket on the portal', async () => {
    t.clock.set('2026-03-16T10:00:00Z');
    const o = await open();
    t.clock.set('2026-03-16T11:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    t.clock.set('2026-03-16T12:00:00Z');
    await closeTicketByUser(t.ctx(o.requester), o.number);
    const tk = await row(o.id);
    expect(tk).toMatchObject({ status: 'closed', waiting_since: null, sla_paused_at: null, sla_paused_seconds: 3600 });
    expect(iso(tk.due_at)).toBe('2026-03-16T15:00:00.000Z');
  });

  it('waits only on an open ticket', async () => {
    t.clock.set('2026-03-17T10:00:00Z');
    const o = await open();
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'closed' });
    await expect(changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' })).rejects.toMatchObject({ code: 'NOT_OPEN' });
    await expect(changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' })).rejects.toBeInstanceOf(InvalidTransition);
    expect((await row(o.id)).status).toBe('closed');
  });

  describe('closing tickets that waited too long (waiting_auto_close_days)', () => {
    it('closes those unanswered for the set number of days, tells the requester, and leaves the rest', async () => {
      t.clock.set('2026-04-01T09:00:00Z');
      const stale = await open();
      const withTask = await open();
      const fresh = await open();
      const answered = await open();
      for (const o of [stale, withTask, answered]) await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
      await addTask(t.ctx(agent.actor), { ticketId: withTask.id, title: 'Order the replacement token' });
      t.clock.set('2026-04-02T09:00:00Z');
      await changeTicketStatus(t.ctx(agent.actor), { ticketId: fresh.id, status: 'pending' });
      await addUserMessage(t.ctx(answered.requester), { ticketId: answered.id, message: 'Here you go' });

      // Off (the default): nothing happens however long they wait.
      t.clock.set('2026-04-05T10:00:00Z');
      expect(await closeUnansweredWaitingTickets(t.ctx(SYSTEM))).toEqual({ closed: 0, kept: 0, failed: [] });

      await writeSettings(t.db, { waiting_auto_close_days: 4 }, t.clock());
      try {
        const res = await closeUnansweredWaitingTickets(t.ctx(SYSTEM));
        expect(res).toEqual({ closed: 1, kept: 1, failed: [] });
        expect(await row(stale.id)).toMatchObject({ status: 'closed', state: 'closed', waiting_since: null });
        expect(await lastEvent(stale.id)).toMatchObject({ event: 'closed', actor: 'system', data: { from: 'pending', to: 'closed', by: 'auto_close', days: 4 } });
        const mail = await t.db('outbox').where({ ticket_id: stale.id, template: 'ticket-closed' });
        expect(mail).toHaveLength(1);
        expect(mail[0].to_address).toBe(stale.requester.email);
        expect(mail[0].text_body).toContain('have not heard back for 4 days');
        for (const o of [withTask, fresh]) expect((await row(o.id)).status).toBe('pending');
        expect((await row(answered.id)).status).toBe('open');
        // A second run (another process) finds nothing more to do.
        expect((await closeUnansweredWaitingTickets(t.ctx(SYSTEM))).closed).toBe(0);
        // The one waiting since a day later goes when its four days are up.
        t.clock.set('2026-04-06T09:00:01Z');
        expect((await closeUnansweredWaitingTickets(t.ctx(SYSTEM))).closed).toBe(1);
        expect((await row(fresh.id)).status).toBe('closed');
      } finally {
        await writeSettings(t.db, { waiting_auto_close_days: 0 }, t.clock());
      }
    });
  });
});
