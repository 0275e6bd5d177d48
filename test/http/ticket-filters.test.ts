/**
 * Ticket filters: an admin's rules route new tickets (department, topic, priority, SLA, agent,
 * team), turn the auto-response off or refuse them, on the channels they are for; explicit choices
 * win; changes reach the next ticket at once; the form reports every problem and keeps the input.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, type Client } from '../support/http.ts';
import { statementsDuring } from '../support/statements.ts';
import { buildAdmin, buildAgent, buildDepartment, buildSlaPlan, unique } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { openTicketForUser } from '../../src/domain/tickets/ticket-agent-service.ts';
import { processInboundMail } from '../../src/domain/mail/inbound-service.ts';
import { createFilter, deleteFilter, setFilterActive, updateFilter, type FilterInput } from '../../src/domain/filters/ticket-filter-service.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { Forbidden } from '../../src/domain/errors.ts';

describe('ticket filters', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof buildAdmin>>;
  let adminC: Client;
  let billing: number;
  let support: number;
  let gold: number;
  let high: number;
  let billy: Awaited<ReturnType<typeof buildAgent>>;
  let outsider: Awaited<ReturnType<typeof buildAgent>>;
  let teamId: number;
  let apiKey: string;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const history = async (id: number) => $((await adminC.get(`/scp/tickets/${id}`)).text)('.events').text();
  const portal = (email: string, subject: string, message = 'Please help.') => openTicket(t.ctx(ANONYMOUS), { email, name: 'Someone', subject, message });
  const make = (input: FilterInput) => createFilter(t.ctx(admin.actor), input);

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    billing = await buildDepartment(t.db, { name: 'Billing' });
    gold = await buildSlaPlan(t.db, { name: 'Gold', grace_minutes: 120 });
    high = (await t.db('priorities').where({ name: 'High' }).first()).id;
    admin = await buildAdmin(t.db, { username: 'root' });
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
    billy = await buildAgent(t.db, { department_id: billing, name: 'Billy' });
    outsider = await buildAgent(t.db, { department_id: support, name: 'Outsider' });
    [teamId] = await t.db('teams').insert({ name: 'Collections', is_active: true, created_at: '2026-03-01 00:00:00.000', updated_at: '2026-03-01 00:00:00.000' });
    apiKey = (await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true, canManageTickets: true })).key;
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
    // Each test starts with no filter (deleted the way an admin does, so every process notices).
    for (const f of await t.db('ticket_filters').pluck('id')) await deleteFilter(t.ctx(admin.actor), Number(f));
  });

  it('an admin creates a filter on the form; a matching portal ticket is routed, gets no auto-response, and the history says why', async () => {
    const page = await adminC.get('/scp/admin/filters/new');
    const form = $(page.text);
    const _csrf = String(form('input[name=_csrf]').val());
    const res = await adminC.post('/scp/admin/filters/new').type('form').send({
      _csrf, name: 'Big client', execOrder: '10', target: 'any', matchAll: 'all', rule1Field: 'email', rule1Op: 'ends', rule1Value: '@BigClient.com',
      departmentId: String(billing), priorityId: String(high), slaPlanId: String(gold), noAutoresponse: 'on',
    });
    expect(res.status).toBe(303);
    const list = $((await adminC.get('/scp/admin/filters')).text);
    expect(list('table').text()).toContain('Big client');
    expect(list('table').text()).toContain('Requester’s email ends with “@BigClient.com”');
    expect(list('table').text()).toContain('Department: Billing');

    const hit = await portal('ann@bigclient.com', 'Invoice question');
    expect(await row(hit.id)).toMatchObject({ department_id: billing, priority_id: high, sla_plan_id: gold });
    expect(await t.db('outbox').where({ ticket_id: hit.id, template: 'ticket-autoresponse' }).first()).toBeUndefined();
    expect(await history(hit.id)).toContain('Filter “Big client” applied: Department → Billing; Priority → High; SLA plan → Gold; No auto-response');

    const miss = await portal('bob@elsewhere.com', 'Invoice question');
    expect((await row(miss.id)).department_id).toBe(support);
    expect(await t.db('outbox').where({ ticket_id: miss.id, template: 'ticket-autoresponse' }).first()).toBeDefined();
    expect(await history(miss.id)).not.toContain('Filter');
  });

  it('the form reports every problem at once and keeps the input', async () => {
    const _csrf = String($((await adminC.get('/scp/admin/filters/new')).text)('input[name=_csrf]').val());
    const post = (body: Record<string, string>) => adminC.post('/scp/admin/filters/new').type('form').send({ _csrf, ...body });
    const none = $((await post({ name: 'Nothing' })).text);
    expect(none('#e-rule1Field').text()).toContain('Add at least one rule');
    expect(none('#e-departmentId').text()).toContain('Choose at least one action');
    const half = await post({ name: 'Half', rule1Field: 'subject', rule2Value: 'refund', reject: 'on', departmentId: String(billing), assigneeId: String(billy.id), teamId: String(teamId) });
    expect(half.status).toBe(422);
    const page = $(half.text);
    expect(page('#e-rule1Op').text()).toContain('Rule 1: choose how to compare');
    expect(page('#e-rule1Value').text()).toContain('Rule 1: enter the text');
    expect(page('#e-rule2Field').text()).toContain('Rule 2: choose a field');
    expect(page('#e-reject').text()).toContain('refuses tickets does nothing else');
    expect(page('#e-teamId').text()).toContain('an agent or to a team, not both');
    expect(page('#f-rule2Value').val()).toBe('refund');
    expect(page('#f-name').val()).toBe('Half');
    await make({ name: 'Taken', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'x', noAutoresponse: 'on' });
    const taken = $((await post({ name: 'taken', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'x', noAutoresponse: 'on' })).text);
    expect(taken('#e-name').text()).toContain('already has this name');
    expect(await t.db('ticket_filters').count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });

  it('refuses on the channels it is for: mail with a word in the subject is refused, the same on the portal is not', async () => {
    await make({ name: 'No casino spam', target: 'email', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'casino', reject: 'on' });
    const raw = Buffer.from('From: spam@spam.test\r\nTo: support@helpdesk.test\r\nSubject: Best CASINO bonus\r\nMessage-ID: <spam1@spam.test>\r\n\r\nWin!\r\n');
    const r = await processInboundMail(t.ctx(), raw, 'pipe');
    expect(r.outcome).toBe('rejected');
    expect(r.reason).toMatch(/^TICKET_REJECTED/);
    expect(await t.db('tickets').where({ subject: 'Best CASINO bonus' }).first()).toBeUndefined();
    const web = await portal('player@example.com', 'Casino night booking');
    expect(web.id).toBeGreaterThan(0);

    await make({ name: 'No lottery anywhere', target: 'any', rule1Field: 'message', rule1Op: 'contains', rule1Value: 'lottery', reject: 'on' });
    await expect(portal('x@example.com', 'Hello', 'You won the lottery')).rejects.toBeInstanceOf(Forbidden);
    const legacy = await request(t.app).post('/api/tickets.json').set('X-API-Key', apiKey).send({ name: 'X', email: 'x@example.com', subject: 'Hi', message: 'lottery time' });
    expect([legacy.status, legacy.text]).toEqual([403, 'Ticket denied']);
  });

  it('runs in order: a later match overrides, "stop" ends the run; an agent’s explicit choice wins', async () => {
    await make({ name: 'Refunds to billing', execOrder: '1', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'refund', departmentId: String(billing) });
    await make({ name: 'Urgent refunds', execOrder: '2', rule1Field: 'subject', rule1Op: 'starts', rule1Value: 'urgent', rule2Field: 'subject', rule2Op: 'contains', rule2Value: 'refund', priorityId: String(high), stopOnMatch: 'on' });
    await make({ name: 'Never reached', execOrder: '3', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'refund', departmentId: String(support) });
    const a = await portal('c@example.com', 'Urgent: refund please');
    expect(await row(a.id)).toMatchObject({ department_id: billing, priority_id: high });
    expect(await history(a.id)).not.toContain('Never reached');
    const b = await portal('c@example.com', 'A refund please');
    expect((await row(b.id)).department_id).toBe(support); // the third filter overrides the first
    // Any: one rule is enough.
    await make({ name: 'Any of two', execOrder: '0', matchAll: 'any', rule1Field: 'name', rule1Op: 'equals', rule1Value: 'vip person', rule2Field: 'email', rule2Op: 'equals', rule2Value: 'ceo@example.com', slaPlanId: String(gold) });
    expect((await row((await portal('ceo@example.com', 'Hi')).id)).sla_plan_id).toBe(gold);

    // The admin (an agent) chooses the department: the filters' department does not apply.
    const chosen = await openTicketForUser(t.ctx(admin.actor), { email: 'c@example.com', name: 'C', subject: 'A refund please', message: 'x', source: 'phone', departmentId: String(support) });
    expect((await row(chosen.id)).department_id).toBe(support);
    const left = await openTicketForUser(t.ctx(admin.actor), { email: 'c@example.com', name: 'C', subject: 'Refund for order 7', message: 'x', source: 'phone' });
    expect((await row(left.id)).department_id).toBe(support);
  });

  it('assigns to an agent of the department (alerted) or a team; an agent outside the department is not assigned, and the history says so', async () => {
    const f = await make({ name: 'Billy gets invoices', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'invoice', departmentId: String(billing), assigneeId: String(billy.id) });
    const a = await portal('d@example.com', 'Invoice 12 wrong');
    expect((await row(a.id)).assignee_agent_id).toBe(billy.id);
    expect(await t.db('outbox').where({ ticket_id: a.id, template: 'assigned-alert', to_address: billy.email }).first()).toBeDefined();

    await updateFilter(t.ctx(admin.actor), f.id, { name: 'Billy gets invoices', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'invoice', departmentId: String(billing), assigneeId: String(outsider.id) });
    const b = await portal('d@example.com', 'Invoice 13 wrong');
    expect((await row(b.id)).assignee_agent_id).toBeNull();
    expect(await history(b.id)).toContain('its agent does not work in this department: not assigned');

    await updateFilter(t.ctx(admin.actor), f.id, { name: 'Billy gets invoices', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'invoice', teamId: String(teamId) });
    const c = await portal('d@example.com', 'Invoice 14 wrong');
    expect((await row(c.id)).team_id).toBe(teamId);
    expect(await history(c.id)).toContain('Assigned to team Collections');
  });

  it('a change reaches the next ticket at once (disabled, enabled); what a filter names that is disabled since is skipped', async () => {
    const f = await make({ name: 'To billing', rule1Field: 'email', rule1Op: 'ends', rule1Value: '@acme.test', departmentId: String(billing), priorityId: String(high) });
    expect((await row((await portal('e@acme.test', 'One')).id)).department_id).toBe(billing);
    await setFilterActive(t.ctx(admin.actor), f.id, false);
    expect((await row((await portal('e@acme.test', 'Two')).id)).department_id).toBe(support);
    await setFilterActive(t.ctx(admin.actor), f.id, true);
    expect((await row((await portal('e@acme.test', 'Three')).id)).department_id).toBe(billing);
    await t.db('departments').where({ id: billing }).update({ is_active: false });
    await updateFilter(t.ctx(admin.actor), f.id, { name: 'To billing', rule1Field: 'email', rule1Op: 'ends', rule1Value: '@acme.test', departmentId: String(billing), priorityId: String(high) });
    try {
      const four = await portal('e@acme.test', 'Four');
      expect(await row(four.id)).toMatchObject({ department_id: support, priority_id: high });
      expect(await history(four.id)).toContain('Filter “To billing” applied: Priority → High');
    } finally {
      await t.db('departments').where({ id: billing }).update({ is_active: true });
    }
  });

  it('a department a filter uses cannot be deleted (the filter is named); filters cost a ticket no statement once read', async () => {
    const dept = await buildDepartment(t.db, { name: unique('Temp ') });
    await make({ name: 'Uses temp', rule1Field: 'subject', rule1Op: 'contains', rule1Value: 'temp', departmentId: String(dept) });
    const page = $((await adminC.get(`/scp/admin/departments/${dept}`)).text);
    const del = await adminC.post(`/scp/admin/departments/${dept}/delete`).type('form').send({ _csrf: String(page('input[name=_csrf]').first().val()) });
    expect(del.status).toBe(409);
    expect(del.text).toContain('ticket filter');

    await portal('f@example.com', 'warm the filters up');
    const withFilters = await statementsDuring(t.db, () => portal('f@example.com', 'Second ticket'));
    for (const f of await t.db('ticket_filters').pluck('id')) await deleteFilter(t.ctx(admin.actor), Number(f));
    await portal('f@example.com', 'warm up again');
    const without = await statementsDuring(t.db, () => portal('f@example.com', 'Third ticket'));
    expect(withFilters.statements.some((s) => s.sql.includes('ticket_filters'))).toBe(false);
    expect(withFilters.statements.length).toBe(without.statements.length);
  });
});
