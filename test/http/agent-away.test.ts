/**
 * An agent away (vacation): they mark it on their profile; their departments' and teams' alerts
 * skip them, no filter or account manager assigns them a ticket, and others see "(away)" when they
 * assign. Unmarked, all of it comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, submit, ticketAction, type Client } from '../support/http.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { buildAdmin, buildAgent, unique } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';

describe('agents away', () => {
  let t: TestApp;
  let support: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  let janeC: Client;
  const alertsTo = async (ticketId: number) => (await t.db('outbox').where({ ticket_id: ticketId, template: 'new-ticket-alert' }).pluck('to_address')).map(String).sort();
  const open = (email = `${unique('u')}@example.com`) => openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat', subject: 'Help', message: 'Please' });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    await t.db('agents').update({ is_away: true }); // only the agents of this test get alerts
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    jane = await buildAgent(t.db, { department_id: support, name: 'Jane', username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
    janeC = await loginAsAgent(t.app, jane.username, jane.password);
  });
  afterAll(async () => t.close());

  it('marked away on the profile (audited): no new-ticket alerts, listed "(away)" when others assign', async () => {
    const before = await open();
    expect(await alertsTo(before.id)).toEqual([jane.email, john.email].sort());
    const res = await submit(johnC, '/scp/profile', '/scp/profile', { name: 'John', signature: '', isAway: 'on' });
    expect(res.status).toBe(303);
    const audit = await t.db('audit_log').where({ action: 'agent.profile', entity_id: john.id }).orderBy('id', 'desc').first();
    expect(JSON.parse(audit.after)).toMatchObject({ isAway: true });
    const profile = $((await johnC.get('/scp/profile')).text);
    expect(profile('#f-isAway').attr('checked')).toBeDefined();
    expect(profile('.flash').text()).toContain('You are marked away');
    const during = await open();
    expect(await alertsTo(during.id)).toEqual([jane.email]);
    const page = $((await janeC.get(`/scp/tickets/${during.id}`)).text);
    const options = page('#f-assignee option').map((_, o) => page(o).text()).get();
    expect(options).toContain('John (away)');
    expect(options).toContain('Jane');
  });

  it('no filter and no account manager assigns an away agent; an agent may still assign them by hand', async () => {
    await t.db('ticket_filters').insert({ name: 'To John', rules: JSON.stringify([{ field: 'email', op: 'ends', value: '@john-customer.test' }]), assignee_agent_id: john.id, is_active: true, exec_order: 1, created_at: new Date(), updated_at: new Date() });
    await writeSettings(t.db, { filters_version: unique('v') }, t.clock());
    const [orgId] = await t.db('organizations').insert({ name: 'Managed by John', auto_cc: 'none', manager_agent_id: john.id, is_active: true, created_at: new Date(), updated_at: new Date() });
    await t.db('organization_domains').insert({ domain: 'managed.example', organization_id: orgId });
    const byFilter = await open('someone@john-customer.test');
    const byOrg = await open('member@managed.example');
    for (const o of [byFilter, byOrg]) expect((await t.db('tickets').where({ id: o.id }).first()).assignee_agent_id).toBeNull();
    // The admin's list shows it.
    const admin = await loginAsAgent(t.app, (await buildAdmin(t.db, { username: 'boss' })).username, 'correct horse battery');
    const list = $((await admin.get('/scp/admin/agents?q=john')).text);
    expect(list('tr').filter((_, tr) => list(tr).text().includes('john')).find('.badge').text()).toBe('Away');
    // …and the admin can clear it (and set it again) on the agent's form.
    const form = $((await admin.get(`/scp/admin/agents/${john.id}`)).text)('form.admin-form');
    const fields = Object.fromEntries(form.serializeArray().map((f) => [f.name, f.value]));
    expect(fields.isAway).toBe('on');
    const { isAway: _away, ...cleared } = fields;
    expect((await admin.post(`/scp/admin/agents/${john.id}`).type('form').send(cleared)).status).toBe(303);
    expect(Boolean((await t.db('agents').where({ id: john.id }).first()).is_away)).toBe(false);
    expect((await admin.post(`/scp/admin/agents/${john.id}`).type('form').send(fields)).status).toBe(303);
    expect(Boolean((await t.db('agents').where({ id: john.id }).first()).is_away)).toBe(true);
    const byHand = await ticketAction(janeC, byOrg.id, 'assign', { assignee: `agent:${john.id}` });
    expect(byHand.status).toBe(303);
    expect((await t.db('tickets').where({ id: byOrg.id }).first()).assignee_agent_id).toBe(john.id);
    // Back: the filter assigns him again, and alerts reach him.
    await submit(johnC, '/scp/profile', '/scp/profile', { name: 'John', signature: '' });
    const back = await open('again@john-customer.test');
    expect((await t.db('tickets').where({ id: back.id }).first()).assignee_agent_id).toBe(john.id);
    expect(await alertsTo((await open()).id)).toEqual([jane.email, john.email].sort());
  });
});
