/**
 * Shared views: an agent shares a saved view with every agent; each sees it under "Shared views" with
 * its owner's name and opens it with their own visibility (never another department's tickets). Only
 * the owner or an admin renames, shares/unshares or deletes it (audited); the number shared is capped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, submit, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, type BuiltAgent } from '../factories/index.ts';
import { MAX_SHARED_QUEUES } from '../../src/domain/tickets/saved-queue-list.ts';
import { toDbDate } from '../../src/db/dialect.ts';

describe('shared views', () => {
  let t: TestApp;
  let john: BuiltAgent;
  let jane: BuiltAgent;
  let bill: BuiltAgent;
  let johnC: Client;
  let janeC: Client;
  let billC: Client;
  let adminC: Client;
  let high: number;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    const billing = await buildDepartment(t.db, { name: 'Billing' });
    john = await buildAgent(t.db, { department_id: support, username: 'john', name: 'John Doe' });
    jane = await buildAgent(t.db, { department_id: support, username: 'jane' });
    bill = await buildAgent(t.db, { department_id: billing, username: 'bill' });
    const admin = await buildAdmin(t.db, { username: 'boss' });
    [johnC, janeC, billC, adminC] = await Promise.all([john, jane, bill, admin].map((a) => loginAsAgent(t.app, a.username, a.password)));
    high = (await t.db('priorities').where({ name: 'High' }).first()).id;
    await buildTicket(t.db, { department_id: support, subject: 'Printer on fire', priority_id: high });
    await buildTicket(t.db, { department_id: support, subject: 'VPN drops' });
    await buildTicket(t.db, { department_id: billing, subject: 'Invoice twice', priority_id: high });
  });
  afterAll(async () => t.close());

  const sharedIn = (html: string) => {
    const page = $(html);
    return page('nav.shared-views a').map((_, a) => page(a).text().replace(/\s+/g, ' ').trim()).get();
  };
  const subjects = (html: string) => {
    const page = $(html);
    return page('tr[data-ticket] td[data-label="Subject"] > a').map((_, a) => page(a).text().trim()).get().sort();
  };
  const open = async (c: Client, viewId: number) => {
    const res = await c.get(`/scp/queues/${viewId}`);
    expect(res.status).toBe(303);
    return (await c.get(res.headers.location)).text;
  };
  const viewOf = (name: string) => t.db('saved_queues').where({ name }).first();
  const audits = (viewId: number) => t.db('audit_log').where({ entity: 'saved_queue', entity_id: viewId }).orderBy('id').select('action', 'agent_id', 'before', 'after');

  it('shares a view when saved with the box ticked: listed for every other agent with its owner, audited', async () => {
    const res = await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'Hot ones', shared: 'on', queue: 'open', priority: String(high) });
    expect(res.status).toBe(303);
    const view = await viewOf('Hot ones');
    expect(view).toMatchObject({ agent_id: john.id });
    expect(Boolean(view.is_shared)).toBe(true);
    for (const c of [janeC, billC, adminC]) expect(sharedIn((await c.get('/scp/tickets')).text)).toEqual(['Hot ones · John Doe']);
    // The owner has it among their own views, marked shared, and not twice.
    const mine = $((await johnC.get('/scp/tickets')).text);
    expect(mine(`nav.queues a[data-view="${view.id}"]`).text()).toContain('shared with every agent');
    expect(mine('nav.shared-views').length).toBe(0);
    const [created] = await audits(view.id);
    expect(created).toMatchObject({ action: 'saved_queue.create', agent_id: john.id });
    expect(JSON.parse(created.after)).toMatchObject({ name: 'Hot ones', shared: true, params: { queue: 'open', priority: String(high) } });
  });

  it('opens with each agent\'s own visibility: never another department\'s tickets', async () => {
    const view = await viewOf('Hot ones');
    expect(subjects(await open(johnC, view.id))).toEqual(['Printer on fire']);
    expect(subjects(await open(billC, view.id))).toEqual(['Invoice twice']);
    expect(subjects(await open(adminC, view.id))).toEqual(['Invoice twice', 'Printer on fire']);
    const page = $(await open(billC, view.id));
    expect(page('h1').text()).toBe('Hot ones');
    expect(page(`nav.shared-views a[data-shared-view="${view.id}"]`).attr('aria-current')).toBe('page');
    expect(page('.view-owner').text()).toContain('Shared by John Doe');
    // Another agent may not change it: no rename form or delete link for them.
    expect(page('details.edit-view').length).toBe(0);
    expect(page(`a[href="/scp/queues/${view.id}/delete"]`).length).toBe(0);
  });

  it('refuses another agent who is not an admin: no rename, unshare or delete (403), nothing changes', async () => {
    const view = await viewOf('Hot ones');
    expect((await submit(janeC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Mine now', shared: '' })).status).toBe(403);
    expect((await janeC.get(`/scp/queues/${view.id}/delete`)).status).toBe(403);
    expect((await submit(janeC, '/scp/tickets', `/scp/queues/${view.id}/delete`, { confirm: 'yes' })).status).toBe(403);
    expect(await viewOf('Hot ones')).toEqual(view);
    expect(await audits(view.id)).toHaveLength(1);
  });

  it('lets the owner rename and unshare it: it leaves the others\' lists and is theirs alone again', async () => {
    const view = await viewOf('Hot ones');
    const res = await submit(johnC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Hot ones (mine)' });
    expect(res.headers.location).toBe(`/scp/queues/${view.id}`);
    expect(await t.db('saved_queues').where({ id: view.id }).first()).toMatchObject({ name: 'Hot ones (mine)' });
    expect(sharedIn((await janeC.get('/scp/tickets')).text)).toEqual([]);
    expect((await janeC.get(`/scp/queues/${view.id}`)).status).toBe(404);
    // An admin does not reach another agent's personal view either.
    expect((await adminC.get(`/scp/queues/${view.id}`)).status).toBe(404);
    expect((await submit(adminC, '/scp/tickets', `/scp/queues/${view.id}/delete`, { confirm: 'yes' })).status).toBe(404);
    const last = (await audits(view.id)).at(-1);
    expect(last).toMatchObject({ action: 'saved_queue.unshare', agent_id: john.id });
    expect(JSON.parse(last.before)).toMatchObject({ name: 'Hot ones', shared: true });
    expect(JSON.parse(last.after)).toMatchObject({ name: 'Hot ones (mine)', shared: false });
    // A private view's own changes are its owner's business: not audited.
    await submit(johnC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Hot ones again' });
    expect((await audits(view.id)).at(-1).action).toBe('saved_queue.unshare');
    // Shared again from the same form.
    await submit(johnC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Hot ones', shared: 'on' });
    expect((await audits(view.id)).at(-1).action).toBe('saved_queue.share');
    expect(sharedIn((await janeC.get('/scp/tickets')).text)).toEqual(['Hot ones · John Doe']);
  });

  it('lets an admin rename it (the name unique among the owner\'s views) and delete it after confirming, audited as theirs', async () => {
    const view = await viewOf('Hot ones');
    await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'Taken', queue: 'closed' });
    const clash = await submit(adminC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Taken', shared: 'on' });
    expect(clash.headers.location).toBe(`/scp/queues/${view.id}?viewRename=Taken`);
    const again = $((await adminC.get((await adminC.get(clash.headers.location)).headers.location)).text);
    expect(again('.flash').text()).toContain('has a view with this name already');
    expect(again('#v-rename').val()).toBe('Taken');
    expect(again('details.edit-view').attr('open')).toBeDefined();
    await submit(adminC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Hot tickets', shared: 'on' });
    expect(await t.db('saved_queues').where({ id: view.id }).first()).toMatchObject({ name: 'Hot tickets', agent_id: john.id });
    const ask = $((await adminC.get(`/scp/queues/${view.id}/delete`)).text);
    expect(ask('form.card p').text()).toContain('of John Doe');
    expect((await submit(adminC, '/scp/tickets', `/scp/queues/${view.id}/delete`, {})).status).toBe(422);
    expect((await submit(adminC, '/scp/tickets', `/scp/queues/${view.id}/delete`, { confirm: 'yes' })).headers.location).toBe('/scp/tickets');
    expect(await t.db('saved_queues').where({ id: view.id }).first()).toBeUndefined();
    const trail = await audits(view.id);
    const admin = await t.db('agents').where({ username: 'boss' }).first('id');
    expect(trail.slice(-2).map((a) => [a.action, a.agent_id])).toEqual([['saved_queue.update', admin.id], ['saved_queue.delete', admin.id]]);
    expect(JSON.parse(trail.at(-1).before)).toMatchObject({ name: 'Hot tickets', ownerId: john.id, shared: true });
  });

  it('keeps a disabled owner\'s shared views, marked, for an admin to delete', async () => {
    await submit(janeC, '/scp/tickets', '/scp/queues', { name: 'Jane shares', shared: 'on', queue: 'open' });
    await t.db('agents').where({ id: jane.id }).update({ is_active: false });
    expect(sharedIn((await billC.get('/scp/tickets')).text)).toContain(`Jane shares · Agent jane (disabled)`);
    const view = await viewOf('Jane shares');
    expect((await submit(adminC, '/scp/tickets', `/scp/queues/${view.id}/delete`, { confirm: 'yes' })).status).toBe(303);
    await t.db('agents').where({ id: jane.id }).update({ is_active: true });
  });

  it(`shares at most ${MAX_SHARED_QUEUES} views: one more is refused with the name and the tick kept`, async () => {
    const now = toDbDate(new Date());
    const others = await t.db('saved_queues').where('is_shared', true).count({ n: '*' }).first();
    const fill = MAX_SHARED_QUEUES - Number(others?.n);
    await t.db('saved_queues').insert(Array.from({ length: fill }, (_, i) => ({ agent_id: bill.id, name: `Bill ${String(i).padStart(2, '0')}`, params: '{"queue":"open"}', is_shared: true, created_at: now })));
    expect(sharedIn((await johnC.get('/scp/tickets')).text)).toHaveLength(MAX_SHARED_QUEUES);
    const res = await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'One too many', shared: 'on', queue: 'open' });
    const page = $((await johnC.get(res.headers.location)).text);
    expect(page('.flash').text()).toContain(`shares ${MAX_SHARED_QUEUES} views already`);
    expect(page('#v-name').val()).toBe('One too many');
    expect(page('#v-shared').attr('checked')).toBeDefined();
    expect(await viewOf('One too many')).toBeUndefined();
    // Kept for themselves it is saved.
    await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'One too many', queue: 'open' });
    expect(Boolean((await viewOf('One too many')).is_shared)).toBe(false);
  });
});
