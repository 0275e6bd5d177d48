/**
 * Merging a duplicate into another ticket: the thread and files move, the requester and CCs follow
 * as CCs, the duplicate is closed and leads to the target (agent page, portal, mail); no action is
 * taken on it any more.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, loginAsAgent, type Client, ticketAction } from '../support/http.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { processInboundMail } from '../../src/domain/mail/inbound-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { openViaStatus } from './portal-support.ts';
import request from 'supertest';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';

const act = ticketAction;

describe('merging tickets', () => {
  let t: TestApp;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  let janeC: Client;
  let banking: number;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const ccsOf = async (ticketId: number) => (await t.db('ticket_collaborators as tc').join('users as u', 'u.id', 'tc.user_id').where('tc.ticket_id', ticketId).orderBy('u.email').pluck('u.email')).map(String);
  const open = (email: string, subject: string, message = 'Details.', extra: Record<string, unknown> = {}) =>
    openTicket(t.ctx(ANONYMOUS), { email, name: email.split('@')[0], subject, message, ...extra }, [{ filename: `${email.split('@')[0]}.txt`, contentType: 'text/plain', data: Buffer.from('log') }]);

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Online Banking' });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    jane = await buildAgent(t.db, { department_id: banking, name: 'Jane', username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
    janeC = await loginAsAgent(t.app, jane.username, jane.password);
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test' }, t.clock());
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('moves the thread and files into the target, adds the requester as a CC there, closes the duplicate; both histories say so', async () => {
    const target = await open('pat@example.com', 'Printer offline on floor 3', 'First report.');
    t.clock.advance(60_000);
    const dup = await open('sam@example.com', 'Floor 3 printer down', 'Same here.');
    await act(johnC, dup.id, 'note', { note: 'Duplicate of the floor 3 one.' });
    const res = await act(johnC, dup.id, 'merge', { target: `#${target.number}` });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/scp/tickets/${target.id}`);

    const bodies = await t.db('thread_entries').where({ ticket_id: target.id }).orderBy('id').pluck('body');
    expect(bodies).toEqual(['First report.', 'Same here.', 'Duplicate of the floor 3 one.']);
    expect(await t.db('thread_entries').where({ ticket_id: dup.id }).count({ n: '*' }).first()).toMatchObject({ n: 0 });
    expect((await t.db('attachments').where({ ticket_id: target.id }).orderBy('id').pluck('filename')).sort()).toEqual(['pat.txt', 'sam.txt']);
    expect(await ccsOf(target.id)).toEqual(['sam@example.com']);
    expect(await row(dup.id)).toMatchObject({ status: 'closed', state: 'closed', merged_into_id: target.id });
    expect((await row(target.id)).status).toBe('open');

    const page = $((await johnC.get(`/scp/tickets/${target.id}`)).text);
    expect(page('.thread').text()).toContain('Same here.');
    expect(page('.events').text()).toContain(`Ticket #${dup.number} “Floor 3 printer down” merged into this one (2 thread entries moved here)`);
    expect(page('.events').text()).toContain('CC added from the merged ticket: sam <sam@example.com>');
    const old = $((await johnC.get(`/scp/tickets/${dup.id}`)).text);
    expect(old('.merged-notice a').attr('href')).toBe(`/scp/tickets/${target.id}`);
    expect(old('.events').text()).toContain(`Merged into #${target.number}`);
    expect(old('#reply').length).toBe(0);
    expect(old('.ticket-actions').length).toBe(0);
    // The API says where it went.
    const { key } = await createApiKey(t.ctx(), { allowedIp: '*', canManageTickets: true, canCreateTickets: true });
    expect((await request(t.app).get(`/api/v1/tickets/${dup.number}`).set('X-API-Key', key)).body).toMatchObject({ status: 'closed', mergedInto: target.number, thread: [] });
    // No mail about the merge.
    expect(await t.db('outbox').whereIn('ticket_id', [dup.id, target.id]).whereNotIn('template', ['ticket-autoresponse', 'new-ticket-alert']).count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  it('refuses the ticket itself, an unknown number, one the agent cannot see and a merged one, keeping the input; nothing moves', async () => {
    const a = await open('pat@example.com', 'A');
    const b = await open('pat@example.com', 'B');
    const hidden = await openTicket(t.ctx(), { email: 'pat@example.com', name: 'Pat', subject: 'In banking', message: 'x', departmentId: banking });
    expect((await row(hidden.id)).department_id).toBe(banking);
    const c = await open('pat@example.com', 'C');
    await act(johnC, c.id, 'merge', { target: b.number });
    const cases: [string, string][] = [
      [a.number, 'That is this ticket'],
      ['999999999', 'no ticket #999999999'],
      [hidden.number, `no ticket #${hidden.number}`],
      [c.number, 'was itself merged'],
      ['not a number!', 'Enter a ticket number'],
    ];
    for (const [target, words] of cases) {
      const res = await act(johnC, a.id, 'merge', { target });
      expect(res.status, target).toBe(422);
      const page = $(res.text);
      expect(page('#e-target').text(), target).toContain(words);
      expect(page('#f-target').val(), target).toBe(target);
    }
    expect(await row(a.id)).toMatchObject({ status: 'open', merged_into_id: null });
    expect(await t.db('thread_entries').where({ ticket_id: a.id }).count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });

  it('refuses an agent who cannot see the duplicate, and anyone signed out', async () => {
    const a = await open('pat@example.com', 'Support only');
    const b = await open('pat@example.com', 'Support too');
    const csrf = await csrfFrom(janeC, '/scp/tickets');
    expect((await janeC.post(`/scp/tickets/${a.id}/merge`).type('form').send({ _csrf: csrf, target: b.number })).status).toBe(404);
    const anon = await client(t.app).post(`/scp/tickets/${a.id}/merge`).type('form').send({ target: b.number });
    expect([303, 403]).toContain(anon.status);
    expect((await row(a.id)).merged_into_id).toBeNull();
  });

  it('a merged ticket takes no more actions: reply, reopen and a second merge are refused', async () => {
    const a = await open('pat@example.com', 'Dup');
    const b = await open('pat@example.com', 'Original');
    const other = await open('pat@example.com', 'Other');
    await act(johnC, a.id, 'merge', { target: b.number });
    // The merged ticket's page has no forms left; a stale tab (or a hand-made request) with its current version:
    const fresh = { _csrf: await csrfFrom(johnC, '/scp/tickets'), version: String((await row(a.id)).version) };
    for (const [action, data] of [['reply', { message: 'Late reply', notifyUser: 'none' }], ['status', { status: 'open' }], ['merge', { target: other.number }]] as const) {
      const res = await johnC.post(`/scp/tickets/${a.id}/${action}`).type('form').send({ ...fresh, ...data });
      expect(res.status, action).toBe(409);
      expect(res.text, action).toContain('merged into another ticket');
    }
    expect(await row(a.id)).toMatchObject({ status: 'closed', merged_into_id: b.id });
  });

  it('the duplicate’s requester follows it on the portal to the target, and may answer there', async () => {
    const target = await open('pat@example.com', 'VPN down');
    const dup = await open('sam@example.com', 'VPN not working');
    await act(johnC, dup.id, 'merge', { target: target.number });
    const sam = client(t.app);
    expect((await openViaStatus(sam, 'sam@example.com', dup.number)).status).toBe(303);
    const res = await sam.get(`/tickets/${dup.number}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${target.number}`);
    const page = $((await sam.get(`/tickets/${target.number}`)).text);
    expect(page('.flash').text()).toContain(`Ticket #${dup.number} was merged into ticket #${target.number}`);
    expect(page('.thread').text()).toContain('Details.');
    const csrf = await csrfFrom(sam, `/tickets/${target.number}`);
    expect((await sam.post(`/tickets/${target.number}/reply`).type('form').send({ _csrf: csrf, message: 'Still down for me.' })).status).toBe(303);
    const last = await t.db('thread_entries').where({ ticket_id: target.id }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ body: 'Still down for me.', user_id: dup.userId });
    // Someone else still cannot read the target.
    const stranger = client(t.app);
    expect((await stranger.get(`/tickets/${target.number}`)).status).toBe(303);
  });

  it('a mail answering the duplicate lands in the target', async () => {
    const target = await open('pat@example.com', 'Laptop fan loud');
    const dup = await open('sam@example.com', 'Loud fan');
    await act(johnC, dup.id, 'merge', { target: target.number });
    const raw = Buffer.from(`From: sam@example.com\r\nTo: support@helpdesk.test\r\nSubject: Re: [#${dup.number}] Loud fan\r\nMessage-ID: <sam.fan@example.com>\r\n\r\nIt is getting louder.\r\n`);
    const r = await processInboundMail(t.ctx(), raw, 'pipe');
    expect(r).toMatchObject({ outcome: 'threaded', ticketId: target.id, ticketNumber: target.number });
    expect((await t.db('thread_entries').where({ message_id: '<sam.fan@example.com>' }).first()).ticket_id).toBe(target.id);
    expect(await row(dup.id)).toMatchObject({ status: 'closed' });
    // The requester of the target gets a copy of what the duplicate's requester wrote.
    expect(await t.db('outbox').where({ ticket_id: target.id, template: 'cc-message', to_address: 'pat@example.com' }).first()).toBeDefined();
  });
});
