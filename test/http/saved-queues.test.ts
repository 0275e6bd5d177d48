/**
 * Saved views: an agent keeps a queue with its filters, search and order under a name; it is listed
 * beside the queues for them only, opens as that queue, is replaced by a save of the same name, and
 * deleted by them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, loginAsAgent, submit, type Client } from '../support/http.ts';
import { buildAgent, buildTicket } from '../factories/index.ts';
import { MAX_SAVED_QUEUES } from '../../src/domain/tickets/saved-queues.ts';

describe('saved views', () => {
  let t: TestApp;
  let johnC: Client;
  let janeC: Client;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let high: number;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    john = await buildAgent(t.db, { department_id: support, username: 'john' });
    const jane = await buildAgent(t.db, { department_id: support, username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
    janeC = await loginAsAgent(t.app, jane.username, jane.password);
    high = (await t.db('priorities').where({ name: 'High' }).first()).id;
    await buildTicket(t.db, { department_id: support, subject: 'Printer on fire', priority_id: high });
    await buildTicket(t.db, { department_id: support, subject: 'Printer low on toner' });
    await buildTicket(t.db, { department_id: support, subject: 'VPN drops', priority_id: high });
  });
  afterAll(async () => t.close());

  const viewsIn = (html: string) => {
    const page = $(html);
    return page('nav.queues a.saved-view').map((_, a) => page(a).text().trim()).get();
  };

  it('saves the queue with its filters and search; the view opens as that queue, listed and marked current', async () => {
    const res = await submit(johnC, `/scp/tickets?priority=${high}&q=printer`, '/scp/queues', { name: 'Hot printers', queue: 'open', priority: String(high), q: 'printer', sort: 'subject', dir: 'asc' });
    expect(res.status).toBe(303);
    const view = await t.db('saved_queues').where({ agent_id: john.id }).first();
    expect(res.headers.location).toBe(`/scp/queues/${view.id}`);
    expect(JSON.parse(view.params)).toEqual({ queue: 'open', priority: String(high), q: 'printer', sort: 'subject', dir: 'asc' });
    const open = await johnC.get(`/scp/queues/${view.id}`);
    expect(open.status).toBe(303);
    const page = $((await johnC.get(open.headers.location)).text);
    expect(page('h1').text()).toBe('Hot printers');
    expect(page('tr[data-ticket] td[data-label="Subject"]').map((_, td) => page(td).text().trim()).get()).toEqual(['Printer on fire']);
    expect(page(`nav.queues a[data-view="${view.id}"]`).attr('aria-current')).toBe('page');
    expect(page('nav.queues a[data-queue="open"]').attr('aria-current')).toBeUndefined();
    expect(page('#v-name').val()).toBe('Hot printers');
  });

  it('is the agent’s own: another agent neither sees, opens nor deletes it', async () => {
    const view = await t.db('saved_queues').where({ agent_id: john.id }).first();
    expect(viewsIn((await janeC.get('/scp/tickets')).text)).toEqual([]);
    expect((await janeC.get(`/scp/queues/${view.id}`)).status).toBe(404);
    const del = await submit(janeC, '/scp/tickets', `/scp/queues/${view.id}/delete`, { confirm: 'yes' });
    expect(del.status).toBe(404);
    expect((await submit(janeC, '/scp/tickets', `/scp/queues/${view.id}`, { name: 'Taken over', shared: 'on' })).status).toBe(404);
    expect((await janeC.get(`/scp/queues/${view.id}/delete`)).status).toBe(404);
    expect(await t.db('saved_queues').where({ id: view.id }).first()).toBeTruthy();
    expect(viewsIn((await johnC.get('/scp/tickets')).text)).toEqual(['Hot printers']);
  });

  it('a save of the same name replaces it; no name or too many views are refused with a message; deleting removes it', async () => {
    await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'Hot printers', queue: 'closed' });
    const rows = await t.db('saved_queues').where({ agent_id: john.id });
    expect(rows.length).toBe(1);
    expect(JSON.parse(rows[0].params)).toEqual({ queue: 'closed' });
    const noName = await submit(johnC, '/scp/tickets', '/scp/queues', { name: ' ', queue: 'open', q: 'vpn' });
    expect(noName.headers.location).toBe('/scp/tickets?queue=open&q=vpn');
    expect($((await johnC.get(noName.headers.location)).text)('.flash').text()).toContain('The view was not saved: Name is required');
    for (let i = 2; i <= MAX_SAVED_QUEUES; i++) await submit(johnC, '/scp/tickets', '/scp/queues', { name: `View ${i}`, queue: 'open' });
    const tooMany = await submit(johnC, '/scp/tickets', '/scp/queues', { name: 'One too many', queue: 'open' });
    const refused = $((await johnC.get(tooMany.headers.location)).text);
    expect(refused('.flash').text()).toContain(`You have ${MAX_SAVED_QUEUES} views already`);
    expect(refused('#v-name').val()).toBe('One too many');
    expect(refused('details.save-view').attr('open')).toBeDefined();
    expect(await t.db('saved_queues').where({ agent_id: john.id }).count({ n: '*' }).first()).toMatchObject({ n: MAX_SAVED_QUEUES });
    // Deleting asks first (a page that works without JavaScript); the POST without confirm=yes deletes nothing.
    const ask = $((await johnC.get(`/scp/queues/${rows[0].id}/delete`)).text);
    expect(ask(`form[action="/scp/queues/${rows[0].id}/delete"] button[name=confirm][value=yes]`).length).toBe(1);
    expect((await submit(johnC, '/scp/tickets', `/scp/queues/${rows[0].id}/delete`, {})).status).toBe(422);
    expect(await t.db('saved_queues').where({ id: rows[0].id }).first()).toBeTruthy();
    const del = await submit(johnC, '/scp/tickets', `/scp/queues/${rows[0].id}/delete`, { confirm: 'yes' });
    expect(del.headers.location).toBe('/scp/tickets');
    expect(viewsIn((await johnC.get('/scp/tickets')).text)).not.toContain('Hot printers');
  });
});
