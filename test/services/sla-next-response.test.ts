import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, submit } from '../support/http.ts';
import { buildAdmin, buildAgent, buildSlaPlan, unique } from '../factories/index.ts';
import { ANONYMOUS, SYSTEM } from '../../src/domain/actor.ts';
import { dbBool, dbDate } from '../../src/db/dialect.ts';
import { markOverdueTickets } from '../../src/domain/sla/overdue-service.ts';
import { addUserMessage, openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { addInternalNote, changeTicketSla, changeTicketStatus, replyToTicket, setTicketDueDate } from '../../src/domain/tickets/ticket-agent-service.ts';
import { describeEvent } from '../../src/domain/tickets/ticket-presenters.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import request from 'supertest';

const iso = (v: unknown) => dbDate(v)?.toISOString() ?? null;

describe('the next-response target of an SLA plan', () => {
  let t: TestApp;
  let agent: Awaited<ReturnType<typeof buildAgent>>;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const events = async (id: number) => (await t.db('ticket_events').where({ ticket_id: id }).orderBy('id')).map((e: any) => [e.event, e.data ? JSON.parse(e.data) : {}] as [string, any]);
  const open = async () => {
    const email = `${unique('req')}@example.test`;
    const o = await openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat', subject: 'Card declined', message: 'At every shop' });
    return { ...o, requester: { kind: 'user' as const, id: o.userId, email, name: 'Pat' } };
  };
  /** A ticket opened at `day`T10:00 and first answered at 10:30. */
  const answered = async (day: string) => {
    t.clock.set(`${day}T10:00:00Z`);
    const o = await open();
    t.clock.set(`${day}T10:30:00Z`);
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Which card type?' });
    return o;
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    agent = await buildAgent(t.db, { department_id: support, name: 'John' });
    // Resolution in 8 hours, first response in 1, every later reply in 2.
    const plan = await buildSlaPlan(t.db, { name: 'Sev-A', grace_minutes: 480, first_response_minutes: 60, next_response_minutes: 120 });
    await t.db('departments').where({ id: support }).update({ sla_plan_id: plan });
  });
  afterAll(async () => t.close());

  it('makes the requester’s message due for a reply within the target (the oldest unanswered one counts); the reply moves the due date back', async () => {
    const o = await answered('2026-03-02');
    let tk = await row(o.id);
    expect(tk.next_response_due_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-02T18:00:00.000Z');

    t.clock.set('2026-03-02T11:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Visa' });
    tk = await row(o.id);
    expect(iso(tk.next_response_due_at)).toBe('2026-03-02T13:00:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-02T13:00:00.000Z');
    // A second message before the reply does not move it; nor does an internal note.
    t.clock.set('2026-03-02T11:45:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'And Mastercard too' });
    await addInternalNote(t.ctx(agent.actor), { ticketId: o.id, note: 'Asked the processor' });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-02T13:00:00.000Z');

    t.clock.set('2026-03-02T12:00:00Z');
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Fixed on our side' });
    tk = await row(o.id);
    expect(tk.next_response_due_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-02T18:00:00.000Z');
    expect(iso(tk.first_response_at)).toBe('2026-03-02T10:30:00.000Z');
    expect(iso(tk.first_response_due_at)).toBe('2026-03-02T11:00:00.000Z');
  });

  it('is not set before the first response (the first-response target applies then)', async () => {
    t.clock.set('2026-03-03T10:00:00Z');
    const o = await open();
    t.clock.set('2026-03-03T10:20:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Any news?' });
    const tk = await row(o.id);
    expect(tk.next_response_due_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-03T11:00:00.000Z');
  });

  it('flags an unanswered message as overdue when the target passes, says so in the history, and the late reply clears it', async () => {
    const o = await answered('2026-03-04');
    t.clock.set('2026-03-04T11:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Still declined' });
    t.clock.set('2026-03-04T12:59:59Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    expect(dbBool((await row(o.id)).is_overdue)).toBe(false);
    t.clock.set('2026-03-04T13:00:01Z');
    await markOverdueTickets(t.ctx(SYSTEM));
    expect(dbBool((await row(o.id)).is_overdue)).toBe(true);
    const overdue = (await events(o.id)).at(-1)!;
    expect(overdue).toEqual(['overdue', expect.objectContaining({ target: 'next_response', dueAt: '2026-03-04T13:00:00.000Z' })]);
    expect(describeEvent('overdue', overdue[1], new Map(), (d) => String(d))).toContain('not answered by');

    t.clock.set('2026-03-04T13:30:00Z');
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Sorry for the wait' });
    const tk = await row(o.id);
    expect(dbBool(tk.is_overdue)).toBe(false);
    expect(iso(tk.due_at)).toBe('2026-03-04T18:00:00.000Z');
    expect((await events(o.id)).at(-1)).toEqual(['overdue_cleared', { by: 'next_response' }]);
  });

  it('owes no reply while waiting on the requester; their answer starts the target, after the time waited moved the resolution', async () => {
    const o = await answered('2026-03-05');
    t.clock.set('2026-03-05T11:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Here is a photo' });
    expect(iso((await row(o.id)).next_response_due_at)).toBe('2026-03-05T13:00:00.000Z');
    // The agent decides it is the requester's turn without replying: no reply is owed any more.
    t.clock.set('2026-03-05T11:30:00Z');
    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'pending' });
    let tk = await row(o.id);
    expect(tk.next_response_due_at).toBeNull();
    expect(tk.due_at).toBeNull();
    t.clock.set('2026-03-05T12:30:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Sent it again' });
    tk = await row(o.id);
    expect(tk.status).toBe('open');
    expect(iso(tk.sla_due_at)).toBe('2026-03-05T19:00:00.000Z'); // 18:00 + the hour waited
    expect(iso(tk.next_response_due_at)).toBe('2026-03-05T14:30:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-05T14:30:00.000Z');
  });

  it('a manual due date wins; closing clears the target; the requester reopening a closed ticket starts it afresh', async () => {
    const o = await answered('2026-03-06');
    t.clock.set('2026-03-06T11:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Hello?' });
    await setTicketDueDate(t.ctx(agent.actor), { ticketId: o.id, dueAt: '2026-03-09T09:00' });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-09T09:00:00.000Z');
    await setTicketDueDate(t.ctx(agent.actor), { ticketId: o.id, dueAt: '' });
    expect(iso((await row(o.id)).due_at)).toBe('2026-03-06T13:00:00.000Z');

    await changeTicketStatus(t.ctx(agent.actor), { ticketId: o.id, status: 'closed' });
    let tk = await row(o.id);
    expect(tk.next_response_due_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-06T18:00:00.000Z'); // measured against the resolution

    t.clock.set('2026-03-06T14:00:00Z');
    const res = await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'It happened again' });
    expect(res.reopened).toBe(true);
    tk = await row(o.id);
    expect(iso(tk.sla_due_at)).toBe('2026-03-06T22:00:00.000Z');
    expect(iso(tk.next_response_due_at)).toBe('2026-03-06T16:00:00.000Z');
    expect(iso(tk.due_at)).toBe('2026-03-06T16:00:00.000Z');
  });

  it('recomputes the target from the oldest unanswered message when the plan changes', async () => {
    const o = await answered('2026-03-09');
    t.clock.set('2026-03-09T11:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Any news?' });
    t.clock.set('2026-03-09T11:40:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'Hello?' });
    const quicker = await buildSlaPlan(t.db, { name: unique('Sev-0 '), grace_minutes: 240, next_response_minutes: 30 });
    t.clock.set('2026-03-09T11:45:00Z');
    await changeTicketSla(t.ctx(agent.actor), { ticketId: o.id, slaPlanId: quicker });
    let tk = await row(o.id);
    expect(iso(tk.next_response_due_at)).toBe('2026-03-09T11:30:00.000Z'); // 11:00 + 30 minutes: already late
    expect(iso(tk.due_at)).toBe('2026-03-09T11:30:00.000Z');
    // A plan without a next-response target: none; due at the resolution.
    const plain = await buildSlaPlan(t.db, { name: unique('Plain '), grace_minutes: 600 });
    await changeTicketSla(t.ctx(agent.actor), { ticketId: o.id, slaPlanId: plain });
    tk = await row(o.id);
    expect(tk.next_response_due_at).toBeNull();
    expect(iso(tk.due_at)).toBe('2026-03-09T20:00:00.000Z');
  });

  it('the admin sets the target on the plan form (empty = none, bad input kept); the list, the ticket page and the API show it', async () => {
    t.clock.set('2026-03-10T10:00:00Z');
    const admin = await buildAdmin(t.db);
    const c = await loginAsAgent(t.app, admin.username, admin.password);
    const name = unique('Gold ');
    const bad = await submit(c, '/scp/admin/sla-plans/new', '/scp/admin/sla-plans', { name, grace: '8', nextResponse: 'later', alertsEnabled: 'on' });
    expect(bad.status).toBe(422);
    expect($(bad.text)('input[name=nextResponse]').val()).toBe('later');
    expect(await t.db('sla_plans').where({ name }).first()).toBeUndefined();
    expect((await submit(c, '/scp/admin/sla-plans/new', '/scp/admin/sla-plans', { name, grace: '8', nextResponse: '1:30', alertsEnabled: 'on' })).status).toBe(303);
    const created = await t.db('sla_plans').where({ name }).first();
    expect(created.next_response_minutes).toBe(90);
    expect($((await c.get('/scp/admin/sla-plans')).text)(`tr:contains("${name}")`).text()).toContain('1:30 h');
    expect($((await c.get(`/scp/admin/sla-plans/${created.id}`)).text)('input[name=nextResponse]').val()).toBe('1:30');
    expect((await submit(c, `/scp/admin/sla-plans/${created.id}`, `/scp/admin/sla-plans/${created.id}`, { name, grace: '8', nextResponse: '', alertsEnabled: 'on' })).status).toBe(303);
    expect((await t.db('sla_plans').where({ id: created.id }).first()).next_response_minutes).toBeNull();

    const o = await answered('2026-03-10');
    t.clock.set('2026-03-10T11:00:00Z');
    await addUserMessage(t.ctx(o.requester), { ticketId: o.id, message: 'One more thing' });
    t.clock.set('2026-03-10T13:30:00Z');
    const late = await loginAsAgent(t.app, admin.username, admin.password); // the morning's session has timed out
    const page = $((await late.get(`/scp/tickets/${o.id}`)).text);
    const next = page('[data-prop=next-response]').text();
    expect(next).toContain('Due');
    expect(next).toContain('Late');
    expect(page('[data-prop=due]').text()).toContain('reply to the requester');
    const key = (await createApiKey(t.ctx(), { allowedIp: '*', canManageTickets: true })).key;
    const api = await request(t.app).get(`/api/v1/tickets/${o.number}`).set('X-API-Key', key);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ nextResponseDueAt: '2026-03-10T13:00:00.000Z', dueAt: '2026-03-10T13:00:00.000Z' });
    await replyToTicket(t.ctx(agent.actor), { ticketId: o.id, message: 'Done' });
    expect($((await late.get(`/scp/tickets/${o.id}`)).text)('[data-prop=next-response]').length).toBe(0);
  });
});
