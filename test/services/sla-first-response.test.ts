import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, submit } from '../support/http.ts';
import { buildAdmin, buildAgent, buildSlaPlan, unique } from '../factories/index.ts';
import { ANONYMOUS, SYSTEM } from '../../src/domain/actor.ts';
import { dbBool, dbDate } from '../../src/db/dialect.ts';
import { markOverdueTickets } from '../../src/domain/sla/overdue-service.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { addInternalNote, changeTicketSla, changeTicketStatus, replyToTicket } from '../../src/domain/tickets/ticket-agent-service.ts';

const iso = (v: unknown) => dbDate(v)?.toISOString() ?? null;

describe('the first-response target of an SLA plan', () => {
  let t: TestApp;
  let support: number;
  let agent: Awaited<ReturnType<typeof buildAgent>>;
  let plan: number;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const events = async (id: number) => (await t.db('ticket_events').where({ ticket_id: id }).orderBy('id')).map((e: any) => [e.event, e.data ? JSON.parse(e.data) : {}]);
  const open = () => openTicket(t.ctx(ANONYMOUS), { email: `${unique('req')}@example.test`, name: 'Pat', subject: 'Card declined', message: 'At every shop' });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    agent = await buildAgent(t.db, { department_id: support, name: 'John' });
    plan = await buildSlaPlan(t.db, { name: 'Sev-A', grace_minutes: 240, first_response_minutes: 60 });
    await t.db('departments').where({ id: support }).update({ sla_plan_id: plan });
  });
  afterAll(async () => t.close());

  it('makes a new ticket due at the first-response target until an agent replies, then at the SLA due date', async () => {
    t.clock.set('2026-03-02T10:00:00Z');
    const o = await open();
    let tk = await row(o.id);
    expect(iso(tk.first_response_due_at)).toBe('2026-03-02T11:00:00.000Z');
    expect(iso(tk.sla_due_at)).toBe('2026-03-02T14:00:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-02T11:00:00.000Z');
    // An internal note is no response: still due at 11:00.
    await addInternalNote(t.ctx(agent.actor), { ticketId: o.id, note: 'Checking the card processor' });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-02T11:00:00.000Z');
    t.clock.set('2026-03-02T10:40:00Z');
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Which card type?' });
    tk = await row(o.id);
    expect(iso(tk.first_response_at)).toBe('2026-03-02T10:40:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-02T14:00:00.000Z');
    expect(iso(tk.first_response_due_at)).toBe('2026-03-02T11:00:00.000Z'); // kept, for reports and the page
  });

  it('flags a missed first response as overdue; the late reply clears it, and the resolution due date is a new episode', async () => {
    t.clock.set('2026-03-03T10:00:00Z');
    const o = await open();
    t.clock.set('2026-03-03T10:59:59Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    expect(dbBool((await row(o.id)).is_overdue)).toBe(false);
    t.clock.set('2026-03-03T11:00:01Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    expect(dbBool((await row(o.id)).is_overdue)).toBe(true);
    expect((await events(o.id)).at(-1)).toEqual(['overdue', expect.objectContaining({ target: 'first_response', dueAt: '2026-03-03T11:00:00.000Z' })]);

    t.clock.set('2026-03-03T11:30:00Z');
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Sorry for the wait' });
    let tk = await row(o.id);
    expect(dbBool(tk.is_overdue)).toBe(false);
    expect(iso(tk.due_at)).toBe('2026-03-03T14:00:00.000Z');
    expect((await events(o.id)).map((e) => e[0])).toEqual(['created', 'overdue', 'response', 'claimed', 'overdue_cleared']);

    t.clock.set('2026-03-03T13:59:59Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    expect(dbBool((await row(o.id)).is_overdue)).toBe(false);
    t.clock.set('2026-03-03T14:00:01Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    tk = await row(o.id);
    expect(dbBool(tk.is_overdue)).toBe(true);
    expect((await events(o.id)).at(-1)).toEqual(['overdue', expect.objectContaining({ target: 'resolution' })]);
  });

  it('recomputes the first-response due date from the opening when the plan changes before the first reply', async () => {
    t.clock.set('2026-03-04T10:00:00Z');
    const o = await open();
    const slower = await buildSlaPlan(t.db, { name: unique('Sev-B '), grace_minutes: 480, first_response_minutes: 120 });
    t.clock.set('2026-03-04T10:30:00Z');
    await changeTicketSla(t.ctx(agent.actor), { ticketId: o.id, slaPlanId: slower });
    let tk = await row(o.id);
    expect(iso(tk.first_response_due_at)).toBe('2026-03-04T12:00:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-04T12:00:00.000Z');
    // A plan without a target: no first-response due date; due at the SLA's.
    const none = await buildSlaPlan(t.db, { name: unique('Plain '), grace_minutes: 60 });
    await changeTicketSla(t.ctx(agent.actor), { ticketId: o.id, slaPlanId: none });
    tk = await row(o.id);
    expect(tk.first_response_due_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-04T11:00:00.000Z');
  });

  it('a first reply that waits for the requester stops the clock: no due date at all', async () => {
    t.clock.set('2026-03-05T10:00:00Z');
    const o = await open();
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Please send a screenshot', status: 'pending' });
    const tk = await row(o.id);
    expect(tk.status).toBe('pending');
    expect(tk.due_at).toBeNull();
    expect(iso(tk.first_response_at)).toBe('2026-03-05T10:00:00.000Z');
  });

  it('the admin sets the target on the plan form (empty = none, bad input kept), the list and the ticket page show it', async () => {
    t.clock.set('2026-03-06T10:00:00Z');
    const admin = await buildAdmin(t.db);
    const c = await loginAsAgent(t.app, admin.username, admin.password);
    const name = unique('Gold ');
    const bad = await submit(c, '/scp/admin/sla-plans/new', '/scp/admin/sla-plans', { name, grace: '8', firstResponse: 'soon', alertsEnabled: 'on' });
    expect(bad.status).toBe(422);
    expect($(bad.text)('input[name=firstResponse]').val()).toBe('soon');
    expect(await t.db('sla_plans').where({ name }).first()).toBeUndefined();
    expect((await submit(c, '/scp/admin/sla-plans/new', '/scp/admin/sla-plans', { name, grace: '8', firstResponse: '0:30', alertsEnabled: 'on' })).status).toBe(303);
    const created = await t.db('sla_plans').where({ name }).first();
    expect(created.first_response_minutes).toBe(30);
    const list = $((await c.get('/scp/admin/sla-plans')).text);
    expect(list(`tr:contains("${name}")`).text()).toContain('0:30 h');
    const edit = $((await c.get(`/scp/admin/sla-plans/${created.id}`)).text);
    expect(edit('input[name=firstResponse]').val()).toBe('0:30');
    expect((await submit(c, `/scp/admin/sla-plans/${created.id}`, `/scp/admin/sla-plans/${created.id}`, { name, grace: '8', firstResponse: '', alertsEnabled: 'on' })).status).toBe(303);
    expect((await t.db('sla_plans').where({ id: created.id }).first()).first_response_minutes).toBeNull();

    const o = await open();
    t.clock.set('2026-03-06T11:30:00Z');
    const page = $((await c.get(`/scp/tickets/${o.id}`)).text);
    const fr = page('[data-prop=first-response]').text();
    expect(fr).toContain('Due');
    expect(fr).toContain('Late');
    expect(page('[data-prop=due]').text()).toContain('first response');

    // Closed without a reply: late only when closed after the target (as reports count it).
    const closedInTime = await open();
    const closedLate = await open();
    t.clock.set('2026-03-06T12:00:00Z'); // their target: 12:30
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: closedInTime.id, status: 'closed' });
    t.clock.set('2026-03-06T13:00:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: closedLate.id, status: 'closed' });
    t.clock.set('2026-03-06T13:10:00Z'); // both past the target now
    const frOf = async (id: number) => $((await c.get(`/scp/tickets/${id}`)).text)('[data-prop=first-response]').text();
    expect(await frOf(closedInTime.id)).not.toContain('Late');
    expect(await frOf(closedLate.id)).toContain('Late');
  });
});
