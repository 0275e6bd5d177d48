/**
 * The user directory (/scp/users), bans (a user's, the ban list's) and organizations: agents find
 * users and their tickets, correct them (their tickets follow a new name), ban and unban them; admins
 * keep organizations (domains that claim new users, CCs and an account manager on members' tickets)
 * and the ban list. Every change is audited.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, loginAsAgent, submit, ticketAction, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, buildUser, unique } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { multipartAction, openViaStatus, postMultipart } from './portal-support.ts';

describe('users, bans and organizations', () => {
  let t: TestApp;
  let support: number;
  let billing: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  let janeC: Client;
  let adminC: Client;
  let apiKey: string;
  let topicId: number;
  const audit = (action: string, entityId?: number) => t.db('audit_log').where({ action, ...(entityId ? { entity_id: entityId } : {}) }).orderBy('id', 'desc').first();
  const portalOpen = async (email: string, subject = 'Cannot print') => {
    const c = client(t.app);
    const action = await multipartAction(c, '/tickets/new');
    return { c, res: await postMultipart(c, action, { email, name: 'Portal Person', subject, message: 'Help please', topicId: String(topicId) }) };
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    billing = await buildDepartment(t.db, { name: 'Billing' });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    const jane = await buildAgent(t.db, { department_id: billing, name: 'Jane', username: 'jane' });
    const admin = await buildAdmin(t.db, { username: 'root' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
    janeC = await loginAsAgent(t.app, jane.username, jane.password);
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
    topicId = (await t.db('help_topics').where({ is_public: true, is_active: true }).first('id')).id;
    apiKey = (await createApiKey(t.ctx(), { allowedIp: '*', canCreateTickets: true, canManageTickets: true })).key;
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  describe('the directory', () => {
    it('lists users by name with their organization and ticket counts; searches name or email by prefix; says when nothing matches', async () => {
      const zoe = await buildUser(t.db, { name: 'Zoë Directory', email: 'zoe.dir@example.com' });
      await buildTicket(t.db, { user_id: zoe.id, department_id: support });
      await buildTicket(t.db, { user_id: zoe.id, department_id: support, status: 'closed' });
      const page = $((await johnC.get('/scp/users?q=zoë')).text);
      const row = page(`tr[data-user="${zoe.id}"]`);
      expect(row.find('td[data-label="Email"]').text()).toBe('zoe.dir@example.com');
      expect(row.find('td[data-label="Open tickets"]').text()).toBe('1');
      expect(row.find('td[data-label="All tickets"]').text()).toBe('2');
      expect(page('tr[data-user]').length).toBe(1);
      // By email prefix, case ignored; a LIKE wildcard is taken literally.
      expect($((await johnC.get('/scp/users?q=ZOE.DIR@')).text)(`tr[data-user="${zoe.id}"]`).length).toBe(1);
      const none = $((await johnC.get('/scp/users?q=%25')).text);
      expect(none('tr[data-user]').length).toBe(0);
      expect(none('.empty').text()).toContain('No user’s name or email starts with “%”');
    });

    it('pages 50 users at a time and sorts by email or newest', async () => {
      for (let i = 0; i < 52; i++) await buildUser(t.db, { name: `Paged ${String(i).padStart(2, '0')}`, email: `paged${String(i).padStart(2, '0')}@paged.test` });
      const first = $((await johnC.get('/scp/users?q=paged')).text);
      expect(first('tr[data-user]').length).toBe(50);
      expect(first('.pagination').text()).toContain('Page 1 of 2');
      const second = $((await johnC.get(String(first('.pagination a[rel=next]').attr('href')))).text);
      expect(second('tr[data-user] td[data-label="Name"] a').map((_, a) => second(a).text()).get()).toEqual(['Paged 50', 'Paged 51']);
      const byEmail = $((await johnC.get('/scp/users?q=paged&sort=email')).text);
      expect(byEmail('tr[data-user] td[data-label="Email"]').first().text()).toBe('paged00@paged.test');
      expect(byEmail('#u-sort option[selected]').attr('value')).toBe('email');
    });

    it('a user page lists the tickets the agent may see, as requester or CC, and links from the ticket page', async () => {
      const pat = await buildUser(t.db, { name: 'Pat Page' });
      const mine = await buildTicket(t.db, { user_id: pat.id, department_id: support, subject: 'Support ticket of Pat' });
      const billingTicket = await buildTicket(t.db, { user_id: pat.id, department_id: billing, subject: 'Billing ticket of Pat' });
      const copied = await buildTicket(t.db, { department_id: support, subject: 'Someone else’s, Pat copied' });
      await t.db('ticket_collaborators').insert({ ticket_id: copied.id, user_id: pat.id, created_at: new Date() });
      const page = $((await johnC.get(`/scp/users/${pat.id}`)).text);
      expect(page('tr[data-ticket]').map((_, r) => page(r).attr('data-ticket')).get().sort()).toEqual([copied.number, mine.number].sort());
      expect(page(`tr[data-ticket="${copied.number}"]`).text()).toContain('(copied)');
      expect(page.text()).not.toContain('Billing ticket of Pat');
      // Jane (Billing) sees only the Billing one.
      const janes = $((await janeC.get(`/scp/users/${pat.id}`)).text);
      expect(janes('tr[data-ticket]').map((_, r) => janes(r).attr('data-ticket')).get()).toEqual([billingTicket.number]);
      // The ticket page's requester links here.
      const ticketPage = $((await johnC.get(`/scp/tickets/${mine.id}`)).text);
      expect(ticketPage('[data-prop="requester"] a').first().attr('href')).toBe(`/scp/users/${pat.id}`);
      // An unknown user is a 404 page; a user page is not for the portal.
      expect((await johnC.get('/scp/users/99999999')).status).toBe(404);
      expect((await request(t.app).get(`/scp/users/${pat.id}`)).headers.location).toMatch(/^\/scp\/login\b/);
    });
  });

  describe('editing a user', () => {
    it('saves name, phone, notes and organization; the tickets and the queue search follow a new name; audited', async () => {
      const u = await buildUser(t.db, { name: 'Old Name', email: 'rename.me@example.com' });
      const tk = await buildTicket(t.db, { user_id: u.id, department_id: support, subject: 'Printer jam' });
      const [orgId] = await t.db('organizations').insert({ name: 'Acme Renames', auto_cc: 'none', is_active: true, created_at: new Date(), updated_at: new Date() });
      const res = await submit(johnC, `/scp/users/${u.id}`, `/scp/users/${u.id}`, {
        name: 'Brand New', email: 'rename.me@example.com', phone: '555-0101', notes: 'VIP', organizationId: String(orgId), isPrimaryContact: 'on',
      });
      expect([res.status, res.headers.location]).toEqual([303, `/scp/users/${u.id}`]);
      const row = await t.db('users').where({ id: u.id }).first();
      expect([row.name, row.phone, row.notes, row.organization_id, Boolean(row.is_primary_contact)]).toEqual(['Brand New', '555-0101', 'VIP', orgId, true]);
      const ticket = await t.db('tickets').where({ id: tk.id }).first();
      expect(ticket.requester_name).toBe('Brand New');
      expect(ticket.search_text).toContain(' brand new');
      expect(ticket.search_text).not.toContain('old');
      const queue = $((await johnC.get('/scp/tickets?queue=open&q=brand')).text);
      expect(queue.text()).toContain('Printer jam');
      const a = await audit('user.update', u.id);
      expect(JSON.parse(a.before)).toMatchObject({ name: 'Old Name', phone: null });
      expect(JSON.parse(a.after)).toMatchObject({ name: 'Brand New', phone: '555-0101', organizationId: orgId, isPrimaryContact: true });
      // The ticket page shows the organization.
      expect($((await johnC.get(`/scp/tickets/${tk.id}`)).text)('[data-prop="requester"]').text()).toContain('Acme Renames');
    });

    it('refuses another user’s or an agent’s email, and a primary contact without an organization, keeping the input (422, nothing saved)', async () => {
      const u = await buildUser(t.db, { name: 'Keep Me', email: 'keep.me@example.com' });
      await buildUser(t.db, { email: 'taken@example.com' });
      const res = await submit(johnC, `/scp/users/${u.id}`, `/scp/users/${u.id}`, { name: 'Typed Name', email: 'TAKEN@example.com', isPrimaryContact: 'on' });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('#e-email').text()).toContain('Another user has this email address');
      expect(page('#e-isPrimaryContact').text()).toContain('belongs to an organization');
      expect(page('#f-name').val()).toBe('Typed Name');
      expect(page('#f-email').val()).toBe('TAKEN@example.com');
      const agentEmail = await submit(johnC, `/scp/users/${u.id}`, `/scp/users/${u.id}`, { name: 'Keep Me', email: john.email });
      expect($(agentEmail.text)('#e-email').text()).toContain('agent’s address');
      const bad = await submit(johnC, `/scp/users/${u.id}`, `/scp/users/${u.id}`, { name: '', email: 'not-an-address' });
      expect(bad.status).toBe(422);
      expect((await t.db('users').where({ id: u.id }).first()).name).toBe('Keep Me');
    });
  });

  describe('bans', () => {
    it('a banned user can open no ticket and write no message (portal: inline, input kept); lifting the ban lets them again; both audited', async () => {
      const email = `${unique('ban')}@example.com`.toLowerCase();
      const opened = await openTicket(t.ctx(ANONYMOUS), { email, name: 'Soon Banned', subject: 'First', message: 'Hello' });
      const portal = client(t.app);
      await openViaStatus(portal, email, opened.number);
      const ban = await submit(johnC, `/scp/users/${opened.userId}`, `/scp/users/${opened.userId}/ban`, {});
      expect([ban.status, ban.headers.location]).toEqual([303, `/scp/users/${opened.userId}`]);
      expect($((await johnC.get(`/scp/users/${opened.userId}`)).text)('h1 .badge').text()).toBe('Banned');
      expect(await audit('user.ban', opened.userId)).toBeTruthy();
      // A new ticket by the portal is refused, on the form, with the text kept.
      const { res } = await portalOpen(email, 'Typed subject');
      expect(res.status).toBe(403);
      expect($(res.text)('#f-subject').val()).toBe('Typed subject');
      expect($(res.text).text()).toContain('Tickets from this address are not accepted');
      // A reply on the portal: an inline message, the text kept.
      const action = await multipartAction(portal, `/tickets/${opened.number}`);
      const reply = await postMultipart(portal, action, { message: 'Let me back in' });
      expect(reply.status).toBe(403);
      expect($(reply.text)('textarea[name=message]').val()).toBe('Let me back in');
      expect($(reply.text).text()).toContain('Messages from this address are not accepted');
      expect(await t.db('thread_entries').where({ ticket_id: opened.id }).count({ n: '*' }).first()).toMatchObject({ n: 1 });
      // Lifted.
      await submit(johnC, `/scp/users/${opened.userId}`, `/scp/users/${opened.userId}/unban`, {});
      expect(await audit('user.unban', opened.userId)).toBeTruthy();
      const again = await postMultipart(portal, await multipartAction(portal, `/tickets/${opened.number}`), { message: 'Thanks' });
      expect(again.status).toBe(303);
    });

    it('the ban list (admins): a domain refuses every address of it (portal, API); bad or duplicate patterns are refused with the input kept; deleting lifts it', async () => {
      const res = await submit(adminC, '/scp/admin/bans/new', '/scp/admin/bans', { pattern: ' @Spam.Example ', note: 'spam wave' });
      expect(res.status).toBe(303);
      const row = await t.db('bans').where({ pattern: '@spam.example' }).first();
      expect(row.note).toBe('spam wave');
      expect(await audit('ban.create', row.id)).toBeTruthy();
      expect((await portalOpen('anyone@spam.example')).res.status).toBe(403);
      const api = await request(t.app).post('/api/v1/tickets').set('X-API-Key', apiKey).send({ name: 'S', email: 'bot@spam.example', subject: 'Buy', message: 'Now' });
      expect(api.status).toBe(403);
      // Bad, and already there.
      const bad = await submit(adminC, '/scp/admin/bans/new', '/scp/admin/bans', { pattern: 'spam', note: 'typed note' });
      expect(bad.status).toBe(422);
      expect($(bad.text)('#f-note').val()).toBe('typed note');
      expect($(bad.text)('#e-pattern').text()).toContain('Enter an email address');
      const dup = await submit(adminC, '/scp/admin/bans/new', '/scp/admin/bans', { pattern: '@SPAM.example' });
      expect(dup.status).toBe(409);
      expect(dup.text).toContain('on the ban list already');
      // Listed and searchable; agents may not see it.
      expect($((await adminC.get('/scp/admin/bans?q=spam')).text)('table').text()).toContain('@spam.example');
      expect((await johnC.get('/scp/admin/bans')).status).toBe(403);
      // Deleted: the domain may write again.
      const del = await submit(adminC, `/scp/admin/bans/${row.id}`, `/scp/admin/bans/${row.id}/delete`, {});
      expect(del.headers.location).toBe('/scp/admin/bans');
      expect(await audit('ban.delete', row.id)).toBeTruthy();
      expect((await portalOpen('anyone@spam.example')).res.status).toBe(303);
    });
  });

  describe('organizations', () => {
    it('admins create one with domains: a new address of a domain joins it; a known user keeps theirs; a domain belongs to one organization', async () => {
      const known = await buildUser(t.db, { email: 'known@globex.example' });
      const res = await submit(adminC, '/scp/admin/organizations/new', '/scp/admin/organizations', { name: 'Globex', domains: 'globex.example\n@Globex.co.uk, globex.example', autoCc: 'none' });
      expect(res.status).toBe(303);
      const org = await t.db('organizations').where({ name: 'Globex' }).first();
      expect((await t.db('organization_domains').where({ organization_id: org.id }).orderBy('domain').pluck('domain'))).toEqual(['globex.co.uk', 'globex.example']);
      expect(await audit('organization.create', org.id)).toBeTruthy();
      // A first-time requester by the portal, and by the API, join; the known user does not move.
      await portalOpen('new.person@globex.example');
      await request(t.app).post('/api/v1/tickets').set('X-API-Key', apiKey).send({ name: 'API', email: 'api.person@GLOBEX.CO.UK', subject: 'Hi', message: 'Hello' });
      await openTicket(t.ctx(ANONYMOUS), { email: known.email, name: 'Known', subject: 'Still mine', message: 'x' });
      const members = await t.db('users').where({ organization_id: org.id }).orderBy('email').pluck('email');
      expect(members).toEqual(['api.person@globex.co.uk', 'new.person@globex.example']);
      // The admin list finds it by name or by the start of a domain, with its member count.
      for (const q of ['glob', 'globex.co']) {
        const list = $((await adminC.get(`/scp/admin/organizations?q=${q}`)).text);
        expect(list('table tbody tr').map((_, tr) => list(tr).find('td').first().text().trim()).get(), q).toEqual(['Globex']);
        expect(list('table tbody tr td[data-label="Members"]').text(), q).toBe('2');
      }
      expect($((await adminC.get('/scp/admin/organizations?q=initech')).text)('table tbody tr').length).toBe(0);
      // Listed in the directory filter.
      const dir = $((await johnC.get(`/scp/users?org=${org.id}`)).text);
      expect(dir('h1').text()).toBe('Users of Globex');
      expect(dir('tr[data-user]').length).toBe(2);
      // Another organization may not claim the domain; the input is kept.
      const taken = await submit(adminC, '/scp/admin/organizations/new', '/scp/admin/organizations', { name: 'Globex Rival', domains: 'globex.example', notes: 'kept' });
      expect(taken.status).toBe(422);
      expect($(taken.text)('#e-domains').text()).toContain('globex.example belongs to Globex');
      expect($(taken.text)('#f-notes').text()).toBe('kept');
      const badDomain = await submit(adminC, '/scp/admin/organizations/new', '/scp/admin/organizations', { name: 'Bad', domains: 'not a domain!' });
      expect($(badDomain.text)('#e-domains').text()).toContain('is not a domain');
      // An address first met as a CC joins too (the organization is read in the user's INSERT).
      const other = await openTicket(t.ctx(ANONYMOUS), { email: 'outsider@example.org', name: 'Outsider', subject: 'Copy Globex in', message: 'x' });
      expect((await ticketAction(johnC, other.id, 'cc', { email: 'cc.person@globex.example' })).status).toBe(303);
      expect((await t.db('users').where({ email: 'cc.person@globex.example' }).first()).organization_id).toBe(org.id);
      expect((await t.db('users').where({ email: 'outsider@example.org' }).first()).organization_id).toBeNull();
      // A disabled organization claims no one.
      await submit(adminC, `/scp/admin/organizations/${org.id}`, `/scp/admin/organizations/${org.id}/disable`, {});
      await openTicket(t.ctx(ANONYMOUS), { email: 'late@globex.example', name: 'Late', subject: 'x', message: 'x' });
      expect((await t.db('users').where({ email: 'late@globex.example' }).first()).organization_id).toBeNull();
    });

    it('copies its primary contacts (or all members) on a member’s new ticket and gives it to the account manager', async () => {
      const [orgId] = await t.db('organizations').insert({ name: 'Initech', auto_cc: 'primary', manager_agent_id: john.id, is_active: true, created_at: new Date(), updated_at: new Date() });
      await t.db('organization_domains').insert({ domain: 'initech.example', organization_id: orgId });
      await buildUser(t.db, { email: 'boss@initech.example', name: 'Bill Boss', organization_id: orgId, is_primary_contact: true });
      await buildUser(t.db, { email: 'peer@initech.example', name: 'Peer', organization_id: orgId });
      const o = await openTicket(t.ctx(ANONYMOUS), { email: 'milton@initech.example', name: 'Milton', subject: 'My stapler', message: 'Where is it?' });
      const ccs = await t.db('ticket_collaborators as tc').join('users as u', 'u.id', 'tc.user_id').where('tc.ticket_id', o.id).pluck('u.email');
      expect(ccs).toEqual(['boss@initech.example']);
      const ticket = await t.db('tickets').where({ id: o.id }).first();
      expect(ticket.assignee_agent_id).toBe(john.id);
      const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      expect(page('.events').text()).toContain('CC added from the requester’s organization: Bill Boss <boss@initech.example>');
      expect(page('.events').text()).toContain('as the account manager of the requester’s organization');
      // The manager mail went out (assigned alert) — the usual one for an assignment.
      expect(await t.db('outbox').where({ ticket_id: o.id, template: 'assigned-alert' }).first()).toBeTruthy();
      // All members; and a manager outside the ticket's department is not given it.
      await t.db('organizations').where({ id: orgId }).update({ auto_cc: 'all', manager_agent_id: (await buildAgent(t.db, { department_id: billing })).id });
      const o2 = await openTicket(t.ctx(ANONYMOUS), { email: 'milton@initech.example', name: 'Milton', subject: 'Again', message: 'x' });
      expect((await t.db('ticket_collaborators as tc').join('users as u', 'u.id', 'tc.user_id').where('tc.ticket_id', o2.id).orderBy('u.email').pluck('u.email'))).toEqual(['boss@initech.example', 'peer@initech.example']);
      expect((await t.db('tickets').where({ id: o2.id }).first()).assignee_agent_id).toBeNull();
      // An explicit assignee wins over the manager.
      await t.db('organizations').where({ id: orgId }).update({ auto_cc: 'none', manager_agent_id: john.id });
      const jack = await buildAgent(t.db, { department_id: support });
      const o3 = await openTicket(t.ctx(john.actor), { email: 'milton@initech.example', name: 'Milton', subject: 'By phone', message: 'x', source: 'phone', assigneeId: jack.id });
      expect((await t.db('tickets').where({ id: o3.id }).first()).assignee_agent_id).toBe(jack.id);
      expect(await t.db('ticket_collaborators').where({ ticket_id: o3.id }).first()).toBeUndefined();
    });

    it('its page shows agents its settings, members and the members’ tickets they may see', async () => {
      const [orgId] = await t.db('organizations').insert({ name: 'Umbrella', auto_cc: 'primary', portal_share: 'all', manager_agent_id: john.id, notes: 'Key account', is_active: true, created_at: new Date(), updated_at: new Date() });
      await t.db('organization_domains').insert({ domain: 'umbrella.example', organization_id: orgId });
      const alice = await buildUser(t.db, { name: 'Alice Umbrella', organization_id: orgId, is_primary_contact: true });
      const bob = await buildUser(t.db, { name: 'Bob Umbrella', organization_id: orgId });
      const supportTicket = await buildTicket(t.db, { user_id: bob.id, department_id: support, subject: 'Umbrella support' });
      const billingTicket = await buildTicket(t.db, { user_id: alice.id, department_id: billing, subject: 'Umbrella billing' });
      await buildTicket(t.db, { department_id: support, subject: 'Not theirs' });
      const page = $((await johnC.get(`/scp/orgs/${orgId}`)).text);
      expect(page('h1').text()).toBe('Umbrella');
      expect(page('.props').text()).toContain('umbrella.example');
      expect(page('.props').text()).toContain('Every member sees all its tickets');
      expect(page('.props').text()).toContain('Key account');
      expect(page('.org-members li').map((_, li) => page(li).find('a').text()).get()).toEqual(['Alice Umbrella', 'Bob Umbrella']);
      expect(page('tr[data-ticket]').map((_, tr) => page(tr).attr('data-ticket')).get()).toEqual([supportTicket.number]);
      const janes = $((await janeC.get(`/scp/orgs/${orgId}`)).text);
      expect(janes('tr[data-ticket]').map((_, tr) => janes(tr).attr('data-ticket')).get()).toEqual([billingTicket.number]);
      // The user page and the ticket page lead here.
      expect($((await johnC.get(`/scp/users/${bob.id}`)).text)(`a[href="/scp/orgs/${orgId}"]`).length).toBe(1);
      expect($((await johnC.get(`/scp/tickets/${supportTicket.id}`)).text)(`[data-prop="requester"] a[href="/scp/orgs/${orgId}"]`).length).toBe(1);
      expect((await johnC.get('/scp/orgs/99999999')).status).toBe(404);
    });

    it('deleting one leaves its members in no organization; an agent whose organization needs them cannot be deleted', async () => {
      const [orgId] = await t.db('organizations').insert({ name: 'Doomed', auto_cc: 'none', is_active: true, created_at: new Date(), updated_at: new Date() });
      const m = await buildUser(t.db, { organization_id: orgId, is_primary_contact: true });
      const del = await submit(adminC, `/scp/admin/organizations/${orgId}`, `/scp/admin/organizations/${orgId}/delete`, {});
      expect(del.headers.location).toBe('/scp/admin/organizations');
      const after = await t.db('users').where({ id: m.id }).first();
      expect([after.organization_id, Boolean(after.is_primary_contact)]).toEqual([null, false]);
      expect(await audit('organization.delete', orgId)).toBeTruthy();
      const manager = await buildAgent(t.db, { department_id: support });
      await t.db('organizations').insert({ name: 'Managed', auto_cc: 'none', manager_agent_id: manager.id, is_active: true, created_at: new Date(), updated_at: new Date() });
      const refused = await submit(adminC, `/scp/admin/agents/${manager.id}`, `/scp/admin/agents/${manager.id}/delete`, {});
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('1 organization');
    });
  });
});
