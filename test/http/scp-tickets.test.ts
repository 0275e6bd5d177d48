import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { client, loginAsAgent, submit, $, type Client, ticketAction } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildSlaPlan, buildTicket, buildTopic } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { storeAttachments } from '../../src/domain/tickets/attachment-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { dbBool, dbDate } from '../../src/db/dialect.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';

const act = ticketAction;

/** Counts shown in the queue navigation. */
async function counts(c: Client, query = '') {
  const page = $((await c.get(`/scp/tickets${query}`)).text);
  const out: Record<string, number> = {};
  page('nav.queues a').each((_, a) => void (out[page(a).attr('data-queue')!] = Number(page(a).find('.count').text())));
  return out;
}
const numbersIn = async (c: Client, query: string) => {
  const page = $((await c.get(`/scp/tickets${query}`)).text);
  return page('tbody tr').map((_, tr) => page(tr).attr('data-ticket')).get();
};

describe('agent panel: tickets over HTTP', () => {
  let t: TestApp;
  let support: number;
  let banking: number;
  let sevA: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  let janeC: Client;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const open = (subject = 'Entire mobile/online banking system is down', email = 'pat@example.com') =>
    openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat Customer', subject, message: 'Nothing works since 9:00' });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Online Banking' });
    sevA = await buildSlaPlan(t.db, { name: 'Sev-A', grace_minutes: 60 });
    await buildSlaPlan(t.db, { name: 'Sev-B', grace_minutes: 240 });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    jane = await buildAgent(t.db, { department_id: banking, name: 'Jane', username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
    janeC = await loginAsAgent(t.app, jane.username, jane.password);
  });
  afterAll(async () => t.close());

  describe('queues', () => {
    it('sends anonymous visitors to sign in', async () => {
      const res = await client(t.app).get('/scp/tickets');
      expect(res.status).toBe(303);
      expect(res.headers.location).toContain('/scp/login');
    });

    it('shows an empty state, then a new ticket in Open and Unassigned with live counts', async () => {
      const empty = await counts(johnC);
      expect(empty).toEqual({ open: 0, mine: 0, unassigned: 0, overdue: 0, answered: 0, closed: 0 });
      expect($((await johnC.get('/scp/tickets')).text)('.empty').length).toBe(1);
      const o = await open('Printer on fire');
      expect(await counts(johnC)).toMatchObject({ open: 1, unassigned: 1, mine: 0 });
      expect(await numbersIn(johnC, '?queue=open')).toEqual([o.number]);
      expect(await numbersIn(janeC, '?queue=open')).toEqual([]);
      // After claiming: mine, not unassigned; after a reply: answered; after closing: closed.
      expect((await act(johnC, o.id, 'claim')).status).toBe(303);
      expect(await counts(johnC)).toMatchObject({ open: 1, unassigned: 0, mine: 1 });
      await act(johnC, o.id, 'reply', { message: 'Extinguisher on its way', notifyUser: 'user', status: '' });
      expect(await counts(johnC)).toMatchObject({ answered: 1 });
      await act(johnC, o.id, 'status', { status: 'closed' });
      expect(await counts(johnC)).toMatchObject({ open: 0, mine: 0, answered: 0, closed: 1 });
      expect(await numbersIn(johnC, '?queue=closed')).toEqual([o.number]);
    });

    it('sorts by each column, filters, searches, paginates, and marks overdue rows', async () => {
      await writeSettings(t.db, { page_size: 10 }, new Date());
      const made = [];
      for (let i = 0; i < 12; i++) made.push(await open(`Sort ${String.fromCharCode(97 + i)} ticket`, `sorter${i}@example.com`));
      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      await t.db('tickets').where({ id: made[3].id }).update({ priority_id: high, is_overdue: true });
      const asc = await numbersIn(johnC, '?queue=open&sort=subject&dir=asc&q=Sort');
      expect(asc).toEqual(made.slice(0, 10).map((m) => m.number));
      const page2 = $((await johnC.get('/scp/tickets?queue=open&sort=subject&dir=asc&q=Sort&page=2')).text);
      expect(page2('tbody tr').map((_, tr) => page2(tr).attr('data-ticket')).get()).toEqual(made.slice(10).map((m) => m.number));
      expect(page2('.pagination').text()).toContain('Page 2 of 2');
      expect(await numbersIn(johnC, '?queue=open&sort=subject&dir=desc&q=Sort')).toEqual(made.slice(2).reverse().map((m) => m.number));
      for (const col of ['number', 'requester', 'priority', 'department', 'assignee', 'due', 'updated']) expect((await johnC.get(`/scp/tickets?sort=${col}&dir=asc`)).status).toBe(200);
      expect(await numbersIn(johnC, `?queue=open&priority=${high}`)).toEqual([made[3].number]);
      // A search that is a ticket's number opens that ticket, "#" or not (as osTicket's quick search does);
      // a search finding one ticket by anything else stays a list.
      for (const q of [made[5].number, `%23${made[5].number}`]) {
        const jump = await johnC.get(`/scp/tickets?q=${q}`);
        expect([jump.status, jump.headers.location]).toEqual([303, `/scp/tickets/${made[5].id}`]);
      }
      expect((await johnC.get(`/scp/tickets?q=${made[5].number.slice(0, -1)}`)).status).toBe(200);
      // Not in the queue searched (closed, searched from Open): still opened; another department's agent gets the empty list.
      await t.db('tickets').where({ id: made[6].id }).update({ status: 'closed', state: 'closed' });
      const closed = await johnC.get(`/scp/tickets?queue=open&q=${made[6].number}`);
      expect([closed.status, closed.headers.location]).toEqual([303, `/scp/tickets/${made[6].id}`]);
      const refused = await janeC.get(`/scp/tickets?queue=open&q=${made[6].number}`);
      expect(refused.status).toBe(200);
      expect($(refused.text)('tbody tr').length).toBe(0);
      await t.db('tickets').where({ id: made[6].id }).update({ status: 'open', state: 'open' });
      expect(await numbersIn(johnC, '?q=sorter7@example.com')).toEqual([made[7].number]);
      expect(await numbersIn(johnC, '?queue=overdue')).toEqual([made[3].number]);
      const page = $((await johnC.get('/scp/tickets?queue=open&q=Sort&sort=subject')).text);
      expect(page(`tr[data-ticket="${made[3].number}"]`).hasClass('overdue')).toBe(true);
      expect(await numbersIn(johnC, `?queue=open&q=Sort&source=phone`)).toEqual([]);
      expect(await numbersIn(johnC, `?queue=open&q=Sort&dept=${banking}`)).toEqual([]);
      // A search that finds nothing says how words are matched (the start of a word); a filter alone does not.
      const none = $((await johnC.get('/scp/tickets?queue=open&q=ort')).text);
      expect(none('.empty').text()).toContain('match these filters');
      expect(none('.search-hint').text()).toContain('“print” finds “Printer offline”');
      expect($((await johnC.get(`/scp/tickets?queue=open&dept=${banking}`)).text)('.search-hint').length).toBe(0);
      // Junk and arrays in the query are ignored, never an error page.
      expect((await johnC.get('/scp/tickets?queue=nope&sort=x&page=-3&dept=abc&q[]=a')).status).toBe(200);
      await writeSettings(t.db, { page_size: 25 }, new Date());
    });
  });

  it('exports a queue as CSV with the same filters, only visible tickets, formulas defused', async () => {
    const mine = await open('=HYPERLINK("http://evil")', 'csv@example.com');
    const other = await buildTicket(t.db, { department_id: banking, subject: 'Banking only' });
    const res = await johnC.get('/scp/tickets.csv?queue=open&q=csv@example.com');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment/);
    expect(res.text.charCodeAt(0), 'UTF-8 byte-order mark').toBe(0xfeff);
    const lines = res.text.slice(1).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`"${mine.number}"`);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect((await johnC.get('/scp/tickets.csv?queue=open')).text).not.toContain(other.number);
  });

  describe('the ticket page', () => {
    it('shows header, properties, a distinct thread, and history; 404 for another department, admin sees all', async () => {
      const o = await open('Card declined');
      await act(johnC, o.id, 'note', { note: 'Checked the gateway' });
      await act(johnC, o.id, 'reply', { message: 'Please retry', notifyUser: 'user', status: '' });
      const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      expect(page('h1').text()).toContain(`#${o.number}`);
      expect(page('h1').text()).toContain('Card declined');
      expect(page('[data-status]').text()).toBe('Open');
      expect(page('[data-prop=department]').text()).toBe('Support');
      expect(page('[data-prop=sla]').text()).toBe('Default SLA');
      expect(page('[data-prop=requester]').text()).toContain('pat@example.com');
      expect(page('[data-prop=due]').text()).toContain('from the SLA plan');
      expect(page('.thread li').map((_, li) => page(li).attr('data-kind')).get()).toEqual(['message', 'note', 'response']);
      expect(page('.entry-note .badge-note').length).toBe(1);
      expect(page('.events li').map((_, li) => page(li).attr('data-event')).get()).toEqual(['created', 'note', 'response', 'claimed']);
      expect(page('.events li[data-event=note]').text()).toContain('John');
      expect((await janeC.get(`/scp/tickets/${o.id}`)).status).toBe(404);
      const admin = await buildAdmin(t.db);
      const adminC = await loginAsAgent(t.app, admin.username, admin.password);
      expect((await adminC.get(`/scp/tickets/${o.id}`)).status).toBe(200);
      expect((await johnC.get('/scp/tickets/abc')).status).toBe(404);
    });

    it('only shows the actions the agent may take', async () => {
      const o = await open();
      let page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      expect(page(`form[action="/scp/tickets/${o.id}/claim"]`).length).toBe(1);
      expect(page(`form[action="/scp/tickets/${o.id}/release"]`).length).toBe(0);
      expect(page('input[name=status][value=open]').length).toBe(0);
      await act(johnC, o.id, 'claim');
      await act(johnC, o.id, 'status', { status: 'resolved' });
      page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      expect(page(`form[action="/scp/tickets/${o.id}/claim"]`).length).toBe(0);
      expect(page(`form[action="/scp/tickets/${o.id}/release"]`).attr('data-confirm')).toBeTruthy();
      expect(page('input[name=status][value=open]').length).toBe(1);
    });

    it('warns when another agent is working on the ticket (lock), and the lock expires', async () => {
      const shared = await buildAgent(t.db, { department_id: support, name: 'Sam', username: 'sam' });
      const samC = await loginAsAgent(t.app, shared.username, shared.password);
      const o = await open();
      expect($((await johnC.get(`/scp/tickets/${o.id}`)).text)('.lock-notice').length).toBe(0);
      const page = $((await samC.get(`/scp/tickets/${o.id}`)).text);
      expect(page('.lock-notice').text()).toContain('John');
      t.clock.advance(4 * 60_000);
      expect($((await samC.get(`/scp/tickets/${o.id}`)).text)('.lock-notice').length).toBe(0);
      expect($((await johnC.get(`/scp/tickets/${o.id}`)).text)('.lock-notice').text()).toContain('Sam');
      t.clock.set('2026-03-02T10:00:00Z');
    });

    it('downloads attachments as attachments with a safe type, only for agents who may see the ticket', async () => {
      const o = await open('With file');
      const [svgId] = await t.db.transaction((trx) => storeAttachments(trx, o.id, o.entryId, [{ filename: 'chart.svg', contentType: 'image/svg+xml', data: Buffer.from('<svg onload="alert(1)"/>') }], new Date()));
      const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      expect(page(`a[href="/scp/attachments/${svgId}"]`).text()).toBe('chart.svg');
      const res = await johnC.get(`/scp/attachments/${svgId}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?chart\.svg"?$/);
      expect(res.headers['content-type']).toMatch(/^application\/octet-stream/);
      expect((await janeC.get(`/scp/attachments/${svgId}`)).status).toBe(404);
      expect((await client(t.app).get(`/scp/attachments/${svgId}`)).status).toBe(303);
    });
  });

  describe('actions and refusals', () => {
    it('changes priority, SLA (due date recomputed), due date by hand, subject/topic, with events', async () => {
      const o = await open();
      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      expect((await act(johnC, o.id, 'priority', { priorityId: String(high) })).status).toBe(303);
      await act(johnC, o.id, 'sla', { slaPlanId: String(sevA) });
      const created = dbDate((await row(o.id)).sla_started_at)!.getTime();
      expect(dbDate((await row(o.id)).due_at)!.getTime()).toBe(created + 3600_000);
      await act(johnC, o.id, 'due', { dueAt: '2026-03-09T17:30' });
      const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      expect(page('[data-prop=due]').text()).toContain('2026-03-09 17:30');
      expect(page('[data-prop=due]').text()).toContain('set by hand');
      expect(page('#f-dueAt').val()).toBe('2026-03-09T17:30');
      await act(johnC, o.id, 'edit', { subject: 'Banking outage', topicId: '' });
      expect((await row(o.id)).subject).toBe('Banking outage');
      expect(await t.db('ticket_events').where({ ticket_id: o.id }).orderBy('id').pluck('event')).toEqual(['created', 'priority_changed', 'sla_changed', 'due_changed', 'edited']);
    });

    it('re-shows the page with the input kept and errors (422) for bad input', async () => {
      const o = await open();
      const res = await act(johnC, o.id, 'due', { dueAt: '2020-01-01T00:00' });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page('#e-dueAt').length).toBe(1);
      expect(page('#f-dueAt').val()).toBe('2020-01-01T00:00');
      const empty = await act(johnC, o.id, 'reply', { message: ' ', notifyUser: 'user', status: 'closed' });
      expect(empty.status).toBe(422);
      expect($(empty.text)('#e-message').length).toBe(1);
      expect((await row(o.id)).status).toBe('open');
    });

    it('refuses a POST without a valid CSRF token (403)', async () => {
      const o = await open();
      const res = await johnC.post(`/scp/tickets/${o.id}/priority`).type('form').send({ priorityId: '1', _csrf: 'forged' });
      expect(res.status).toBe(403);
      const none = await johnC.post(`/scp/tickets/${o.id}/claim`).type('form').send({});
      expect(none.status).toBe(403);
      expect((await row(o.id)).assignee_agent_id).toBeNull();
    });

    it('refuses actions on another department’s ticket (404) and an impossible transition (409)', async () => {
      const o = await open();
      const res = await submit(janeC, '/scp/tickets', `/scp/tickets/${o.id}/claim`, {});
      expect(res.status).toBe(404);
      const res2 = await submit(janeC, '/scp/tickets', `/scp/tickets/${o.id}/status`, { status: 'closed' });
      expect(res2.status).toBe(404);
      expect((await row(o.id)).status).toBe('open');
      const same = await submit(johnC, '/scp/tickets', `/scp/tickets/${o.id}/status`, { status: 'open' });
      expect(same.status).toBe(409);
    });

    it('refuses a change from an out-of-date page (409) and shows what changed', async () => {
      const o = await open();
      const stalePage = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      const stale = { _csrf: String(stalePage('input[name=_csrf]').first().val()), version: String(stalePage('input[name=version]').first().val()), seen: String(stalePage('input[name=seen]').first().val()) };
      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      const low = (await t.db('priorities').where({ name: 'Low' }).first()).id;
      const admin = await buildAdmin(t.db);
      const adminC = await loginAsAgent(t.app, admin.username, admin.password);
      await act(adminC, o.id, 'priority', { priorityId: String(high) });
      const res = await johnC.post(`/scp/tickets/${o.id}/priority`).type('form').send({ ...stale, priorityId: String(low) });
      expect(res.status).toBe(409);
      const page = $(res.text);
      expect(page('h1').text()).toContain('This ticket changed');
      expect(page('.changes li[data-event=priority_changed]').text()).toContain('High');
      expect(page('.changes li').length).toBe(1);
      expect((await row(o.id)).priority_id).toBe(high);
    });

    it('asks to confirm a reply posted after new activity, keeping the text, then posts it', async () => {
      const o = await open();
      const stalePage = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
      const stale = { _csrf: String(stalePage('input[name=_csrf]').first().val()), version: String(stalePage('input[name=version]').first().val()), seen: String(stalePage('input[name=seen]').first().val()) };
      const { addUserMessage } = await import('../../src/domain/tickets/ticket-service.ts');
      await addUserMessage(t.ctx({ kind: 'system' }), { ticketId: o.id, message: 'Actually it works now' });
      const res = await johnC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...stale, message: 'Try restarting', notifyUser: 'user', status: '' });
      expect(res.status).toBe(409);
      const page = $(res.text);
      expect(page('.thread .entry-message .body').text()).toBe('Actually it works now');
      expect(page('textarea[name=message]').val()).toBe('Try restarting');
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' })).toHaveLength(0);
      const form = page(`form[action="/scp/tickets/${o.id}/reply"]`);
      const data: Record<string, string> = {};
      form.find('input, textarea').each((_, el) => void (data[page(el).attr('name')!] = String(page(el).val() ?? '')));
      const ok = await johnC.post(`/scp/tickets/${o.id}/reply`).type('form').send(data);
      expect(ok.status).toBe(303);
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' }).pluck('body')).toEqual(['Try restarting']);
    });

    it('lets an agent act from an older tab after changes of their own only; a change by anyone else still stops them', async () => {
      const o = await open();
      const pageState = async () => {
        const p = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
        return { _csrf: String(p('input[name=_csrf]').first().val()), version: String(p('input[name=version]').first().val()), seen: String(p('input[name=seen]').first().val()) };
      };
      const tab2 = await pageState();
      // Tab 1: John claims the ticket and raises its priority (two versions, two events of his).
      expect((await act(johnC, o.id, 'claim')).status).toBe(303);
      const high = (await t.db('priorities').where({ name: 'High' }).first()).id;
      expect((await act(johnC, o.id, 'priority', { priorityId: String(high) })).status).toBe(303);
      // Tab 2, loaded before: the reply goes through.
      const reply = await johnC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...tab2, message: 'On it', notifyUser: 'user', status: '' });
      expect(reply.status).toBe(303);
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' }).pluck('body')).toEqual(['On it']);
      // Without the page's last event (an old form, the API), nothing tells whose the changes were: refused.
      const { seen: _seen, ...noSeen } = await pageState();
      await act(johnC, o.id, 'note', { note: 'Called the user' });
      expect((await johnC.post(`/scp/tickets/${o.id}/note`).type('form').send({ ...noSeen, note: 'Second note' })).status).toBe(409);
      // Someone else's change among his own: refused, and the choices that would go with the reply are spelled out.
      const tab3 = await pageState();
      await act(johnC, o.id, 'note', { note: 'Mine' });
      const admin = await buildAdmin(t.db);
      await act(await loginAsAgent(t.app, admin.username, admin.password), o.id, 'note', { note: 'Theirs' });
      const res = await johnC.post(`/scp/tickets/${o.id}/reply`).type('form').send({ ...tab3, message: 'Closing this', notifyUser: 'none', status: 'closed' });
      expect(res.status).toBe(409);
      expect($(res.text)('.resubmit-choices').text()).toBe('As you chose: the user is not emailed; the ticket is set closed.');
      expect(await t.db('thread_entries').where({ ticket_id: o.id, kind: 'response' })).toHaveLength(1);
    });

    it('sends an agent who transferred a ticket out of reach back to the queue with a message', async () => {
      const o = await open();
      const res = await act(johnC, o.id, 'transfer', { departmentId: String(banking), comment: 'For banking' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/scp/tickets');
      const page = $((await johnC.get('/scp/tickets')).text);
      expect(page('.flash-info').text()).toContain('no longer have access');
      expect((await janeC.get(`/scp/tickets/${o.id}`)).status).toBe(200);
    });

    it('assigns to an agent of the department, refusing one of another department (422)', async () => {
      const o = await open();
      const bad = await act(johnC, o.id, 'assign', { assignee: `agent:${jane.id}` });
      expect(bad.status).toBe(422);
      expect($(bad.text)('#e-assignee').length).toBe(1);
      const mate = await buildAgent(t.db, { department_id: support });
      expect((await act(johnC, o.id, 'assign', { assignee: `agent:${mate.id}` })).status).toBe(303);
      expect((await row(o.id)).assignee_agent_id).toBe(mate.id);
      expect((await act(johnC, o.id, 'release')).status).toBe(303);
      expect((await row(o.id)).assignee_agent_id).toBeNull();
    });
  });

  it('colours priority badges with the admins\' colours (a stylesheet, revalidated, for signed-in agents only)', async () => {
    const o = await open('Colourful', 'colour@example.com');
    const emergency = (await t.db('priorities').where({ name: 'Emergency' }).first()).id;
    await t.db('tickets').where({ id: o.id }).update({ priority_id: emergency });
    const queue = $((await johnC.get('/scp/tickets?q=colour@example.com')).text);
    expect(queue(`tr[data-ticket="${o.number}"] td[data-label="Priority"] .badge`).attr('class')).toBe(`badge prio-${emergency}`);
    expect(queue('link[href="/scp/priorities.css"]').length).toBe(1);
    expect($((await johnC.get(`/scp/tickets/${o.id}`)).text)('[data-prop=priority] .badge').attr('class')).toBe(`badge prio-${emergency}`);
    const sheet = await johnC.get('/scp/priorities.css');
    expect(sheet.status).toBe(200);
    expect(sheet.headers['content-type']).toMatch(/^text\/css/);
    expect(sheet.headers['cache-control']).toBe('private, no-cache');
    expect(sheet.text).toContain(`.badge.prio-${emergency} { background: #FFC9C9; color: #000; }`);
    // Unchanged: 304; changed by an admin: the next request has the new colour.
    expect((await johnC.get('/scp/priorities.css').set('If-None-Match', sheet.headers.etag)).status).toBe(304);
    await t.db('priorities').where({ id: emergency }).update({ color: '#B42318' });
    const changed = await johnC.get('/scp/priorities.css').set('If-None-Match', sheet.headers.etag);
    expect(changed.status).toBe(200);
    expect(changed.text).toContain(`.badge.prio-${emergency} { background: #B42318; color: #fff; }`);
    await t.db('priorities').where({ id: emergency }).update({ color: '#FFC9C9' });
    // The sign-in page links no sheet it could not load.
    expect($((await client(t.app).get('/scp/login')).text)('link[href="/scp/priorities.css"]').length).toBe(0);
  });

  it('offers the canned responses of the ticket\'s department and every department, filled in for the ticket', async () => {
    const o = await open('Cannot sign in', 'canned-user@example.com');
    const ts = '2026-03-02 10:00:00.000';
    const insert = async (title: string, body: string, department_id: number | null, is_active = true) =>
      (await t.db('canned_responses').insert({ title, body, department_id, is_active, created_at: ts, updated_at: ts }))[0];
    const every = await insert('Greeting', 'Hello %{user.name}, about #%{ticket.number} (%{ticket.subject}): %{agent.name} here. %{unknown.thing}', null);
    const own = await insert('Support only', 'Support text', support);
    await insert('Banking only', 'Banking text', banking);
    await insert('Retired', 'Old text', null, false);
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('#f-canned option').map((_, el) => page(el).text()).get()).toEqual(['Greeting', 'Support only']);
    // Without JavaScript: Insert reloads the page with the reply filled in.
    const filled = $((await johnC.get(`/scp/tickets/${o.id}?canned=${every}`)).text);
    expect(filled('#f-message').val()).toBe(`Hello Pat Customer, about #${o.number} (Cannot sign in): John here. %{unknown.thing}`);
    // For the page's script: the text alone.
    const text = await johnC.get(`/scp/tickets/${o.id}/canned/${own}`);
    expect([text.status, text.headers['content-type'], text.text]).toEqual([200, 'text/plain; charset=utf-8', 'Support text']);
    // Another department's, an inactive one, an unknown one: not found.
    const banned = await t.db('canned_responses').whereIn('title', ['Banking only', 'Retired']).pluck('id');
    for (const id of [...banned, 999999]) expect((await johnC.get(`/scp/tickets/${o.id}/canned/${id}`)).status, String(id)).toBe(404);
    // An agent who may not see the ticket learns nothing.
    expect((await janeC.get(`/scp/tickets/${o.id}/canned/${every}`)).status).toBe(404);
    await t.db('canned_responses').delete();
  });

  it('marks each queue row with its entries, files, CCs and open tasks (none when there are none)', async () => {
    const plain = await open('A plain one', 'plain@example.com');
    const busy = await open('A busy one', 'busy@example.com');
    expect((await act(johnC, busy.id, 'note', { note: 'Looked at it' })).status).toBe(303);
    await act(johnC, busy.id, 'cc', { email: 'watcher@example.com' });
    await act(johnC, busy.id, 'task', { title: 'Order a part' });
    await act(johnC, busy.id, 'task', { title: 'Call back' });
    await t.db.transaction((trx) => storeAttachments(trx, busy.id, busy.entryId, [{ filename: 'log.txt', contentType: 'text/plain', data: Buffer.from('log') }], t.clock()));
    const page = $((await johnC.get('/scp/tickets?q=one')).text);
    const marks = (number: string) => page(`tr[data-ticket="${number}"] .marker`).map((_, m) => `${page(m).attr('data-marker')}=${page(m).attr('title')}`).get();
    expect(marks(busy.number)).toEqual(['entries=2 entries in the thread', 'files=1 files attached', 'ccs=1 CCs', 'tasks=2 open tasks']);
    expect(marks(plain.number)).toEqual([]);
  });

  it('shows no due date for a closed ticket: the page says when it was due, the Closed queue shows none', async () => {
    const o = await open('Due no more', 'due-no-more@example.com');
    const dueBefore = $((await johnC.get(`/scp/tickets/${o.id}`)).text)('[data-prop=due]').text();
    expect(dueBefore).toContain('(from the SLA plan)');
    const cell = async (queue: string) => {
      const p = $((await johnC.get(`/scp/tickets?queue=${queue}&q=due-no-more@example.com`)).text);
      return p(`tr[data-ticket="${o.number}"] td[data-label="SLA due"]`).text().trim();
    };
    expect(await cell('open')).not.toBe('—');
    expect((await act(johnC, o.id, 'status', { status: 'closed' })).status).toBe(303);
    const due = $((await johnC.get(`/scp/tickets/${o.id}`)).text)('[data-prop=due]').text().replace(/\s+/g, ' ').trim();
    expect(due).toMatch(/^— \(closed; it was due .+\)$/);
    expect(due).not.toContain('from the SLA plan');
    expect(await cell('closed')).toBe('—');
  });

  describe('new ticket on behalf of a user', () => {
    it('shows the form, keeps input on errors, and opens a walk-in ticket with a note', async () => {
      const form = $((await johnC.get('/scp/tickets/new')).text);
      expect(form('#f-source').val()).toBe('phone');
      expect(form('#f-notifyUser').is(':checked')).toBe(true);
      const token = String(form('input[name=_csrf]').val() ?? form('form').attr('action')!.split('_csrf=')[1]);
      const bad = await johnC.post(`/scp/tickets?_csrf=${encodeURIComponent(token)}`).field('email', 'walkin@example.com').field('name', '').field('subject', 'Laptop').field('message', '');
      expect(bad.status).toBe(422);
      const p = $(bad.text);
      expect(p('#f-email').val()).toBe('walkin@example.com');
      expect(p('#e-name').length).toBe(1);
      const ok = await johnC.post(`/scp/tickets?_csrf=${encodeURIComponent(token)}`)
        .field('email', 'walkin@example.com').field('name', 'Walk In').field('source', 'walk-in').field('subject', 'CFO laptop will not turn on')
        .field('message', 'Brought it to the desk').field('note', 'Left the charger with us').field('slaPlanId', String(sevA)).field('departmentId', String(support))
        .attach('attachments', Buffer.from('serial 123'), 'label.txt');
      expect(ok.status).toBe(303);
      const id = Number(ok.headers.location.split('/').pop());
      expect(await row(id)).toMatchObject({ source: 'walk-in', sla_plan_id: sevA, department_id: support });
      expect(await t.db('thread_entries').where({ ticket_id: id }).orderBy('id').pluck('kind')).toEqual(['message', 'note']);
      expect(await t.db('attachments').where({ ticket_id: id }).pluck('filename')).toEqual(['label.txt']);
      // notifyUser unchecked: no mail to the user.
      expect(await t.db('outbox').where({ ticket_id: id, to_address: 'walkin@example.com' })).toHaveLength(0);
    });

    it('lists priorities most urgent first in the New ticket form and the queue filter, as on the ticket page', async () => {
      const labels = (html: string, sel: string) => { const p = $(html); return p(`${sel} option`).map((_, o) => p(o).text()).get().filter((l) => l !== 'All' && !l.startsWith('—')); };
      expect(labels((await johnC.get('/scp/tickets/new')).text, '#f-priorityId')).toEqual(['Emergency', 'High', 'Normal', 'Low']);
      expect(labels((await johnC.get('/scp/tickets')).text, '#q-priority')).toEqual(['Emergency', 'High', 'Normal', 'Low']);
    });

    it('lists the agents to assign under their departments, administrators last, keeping the choice on errors', async () => {
      const html = (await johnC.get('/scp/tickets/new')).text;
      const p = $(html);
      const groupOf = (name: string) => p('#f-assigneeId option').filter((_, o) => p(o).text() === name).parent('optgroup').attr('label');
      expect(groupOf('John')).toBe('Support');
      expect(groupOf('Jane')).toBe('Online Banking');
      const groups = p('#f-assigneeId optgroup').map((_, g) => p(g).attr('label')).get();
      expect(groups.at(-1)).toBe('Administrators (any department)');
      expect(p('#f-assigneeId > option').first().text()).toBe('— unassigned —');
      const action = String(p('form[action^="/scp/tickets?"]').attr('action'));
      const bad = await johnC.post(action).field('email', 'x@example.com').field('name', 'X').field('subject', '').field('message', 'M').field('assigneeId', String(jane.id));
      expect(bad.status).toBe(422);
      expect($(bad.text)('#f-assigneeId option[selected]').text()).toBe('Jane');
    });

    it('lets the help topic route the ticket unless the agent chooses a department (none is preselected)', async () => {
      const topic = await buildTopic(t.db, { name: 'Online banking down', department_id: banking });
      const admin = await buildAdmin(t.db);
      const adminC = await loginAsAgent(t.app, admin.username, admin.password);
      const post = async (c: Client, fields: Record<string, string>) => {
        const form = $((await c.get('/scp/tickets/new')).text);
        expect(form('#f-departmentId').val()).toBe('');
        let r = c.post(String(form('form[action^="/scp/tickets?"]').attr('action')));
        for (const [k, v] of Object.entries({ email: 'caller@example.com', name: 'Caller', source: 'phone', subject: 'Cannot log in to online banking', message: 'Called at 9:05', topicId: String(topic), departmentId: '', ...fields })) r = r.field(k, v);
        return r;
      };
      const byAdmin = await post(adminC, {});
      expect(byAdmin.status).toBe(303);
      expect(await row(Number(byAdmin.headers.location.split('/').pop()))).toMatchObject({ department_id: banking, topic_id: topic });
      // John (Support) cannot open a ticket in Online Banking: told why, his input kept; his own department overrides the topic.
      const refused = await post(johnC, { subject: 'Refused for John' });
      expect(refused.status).toBe(422);
      const p = $(refused.text);
      expect(p('#e-departmentId').text()).toContain('The help topic sends its tickets to a department that is not yours');
      expect(p('#f-subject').val()).toBe('Refused for John');
      expect(await t.db('tickets').where({ subject: 'Refused for John' })).toHaveLength(0);
      const byJohn = await post(johnC, { departmentId: String(support) });
      expect(byJohn.status).toBe(303);
      expect(await row(Number(byJohn.headers.location.split('/').pop()))).toMatchObject({ department_id: support, topic_id: topic });
    });
  });

  it('Journey 1: intake → John triages (Sev-A, transfer) → Jane claims, replies, notes, resolves', async () => {
    const o = await open('Entire mobile/online banking system is down', 'journey@example.com');
    // Triage: John sees it in the open queue and on its page.
    expect(await numbersIn(johnC, '?queue=open&q=journey@example.com')).toEqual([o.number]);
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    for (const prop of ['priority', 'department', 'sla', 'due', 'assignee', 'source', 'requester']) expect(page(`[data-prop=${prop}]`).text().trim()).not.toBe('');
    t.clock.set('2026-03-02T10:10:00Z');
    expect((await act(johnC, o.id, 'sla', { slaPlanId: String(sevA) })).status).toBe(303);
    expect(dbDate((await row(o.id)).due_at)!.toISOString()).toBe(new Date(dbDate((await row(o.id)).created_at)!.getTime() + 3600_000).toISOString());
    expect((await act(johnC, o.id, 'transfer', { departmentId: String(banking) })).headers.location).toBe('/scp/tickets');
    // Resolution: Jane finds it in her department's queue.
    expect(await numbersIn(janeC, `?queue=open&dept=${banking}`)).toContain(o.number);
    t.clock.set('2026-03-02T10:20:00Z');
    expect((await act(janeC, o.id, 'claim')).status).toBe(303);
    expect((await act(janeC, o.id, 'reply', { message: 'We restored the core banking link.', notifyUser: 'user', status: '' })).status).toBe(303);
    expect((await act(janeC, o.id, 'note', { note: 'Root cause: expired certificate' })).status).toBe(303);
    expect((await act(janeC, o.id, 'status', { status: 'resolved' })).status).toBe(303);
    const tk = await row(o.id);
    expect(tk).toMatchObject({ status: 'resolved', state: 'closed', department_id: banking, assignee_agent_id: jane.id, sla_plan_id: sevA });
    expect(dbBool(tk.is_answered)).toBe(true);
    const ev = await t.db('ticket_events as e').leftJoin('agents as a', 'a.id', 'e.agent_id').where('e.ticket_id', o.id).orderBy('e.id').select('e.event', 'a.name');
    expect(ev.map((e: any) => [e.event, e.name ?? null])).toEqual([
      ['created', null], ['sla_changed', 'John'], ['transferred', 'John'], ['claimed', 'Jane'], ['response', 'Jane'], ['note', 'Jane'], ['resolved', 'Jane'],
    ]);
    const mail = await t.db('outbox').where({ ticket_id: o.id, to_address: 'journey@example.com' }).orderBy('id').pluck('template');
    expect(mail).toEqual(['ticket-autoresponse', 'agent-response', 'ticket-closed']);
    expect(await t.db('outbox').where({ ticket_id: o.id, template: 'transfer-alert', to_address: jane.email })).toHaveLength(1);
    // The history on the page reads in order, with who did it.
    const hp = $((await janeC.get(`/scp/tickets/${o.id}`)).text);
    const hist = hp('.events li').map((_, li) => hp(li).text()).get();
    expect(hist[1]).toContain('John');
    expect(hist[1]).toContain('Sev-A');
    expect(hist[2]).toContain('Transferred from Support to Online Banking');
    t.clock.set('2026-03-02T10:00:00Z');
  });
});
