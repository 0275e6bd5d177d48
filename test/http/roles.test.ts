/**
 * Roles and permissions (osTicket's): the default roles, what a "Limited access" agent may and may not
 * do (refused with 403 over HTTP, nothing written; the page offers only what is allowed), a role per
 * extra department that grants or limits there only, administrators unaffected, bulk actions refused
 * per ticket, the New ticket form, and Admin → Roles (create, change with immediate effect, delete
 * refused while in use naming who, disable) with the role selects of the agent form.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAgentActor } from '../../src/domain/agents/agent-queries.ts';
import { assertMay } from '../../src/domain/tickets/ticket-policy.ts';
import { buildAdmin, buildAgent, buildDepartment, buildRole, buildTicket, roleIdOf, type BuiltAgent } from '../factories/index.ts';
import { $, csrfFrom, loginAsAgent, ticketAction, type Client } from '../support/http.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

describe('roles and permissions', () => {
  let t: TestApp;
  let support: number;
  let sales: number;
  let admin: BuiltAgent;
  let lim: BuiltAgent;
  let adminC: Client;
  let limC: Client;
  const role: Record<string, number> = {};

  const postForm = async (c: Client, page: string, action: string, data: Record<string, string | string[]> = {}) =>
    c.post(action).type('form').send({ _csrf: await csrfFrom(c, page), ...data });
  /** The ticket row and its history: what a refused action must leave as it was. */
  const snapshot = async (id: number) => ({
    ticket: await t.db('tickets').where({ id }).first(),
    events: await t.db('ticket_events').where({ ticket_id: id }).orderBy('id').pluck('id'),
    entries: await t.db('thread_entries').where({ ticket_id: id }).orderBy('id').pluck('id'),
    tasks: await t.db('ticket_tasks').where({ ticket_id: id }).pluck('id'),
  });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    sales = await buildDepartment(t.db, { name: 'Sales' });
    for (const name of ['All access', 'Expanded access', 'Limited access', 'View only']) role[name] = await roleIdOf(t.db, name);
    admin = await buildAdmin(t.db, { department_id: support, username: 'ada' });
    lim = await buildAgent(t.db, { department_id: support, username: 'lim', name: 'Lim', role_id: role['Limited access'] });
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
    limC = await loginAsAgent(t.app, lim.username, lim.password);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
    await t.db('agents').where({ id: lim.id }).update({ role_id: role['Limited access'] });
    await t.db('departments_agents').where({ agent_id: lim.id }).delete();
  });

  it('the migration installs osTicket’s four roles', async () => {
    const rows = await t.db('roles').orderBy('id').select('name', 'permissions', 'is_active');
    const perms = Object.fromEntries(rows.map((r: any) => [r.name, JSON.parse(r.permissions)]));
    expect(perms['All access']).toEqual(['ticket.create', 'ticket.edit', 'ticket.assign', 'ticket.transfer', 'ticket.merge', 'ticket.reply', 'ticket.close', 'ticket.delete', 'task.manage']);
    expect(perms['Expanded access']).toEqual(perms['All access'].filter((p: string) => p !== 'ticket.delete'));
    expect(perms['Limited access']).toEqual(['ticket.create', 'ticket.reply', 'ticket.close']);
    expect(perms['View only']).toEqual([]);
  });

  it('a “Limited access” agent is refused transfer, assign, claim, release, merge, edit, tasks and delete (403, nothing changed)', async () => {
    const ticket = await buildTicket(t.db, { department_id: support, assignee_agent_id: admin.id });
    const other = await buildTicket(t.db, { department_id: support });
    const before = await snapshot(ticket.id);
    const refused: [string, Record<string, string>][] = [
      ['transfer', { departmentId: String(sales) }],
      ['assign', { assignee: `agent:${lim.id}` }],
      ['release', {}],
      ['merge', { target: other.number }],
      ['priority', { priorityId: String((await t.db('priorities').where({ name: 'High' }).first()).id) }],
      ['edit', { subject: 'Renamed' }],
      ['task', { title: 'Call back' }],
      ['requester', { email: 'new@example.com' }],
    ];
    for (const [action, body] of refused) {
      const res = await ticketAction(limC, ticket.id, action, body);
      expect(res.status, action).toBe(403);
      expect($(res.text)('main').text(), action).toContain('Your role “Limited access” does not allow you to');
    }
    expect((await postForm(limC, '/scp/tickets', `/scp/tickets/${ticket.id}/delete`)).status).toBe(403);
    expect((await limC.get(`/scp/tickets/${ticket.id}/delete`)).status).toBe(403);
    // Claim: an unassigned ticket of their department.
    const unassigned = await buildTicket(t.db, { department_id: support });
    expect((await ticketAction(limC, unassigned.id, 'claim')).status).toBe(403);
    expect(await t.db('tickets').where({ id: unassigned.id }).first()).toMatchObject({ assignee_agent_id: null });
    expect(await snapshot(ticket.id)).toEqual(before);
    expect(await t.db('tickets').where({ id: other.id }).first()).toMatchObject({ merged_into_id: null, state: 'open' });
  });

  it('a “Limited access” agent replies, adds notes and closes; the page offers only that', async () => {
    const ticket = await buildTicket(t.db, { department_id: support });
    const page = $((await limC.get(`/scp/tickets/${ticket.id}`)).text);
    for (const action of ['reply', 'note', 'status', 'cc']) expect(page(`form[action^="/scp/tickets/${ticket.id}/${action}"]`).length, action).toBeGreaterThan(0);
    for (const action of ['assign', 'claim', 'transfer', 'merge', 'priority', 'sla', 'due', 'edit', 'requester', 'task']) expect(page(`form[action^="/scp/tickets/${ticket.id}/${action}"]`).length, action).toBe(0);
    expect(page(`a[href="/scp/tickets/${ticket.id}/delete"]`).length).toBe(0);
    expect((await ticketAction(limC, ticket.id, 'reply', { message: 'We are on it', notifyUser: 'none' })).status).toBe(303);
    expect((await ticketAction(limC, ticket.id, 'note', { note: 'Checked the logs' })).status).toBe(303);
    expect((await ticketAction(limC, ticket.id, 'status', { status: 'closed' })).status).toBe(303);
    expect(await t.db('tickets').where({ id: ticket.id }).first()).toMatchObject({ state: 'closed', is_answered: 1 });
    expect(await t.db('thread_entries').where({ ticket_id: ticket.id }).pluck('kind')).toEqual(['message', 'response', 'note']);
  });

  it('“View only”: reading and internal notes only; a note that would change the status, or a reply, is refused', async () => {
    await t.db('agents').where({ id: lim.id }).update({ role_id: role['View only'] });
    const ticket = await buildTicket(t.db, { department_id: support });
    const page = $((await limC.get(`/scp/tickets/${ticket.id}`)).text);
    expect(page(`form[action^="/scp/tickets/${ticket.id}/reply"]`).length).toBe(0);
    expect(page(`form[action^="/scp/tickets/${ticket.id}/note"] select[name=status]`).length).toBe(0);
    expect(page('.ticket-actions').text()).toContain('allows no changes to this ticket');
    const before = await snapshot(ticket.id);
    expect((await ticketAction(limC, ticket.id, 'reply', { message: 'Hi', notifyUser: 'none' })).status).toBe(403);
    expect((await ticketAction(limC, ticket.id, 'note', { note: 'Closing', status: 'closed' })).status).toBe(403);
    expect((await ticketAction(limC, ticket.id, 'status', { status: 'resolved' })).status).toBe(403);
    expect(await snapshot(ticket.id)).toEqual(before);
    expect((await ticketAction(limC, ticket.id, 'note', { note: 'Seen it' })).status).toBe(303);
  });

  it('a role for an extra department grants or limits there only', async () => {
    // Limited at home (Support), All access in Sales.
    await t.db('departments_agents').insert({ department_id: sales, agent_id: lim.id, role_id: role['All access'] });
    const inSales = await buildTicket(t.db, { department_id: sales });
    const inSupport = await buildTicket(t.db, { department_id: support });
    expect((await ticketAction(limC, inSales.id, 'claim')).status).toBe(303);
    expect(await t.db('tickets').where({ id: inSales.id }).first()).toMatchObject({ assignee_agent_id: lim.id });
    expect((await ticketAction(limC, inSupport.id, 'claim')).status).toBe(403);
    // Transfer: the department the ticket leaves decides (Sales allows it, Support does not).
    expect((await ticketAction(limC, inSupport.id, 'transfer', { departmentId: String(sales) })).status).toBe(403);
    expect((await ticketAction(limC, inSales.id, 'transfer', { departmentId: String(support) })).status).toBe(303);
    expect(await t.db('tickets').where({ id: inSales.id }).first()).toMatchObject({ department_id: support });

    // The other way round: All access at home, View only in Sales.
    await t.db('agents').where({ id: lim.id }).update({ role_id: role['All access'] });
    await t.db('departments_agents').where({ agent_id: lim.id }).update({ role_id: role['View only'] });
    const salesTicket = await buildTicket(t.db, { department_id: sales });
    expect((await ticketAction(limC, salesTicket.id, 'reply', { message: 'Hi', notifyUser: 'none' })).status).toBe(403);
    expect((await ticketAction(limC, inSupport.id, 'reply', { message: 'Hi', notifyUser: 'none' })).status).toBe(303);
    // Null on the extra department: the agent's own role.
    await t.db('departments_agents').where({ agent_id: lim.id }).update({ role_id: null });
    expect((await ticketAction(limC, salesTicket.id, 'reply', { message: 'Hi', notifyUser: 'none' })).status).toBe(303);
  });

  it('administrators have every permission whatever their role', async () => {
    await t.db('agents').where({ id: admin.id }).update({ role_id: role['View only'] });
    try {
      const ticket = await buildTicket(t.db, { department_id: support });
      expect((await ticketAction(adminC, ticket.id, 'assign', { assignee: `agent:${lim.id}` })).status).toBe(303);
      expect((await ticketAction(adminC, ticket.id, 'transfer', { departmentId: String(sales) })).status).toBe(303);
      expect((await postForm(adminC, `/scp/tickets/${ticket.id}/delete`, `/scp/tickets/${ticket.id}/delete`)).status).toBe(303);
      expect(await t.db('tickets').where({ id: ticket.id }).first()).toBeUndefined();
    } finally {
      await t.db('agents').where({ id: admin.id }).update({ role_id: role['All access'] });
    }
  });

  it('bulk: the tickets the role does not allow are skipped with the reason; nothing of theirs changes', async () => {
    await t.db('departments_agents').insert({ department_id: sales, agent_id: lim.id, role_id: role['Expanded access'] });
    const home = await buildTicket(t.db, { department_id: support });
    const away = await buildTicket(t.db, { department_id: sales });
    const before = await snapshot(home.id);
    const res = await postForm(limC, '/scp/tickets', '/scp/tickets/bulk', { ids: [String(home.id), String(away.id)], do: `assign:agent:${lim.id}`, back: '/scp/tickets' });
    expect(res.status).toBe(303);
    const page = $((await limC.get(res.headers.location)).text);
    expect(page('.flash').text()).toContain(`#${home.number} (Your role “Limited access” does not allow you to assign`);
    expect(await snapshot(home.id)).toEqual(before);
    expect(await t.db('tickets').where({ id: away.id }).first()).toMatchObject({ assignee_agent_id: lim.id });
  });

  it('New ticket: a role without “Open tickets” is told so on the form (422, input kept, nothing opened); its departments are not offered', async () => {
    await t.db('agents').where({ id: lim.id }).update({ role_id: role['View only'] });
    const form = $((await limC.get('/scp/tickets/new')).text);
    expect(form(`select[name=departmentId] option[value="${support}"]`).length).toBe(0);
    const count = await t.db('tickets').count({ n: '*' }).first();
    const res = await postForm(limC, '/scp/tickets/new', '/scp/tickets', { email: 'walkin@example.com', name: 'Walk In', subject: 'Printer', message: 'Jammed', source: 'phone', departmentId: String(support) });
    expect(res.status).toBe(422);
    expect($(res.text)('#f-subject').val()).toBe('Printer');
    expect($(res.text)('main').text()).toContain('does not allow you to open tickets');
    expect(await t.db('tickets').count({ n: '*' }).first()).toEqual(count);
    // Limited access opens tickets, but may not assign one while doing so.
    await t.db('agents').where({ id: lim.id }).update({ role_id: role['Limited access'] });
    const assigned = await postForm(limC, '/scp/tickets/new', '/scp/tickets', { email: 'walkin@example.com', name: 'Walk In', subject: 'Printer', message: 'Jammed', source: 'phone', departmentId: String(support), assigneeId: String(lim.id) });
    expect(assigned.status).toBe(422);
    expect(await t.db('tickets').count({ n: '*' }).first()).toEqual(count);
    expect((await postForm(limC, '/scp/tickets/new', '/scp/tickets', { email: 'walkin@example.com', name: 'Walk In', subject: 'Printer', message: 'Jammed', source: 'phone', departmentId: String(support) })).status).toBe(303);
  });

  it('assertMay: API keys and the system are not agents (their own flags apply); an agent without a role may nothing', async () => {
    await expect(assertMay(t.db, { kind: 'api', keyId: 1, canCreateTickets: false, canManageTickets: true }, 'ticket.delete', support)).resolves.toBeUndefined();
    await expect(assertMay(t.db, { kind: 'system' }, ['ticket.transfer', 'ticket.delete'], support)).resolves.toBeUndefined();
    await t.db('agents').where({ id: lim.id }).update({ role_id: null });
    const actor = (await loadAgentActor(t.db, lim.id))!;
    await expect(assertMay(t.db, actor, 'ticket.reply', support)).rejects.toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
  });

  describe('Admin → Roles', () => {
    it('creates a role (audited); a change applies on the agents’ next request', async () => {
      const res = await postForm(adminC, '/scp/admin/roles/new', '/scp/admin/roles', { name: 'Night shift', permissions: ['ticket.reply', 'ticket.assign'], notes: 'Weekends' });
      expect(res.status).toBe(303);
      const created = await t.db('roles').where({ name: 'Night shift' }).first();
      expect(JSON.parse(created.permissions)).toEqual(['ticket.assign', 'ticket.reply']);
      expect(await t.db('audit_log').where({ action: 'role.create', entity_id: created.id }).first()).toMatchObject({ agent_id: admin.id });
      await t.db('agents').where({ id: lim.id }).update({ role_id: created.id });
      const ticket = await buildTicket(t.db, { department_id: support });
      expect((await ticketAction(limC, ticket.id, 'claim')).status).toBe(303);
      // Take assign away: refused at once (the processes re-read the roles).
      expect((await postForm(adminC, `/scp/admin/roles/${created.id}`, `/scp/admin/roles/${created.id}`, { name: 'Night shift', permissions: 'ticket.reply' })).status).toBe(303);
      expect((await ticketAction(limC, ticket.id, 'release')).status).toBe(403);
      expect(await t.db('audit_log').where({ action: 'role.update', entity_id: created.id }).first()).toBeDefined();
      const list = $((await adminC.get('/scp/admin/roles')).text);
      expect(list('main').text()).toContain('Night shift');
    });

    it('refuses a role in use, naming who uses it; deletes an unused one; disables one', async () => {
      const used = await buildRole(t.db, ['ticket.reply'], { name: 'Used role' });
      await t.db('agents').where({ id: lim.id }).update({ role_id: used });
      const refused = await postForm(adminC, `/scp/admin/roles/${used}`, `/scp/admin/roles/${used}/delete`);
      expect(refused.status).toBe(409);
      expect($(refused.text)('#problem').text()).toContain('Lim');
      expect(await t.db('roles').where({ id: used }).first()).toBeDefined();
      // In use for an extra department only: also named.
      await t.db('agents').where({ id: lim.id }).update({ role_id: role['Limited access'] });
      await t.db('departments_agents').insert({ department_id: sales, agent_id: lim.id, role_id: used });
      expect($((await postForm(adminC, `/scp/admin/roles/${used}`, `/scp/admin/roles/${used}/delete`)).text)('#problem').text()).toContain('Lim (in Sales)');
      const unused = await buildRole(t.db, [], { name: 'Unused role' });
      expect((await postForm(adminC, `/scp/admin/roles/${unused}`, `/scp/admin/roles/${unused}/delete`)).status).toBe(303);
      expect(await t.db('roles').where({ id: unused }).first()).toBeUndefined();
      expect(await t.db('audit_log').where({ action: 'role.delete', entity_id: unused }).first()).toBeDefined();
      expect((await postForm(adminC, `/scp/admin/roles/${used}`, `/scp/admin/roles/${used}/disable`)).status).toBe(303);
      expect(await t.db('roles').where({ id: used }).first()).toMatchObject({ is_active: 0 });
      // Disabled: no longer offered to other agents; its agents keep it (and its permissions).
      const form = $((await adminC.get(`/scp/admin/agents/${admin.id}`)).text);
      expect(form(`select[name=roleId] option[value="${used}"]`).length).toBe(0);
      expect($((await adminC.get(`/scp/admin/agents/${lim.id}`)).text)(`select[name=roleId] option[value="${used}"]`).length).toBe(1);
    });

    it('the agent form: a new agent gets “Expanded access”; the role and a role per extra department are saved', async () => {
      const form = $((await adminC.get('/scp/admin/agents/new')).text);
      expect(form('select[name=roleId] option[selected]').text()).toBe('Expanded access');
      const res = await postForm(adminC, '/scp/admin/agents/new', '/scp/admin/agents', {
        name: 'Rita', username: 'rita', email: 'rita@agents.test', role: 'agent', roleId: String(role['Limited access']), departmentId: String(support),
        extraDepartmentIds: String(sales), [`deptRole_${sales}`]: String(role['All access']), [`deptRole_${support}`]: String(role['View only']), password: 'a long enough password 1',
      });
      expect(res.status).toBe(303);
      const rita = await t.db('agents').where({ username: 'rita' }).first();
      expect(rita.role_id).toBe(role['Limited access']);
      expect(await t.db('departments_agents').where({ agent_id: rita.id }).select('department_id', 'role_id')).toEqual([{ department_id: sales, role_id: role['All access'] }]);
      const actor = (await loadAgentActor(t.db, rita.id))!;
      expect(actor).toMatchObject({ roleId: role['Limited access'], departmentRoles: { [sales]: role['All access'] } });
      // The department form keeps her role there when it saves its members.
      const dept = $((await adminC.get(`/scp/admin/departments/${sales}`)).text);
      const members = dept('input[name=memberIds]:checked').map((_, i) => dept(i).val()).get() as string[];
      expect((await postForm(adminC, `/scp/admin/departments/${sales}`, `/scp/admin/departments/${sales}`, { name: 'Sales', isPublic: 'on', memberIds: members })).status).toBe(303);
      expect(await t.db('departments_agents').where({ agent_id: rita.id }).first()).toMatchObject({ role_id: role['All access'] });
      // Back to the agent's role in Sales.
      const edit = $((await adminC.get(`/scp/admin/agents/${rita.id}`)).text);
      expect(edit(`select[name=deptRole_${sales}] option[selected]`).val()).toBe(String(role['All access']));
      expect((await postForm(adminC, `/scp/admin/agents/${rita.id}`, `/scp/admin/agents/${rita.id}`, {
        name: 'Rita', username: 'rita', email: 'rita@agents.test', role: 'agent', roleId: String(role['Limited access']), departmentId: String(support), extraDepartmentIds: String(sales), [`deptRole_${sales}`]: '',
      })).status).toBe(303);
      expect(await t.db('departments_agents').where({ agent_id: rita.id }).first()).toMatchObject({ role_id: null });
      expect(await t.db('audit_log').where({ action: 'agent.update', entity_id: rita.id }).first()).toBeDefined();
    });
  });
});
