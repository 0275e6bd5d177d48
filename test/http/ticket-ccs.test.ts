/**
 * CCs: agents add and remove them on the ticket page; they get the replies and the closing notice
 * with their own access link; they read and answer on the portal (not close) and by email; the
 * people a requester's mail went to become CCs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, csrfFrom, loginAsAgent, type Client, ticketAction } from '../support/http.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { processInboundMail } from '../../src/domain/mail/inbound-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { multipartAction, openViaStatus, postMultipart } from './portal-support.ts';

const act = ticketAction;

/** The access link in a queued mail's text. */
function linkIn(text: string): string {
  const m = /https?:\/\/[^\s]+\/tickets\/access\?token=[^\s]+/.exec(text);
  if (!m) throw new Error('no access link in: ' + text);
  return new URL(m[0]).pathname + new URL(m[0]).search;
}

function mail(lines: Record<string, string>, body: string): Buffer {
  return Buffer.from(Object.entries(lines).map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n' + body + '\r\n');
}

describe('CCs on a ticket', () => {
  let t: TestApp;
  let support: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  let janeC: Client;
  const outbox = (ticketId: number, template?: string) => t.db('outbox').where({ ticket_id: ticketId, ...(template ? { template } : {}) }).orderBy('id').select('to_address', 'template', 'text_body');
  const ccsOf = async (ticketId: number) => (await t.db('ticket_collaborators as tc').join('users as u', 'u.id', 'tc.user_id').where('tc.ticket_id', ticketId).orderBy('u.email').pluck('u.email')).map(String);
  const open = (email = 'pat@example.com', subject = 'VPN drops every hour') => openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat Customer', subject, message: 'It drops.' });

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    const banking = await buildDepartment(t.db, { name: 'Online Banking', email_address: 'banking@helpdesk.test' });
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

  it('an agent adds a CC on the ticket page: listed, in the history, the version bumped', async () => {
    const o = await open();
    const res = await act(johnC, o.id, 'cc', { email: ' Maria@Example.com ', name: 'Maria Manager' });
    expect(res.status).toBe(303);
    expect(await ccsOf(o.id)).toEqual(['maria@example.com']);
    expect((await t.db('tickets').where({ id: o.id }).first()).version).toBe(2);
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('.ticket-ccs .cc-list li').text()).toContain('Maria Manager');
    expect(page('.ticket-ccs .cc-list li').text()).toContain('maria@example.com');
    expect(page('.events').text()).toContain('CC added: Maria Manager <maria@example.com>');
    // The reply form offers the requester and the CC, or the requester alone.
    expect(page('#f-notifyUser option').map((_, o2) => page(o2).attr('value')).get()).toEqual(['all', 'user', 'none']);
    expect(page('#f-notifyUser option').first().text()).toContain('Pat Customer and 1 CC');
  });

  it('refuses the requester, a CC twice, an agent, the help desk’s own addresses and a bad address, keeping the input', async () => {
    const o = await open();
    await act(johnC, o.id, 'cc', { email: 'maria@example.com' });
    const cases: [string, string][] = [
      ['pat@example.com', 'requester'],
      ['maria@example.com', 'already a CC'],
      [jane.email, 'agent'],
      ['support@helpdesk.test', 'own addresses'],
      ['banking@helpdesk.test', 'own addresses'],
      ['no-reply@vendor.example', 'does not receive mail'],
      ['not-an-address', 'valid email'],
    ];
    for (const [email, words] of cases) {
      const res = await act(johnC, o.id, 'cc', { email, name: 'Typed name' });
      expect(res.status, email).toBe(422);
      const page = $(res.text);
      expect(page('#e-cc-email').text(), email).toContain(words);
      expect(page('#f-cc-name').val(), email).toBe('Typed name');
      expect(page('.ticket-ccs details').attr('open'), email).toBeDefined();
    }
    expect(await ccsOf(o.id)).toEqual(['maria@example.com']);
  });

  it('refuses an agent who may not see the ticket, and anyone signed out; nothing changes', async () => {
    const o = await open();
    await act(johnC, o.id, 'cc', { email: 'maria@example.com' });
    const maria = await t.db('users').where({ email: 'maria@example.com' }).first();
    const csrf = await csrfFrom(janeC, '/scp/tickets');
    expect((await janeC.post(`/scp/tickets/${o.id}/cc`).type('form').send({ _csrf: csrf, email: 'x@example.com' })).status).toBe(404);
    expect((await janeC.post(`/scp/tickets/${o.id}/uncc`).type('form').send({ _csrf: csrf, userId: String(maria.id) })).status).toBe(404);
    const anon = client(t.app);
    const res = await anon.post(`/scp/tickets/${o.id}/uncc`).type('form').send({ userId: String(maria.id) });
    expect([303, 403]).toContain(res.status);
    expect(await ccsOf(o.id)).toEqual(['maria@example.com']);
  });

  it('a reply goes to the requester and each CC with their own link, or to the requester only', async () => {
    const o = await open();
    await act(johnC, o.id, 'cc', { email: 'maria@example.com', name: 'Maria Manager' });
    expect((await act(johnC, o.id, 'reply', { message: 'Please update the client.', notifyUser: 'all', status: '' })).status).toBe(303);
    const sent = await outbox(o.id, 'agent-response');
    expect(sent.map((m: any) => m.to_address).sort()).toEqual(['maria@example.com', 'pat@example.com']);
    const toMaria = sent.find((m: any) => m.to_address === 'maria@example.com');
    const toPat = sent.find((m: any) => m.to_address === 'pat@example.com');
    expect(toMaria.text_body).toContain('You are copied (CC) on this ticket; Pat Customer opened it.');
    expect(toPat.text_body).not.toContain('copied (CC)');
    expect(linkIn(toMaria.text_body)).not.toBe(linkIn(toPat.text_body));

    expect((await act(johnC, o.id, 'reply', { message: 'Just for you.', notifyUser: 'user', status: '' })).status).toBe(303);
    expect((await outbox(o.id, 'agent-response')).length).toBe(3);
    expect((await outbox(o.id, 'agent-response')).at(-1).to_address).toBe('pat@example.com');
    expect($((await johnC.get(`/scp/tickets/${o.id}`)).text)('.events').text()).toContain('Posted a reply (emailed to the requester only)');

    // An unknown choice is an error on the form, not a silent "do not email".
    const bad = await act(johnC, o.id, 'reply', { message: 'Hm', notifyUser: 'everyone', status: '' });
    expect(bad.status).toBe(422);
    expect($(bad.text)('#f-message').val()).toBe('Hm');
  });

  it('a CC follows the ticket on the portal from their link: reads and replies (the requester gets a copy), cannot close', async () => {
    const o = await open();
    await act(johnC, o.id, 'cc', { email: 'maria@example.com', name: 'Maria Manager' });
    await act(johnC, o.id, 'reply', { message: 'Which client version?', notifyUser: 'all', status: '' });
    const toMaria = (await outbox(o.id, 'agent-response')).find((m: any) => m.to_address === 'maria@example.com');
    const maria = client(t.app);
    const landed = await maria.get(linkIn(toMaria.text_body));
    expect(landed.status).toBe(303);
    const page = $((await maria.get(`/tickets/${o.number}`)).text);
    expect(page('h1').text()).toContain('VPN drops every hour');
    expect(page('.props').text()).toContain('you are copied on this ticket');
    expect(page('.thread').text()).toContain('Which client version?');
    expect(page('.thread .entry-message header').first().text()).toContain('Pat Customer');
    expect(page('.thread .entry-message header').first().text()).not.toContain('You wrote');
    expect(page('form.close-ticket').length).toBe(0);

    const csrf = await csrfFrom(maria, `/tickets/${o.number}`);
    const reply = await maria.post(`/tickets/${o.number}/reply`).type('form').send({ _csrf: csrf, message: 'Version 5.2 on all laptops.' });
    expect(reply.status).toBe(303);
    const entry = await t.db('thread_entries').where({ ticket_id: o.id, kind: 'message' }).orderBy('id', 'desc').first();
    const mariaUser = await t.db('users').where({ email: 'maria@example.com' }).first();
    expect(entry).toMatchObject({ user_id: mariaUser.id, poster_name: 'Maria Manager', body: 'Version 5.2 on all laptops.' });
    const copies = await outbox(o.id, 'cc-message');
    expect(copies.map((m: any) => m.to_address)).toEqual(['pat@example.com']);
    expect(copies[0].text_body).toContain('Maria Manager wrote on ticket');
    expect(copies[0].text_body).toContain('Version 5.2 on all laptops.');
    expect((await outbox(o.id, 'new-message-alert')).length).toBeGreaterThan(0);
    const after = $((await maria.get(`/tickets/${o.number}`)).text);
    expect(after('.thread .entry-message').last().find('header').text()).toContain('You wrote');

    // Closing is the requester's: refused, and the ticket stays open.
    const close = await maria.post(`/tickets/${o.number}/close`).type('form').send({ _csrf: csrf });
    expect(close.status).toBe(403);
    expect((await t.db('tickets').where({ id: o.id }).first()).status).toBe('open');
  });

  it('a CC opens the ticket with their own email and the number; a stranger does not; removed, the CC loses it and gets no more mail', async () => {
    const o = await open();
    await act(johnC, o.id, 'cc', { email: 'maria@example.com', name: 'Maria Manager' });
    const maria = client(t.app);
    expect((await openViaStatus(maria, 'maria@example.com', o.number)).headers.location).toBe(`/tickets/${o.number}`);
    expect((await maria.get(`/tickets/${o.number}`)).status).toBe(200);
    const stranger = client(t.app);
    const refused = await openViaStatus(stranger, 'stranger@example.com', o.number);
    expect(refused.status).toBe(422);
    expect((await stranger.get(`/tickets/${o.number}`)).status).not.toBe(200);

    const mariaId = (await t.db('users').where({ email: 'maria@example.com' }).first()).id;
    expect((await act(johnC, o.id, 'uncc', { userId: String(mariaId) })).status).toBe(303);
    expect(await ccsOf(o.id)).toEqual([]);
    expect($((await johnC.get(`/scp/tickets/${o.id}`)).text)('.events').text()).toContain('CC removed: Maria Manager <maria@example.com>');
    expect((await maria.get(`/tickets/${o.number}`)).status).toBe(404);
    const before = (await outbox(o.id)).length;
    await act(johnC, o.id, 'reply', { message: 'Fixed.', notifyUser: 'all', status: 'closed' });
    const after = (await outbox(o.id)).slice(before);
    expect(after.map((m: any) => m.to_address)).toEqual(['pat@example.com']);
    // Removing again changes nothing.
    const again = await act(johnC, o.id, 'uncc', { userId: String(mariaId) });
    expect(again.status).toBe(303);
  });

  it('closing tells the requester and the CCs', async () => {
    const o = await open();
    await act(johnC, o.id, 'cc', { email: 'maria@example.com' });
    expect((await act(johnC, o.id, 'status', { status: 'closed' })).status).toBe(303);
    expect((await outbox(o.id, 'ticket-closed')).map((m: any) => m.to_address).sort()).toEqual(['maria@example.com', 'pat@example.com']);
  });

  it('the New ticket form copies people in: they get the first reply; a refused address keeps the form and opens nothing', async () => {
    const fields = { email: 'walkin@example.com', name: 'Walk In', source: 'walk-in', subject: 'Badge does not open the door', message: 'Since this morning.', reply: 'We reset your badge.', notifyUser: 'on' };
    const bad = await postMultipart(johnC, await multipartAction(johnC, '/scp/tickets/new'), { ...fields, cc: `facilities@example.com, ${jane.email}` });
    expect(bad.status).toBe(422);
    const form = $(bad.text);
    expect(form('#e-cc').text()).toContain(`${jane.email}: That is an agent’s address`);
    expect(form('#f-cc').val()).toBe(`facilities@example.com, ${jane.email}`);
    expect(form('#f-subject').val()).toBe('Badge does not open the door');
    expect(await t.db('tickets').where({ subject: 'Badge does not open the door' }).first()).toBeUndefined();

    const ok = await postMultipart(johnC, await multipartAction(johnC, '/scp/tickets/new'), { ...fields, cc: 'facilities@example.com; "Site Boss" <boss@example.com>' });
    expect(ok.status).toBe(303);
    const ticket = await t.db('tickets').where({ subject: 'Badge does not open the door' }).first();
    expect(await ccsOf(ticket.id)).toEqual(['boss@example.com', 'facilities@example.com']);
    expect((await t.db('users').where({ email: 'boss@example.com' }).first()).name).toBe('Site Boss');
    expect((await outbox(ticket.id, 'agent-response')).map((m: any) => m.to_address).sort()).toEqual(['boss@example.com', 'facilities@example.com', 'walkin@example.com']);
  });

  it('an agent hands the ticket to another requester: the old one stays on as a CC, a CC who becomes requester leaves the CCs; the queue follows', async () => {
    const o = await open('assistant@example.com', 'Laptop for the director');
    await act(johnC, o.id, 'cc', { email: 'director@example.com', name: 'Dana Director' });
    const res = await act(johnC, o.id, 'requester', { email: 'Director@Example.com', name: 'Ignored For A Known User', keepAsCc: 'on' });
    expect(res.status).toBe(303);
    const t2 = await t.db('tickets as t').join('users as u', 'u.id', 't.user_id').where('t.id', o.id).first('u.email', 't.requester_name', 't.search_text', 't.version');
    expect([t2.email, t2.requester_name]).toEqual(['director@example.com', 'Dana Director']);
    expect(t2.search_text).toBe(' laptop for the director dana');
    expect(await ccsOf(o.id)).toEqual(['assistant@example.com']);
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('[data-prop="requester"]').text()).toContain('director@example.com');
    expect(page('.events').text()).toContain('Requester changed from Pat Customer <assistant@example.com> to Dana Director <director@example.com>; Pat Customer stays on as a CC');
    // The new requester opens it with their email and the number; the old one still can, as a CC.
    for (const who of ['director@example.com', 'assistant@example.com']) {
      const c = client(t.app);
      expect((await openViaStatus(c, who, o.number)).headers.location, who).toBe(`/tickets/${o.number}`);
    }
    // Without keeping: the former requester loses the ticket.
    await act(johnC, o.id, 'requester', { email: 'someone.else@example.com', name: 'Sam Else' });
    expect(await ccsOf(o.id)).toEqual(['assistant@example.com']);
    const gone = client(t.app);
    expect((await openViaStatus(gone, 'director@example.com', o.number)).status).toBe(422);
  });

  it('refuses the same requester, an agent’s or a banned address, keeping the input; nothing changes', async () => {
    const o = await open('stays@example.com');
    await t.db('users').insert({ email: 'banned.person@example.com', name: 'Banned', is_banned: true, created_at: new Date(), updated_at: new Date() });
    for (const [email, words] of [['stays@example.com', 'requester already'], [jane.email, 'agent'], ['banned.person@example.com', 'banned'], ['nope', 'valid email']]) {
      const res = await act(johnC, o.id, 'requester', { email, name: 'Typed name' });
      expect(res.status, email).toBe(422);
      const page = $(res.text);
      expect(page('#e-requester-email').text(), email).toContain(words);
      expect(page('#f-requester-name').val(), email).toBe('Typed name');
    }
    const after = await t.db('tickets as t').join('users as u', 'u.id', 't.user_id').where('t.id', o.id).first('u.email', 't.version');
    expect([after.email, after.version]).toEqual(['stays@example.com', 1]);
  });

  it('the portal copies others in only when the setting allows it: added in the ticket’s transaction, refused ones open nothing, at most 5', async () => {
    const topicId = String((await t.db('help_topics').where({ is_public: true, is_active: true }).first('id')).id);
    const portalOpen = async (fields: Record<string, string>) => {
      const c = client(t.app);
      return postMultipart(c, await multipartAction(c, '/tickets/new'), { email: 'kim@example.com', name: 'Kim', subject: 'Copy my team', message: 'Hi', topicId, ...fields });
    };
    // Off (the default): no field, and a crafted one is ignored.
    expect($((await client(t.app).get('/tickets/new')).text)('#f-cc').length).toBe(0);
    const ignored = await portalOpen({ cc: 'sneaky@example.com', subject: 'Off' });
    expect(ignored.status).toBe(303);
    const offTicket = await t.db('tickets').where({ subject: 'Off' }).first();
    expect(await ccsOf(offTicket.id)).toEqual([]);
    await writeSettings(t.db, { portal_allow_cc: true }, t.clock());
    try {
      expect($((await client(t.app).get('/tickets/new')).text)('#f-cc').length).toBe(1);
      const ok = await portalOpen({ cc: 'Lee <lee@example.com>, sam@example.com', subject: 'On' });
      expect(ok.status).toBe(303);
      expect(await ccsOf((await t.db('tickets').where({ subject: 'On' }).first()).id)).toEqual(['lee@example.com', 'sam@example.com']);
      // A refused address (an agent's) and too many: the form again with the input, no ticket.
      for (const [cc, words] of [[john.email, 'agent'], ['a@x.example, b@x.example, c@x.example, d@x.example, e@x.example, f@x.example', 'at most 5']]) {
        const bad = await portalOpen({ cc, subject: `Refused ${words}` });
        expect(bad.status, cc).toBe(422);
        expect($(bad.text)('#e-cc').text(), cc).toContain(words);
        expect($(bad.text)('#f-cc').val(), cc).toBe(cc);
        expect(await t.db('tickets').where({ subject: `Refused ${words}` }).first(), cc).toBeUndefined();
      }
    } finally {
      await writeSettings(t.db, { portal_allow_cc: false }, t.clock());
    }
  });

  it('on the portal the requester copies people in and takes them off when the setting allows it; a CC may not; refused ones keep the input', async () => {
    const o = await open('requester.portal@example.com', 'Portal CCs');
    const requester = client(t.app);
    await openViaStatus(requester, 'requester.portal@example.com', o.number);
    const post = async (c: Client, path: string, data: Record<string, string>) => {
      const page = $((await c.get(`/tickets/${o.number}`)).text);
      return c.post(path).type('form').send({ _csrf: String(page('input[name=_csrf]').first().val()), ...data });
    };
    // Off: no card, and a crafted request is refused.
    expect($((await requester.get(`/tickets/${o.number}`)).text)('.portal-ccs').length).toBe(0);
    expect((await post(requester, `/tickets/${o.number}/cc`, { ccEmail: 'x@example.com' })).status).toBe(403);
    await writeSettings(t.db, { portal_allow_cc: true }, t.clock());
    try {
      const added = await post(requester, `/tickets/${o.number}/cc`, { ccEmail: 'Friend@Example.com', ccName: 'Fran Friend' });
      expect([added.status, added.headers.location]).toEqual([303, `/tickets/${o.number}`]);
      expect(await ccsOf(o.id)).toEqual(['friend@example.com']);
      const page = $((await requester.get(`/tickets/${o.number}`)).text);
      expect(page('.portal-ccs .cc-list li').text()).toContain('Fran Friend');
      expect((await t.db('tickets').where({ id: o.id }).first()).version).toBe(2);
      // Refused: an agent's address; the input is kept.
      const bad = await post(requester, `/tickets/${o.number}/cc`, { ccEmail: john.email, ccName: 'Typed' });
      expect(bad.status).toBe(422);
      expect($(bad.text)('#e-ccEmail').text()).toContain('agent');
      expect($(bad.text)('#f-ccName').val()).toBe('Typed');
      // The CC sees no card and may not change anything.
      const friend = client(t.app);
      await openViaStatus(friend, 'friend@example.com', o.number);
      expect($((await friend.get(`/tickets/${o.number}`)).text)('.portal-ccs').length).toBe(0);
      expect((await post(friend, `/tickets/${o.number}/cc`, { ccEmail: 'other@example.com' })).status).toBe(403);
      // Taken off, in the history.
      const friendId = (await t.db('users').where({ email: 'friend@example.com' }).first()).id;
      expect((await post(requester, `/tickets/${o.number}/uncc`, { userId: String(friendId) })).status).toBe(303);
      expect(await ccsOf(o.id)).toEqual([]);
      const history = $((await johnC.get(`/scp/tickets/${o.id}`)).text)('.events').text();
      expect(history).toContain('CC added by the requester: Fran Friend <friend@example.com>');
      expect(history).toContain('CC removed by the requester: Fran Friend <friend@example.com>');
    } finally {
      await writeSettings(t.db, { portal_allow_cc: false }, t.clock());
    }
  });

  describe('by email', () => {
    it('the people a new mail went to become CCs; not agents, the help desk or the sender', async () => {
      const raw = mail({
        From: 'Erin <erin@customer.test>', To: 'support@helpdesk.test, Boss <boss@customer.test>', Cc: `Colleague <colleague@customer.test>, ${jane.email}, banking@helpdesk.test, erin@customer.test`,
        Subject: 'Printer on fire', 'Message-ID': '<fire.1@customer.test>', Date: 'Mon, 02 Mar 2026 10:00:00 +0000',
      }, 'Smoke everywhere.');
      const r = await processInboundMail(t.ctx(), raw, 'pipe');
      expect(r.outcome).toBe('created');
      expect(await ccsOf(r.ticketId!)).toEqual(['boss@customer.test', 'colleague@customer.test']);
      expect((await t.db('users').where({ email: 'boss@customer.test' }).first()).name).toBe('Boss');
      const events = await t.db('ticket_events').where({ ticket_id: r.ticketId, event: 'cc_added' }).count({ n: '*' });
      expect(Number(events[0].n)).toBe(2);
    });

    it('a CC answers by email (subject token or headers): filed as the CC, no banner; the requester gets a copy', async () => {
      const o = await open('pat@example.com', 'Monitor flickers');
      await act(johnC, o.id, 'cc', { email: 'maria@example.com', name: 'Maria Manager' });
      await act(johnC, o.id, 'reply', { message: 'Try another cable.', notifyUser: 'all', status: '' });
      const sent = await t.db('outbox').where({ ticket_id: o.id, template: 'agent-response', to_address: 'maria@example.com' }).first('message_id', 'subject');
      const mariaId = (await t.db('users').where({ email: 'maria@example.com' }).first()).id;

      const byHeaders = await processInboundMail(t.ctx(), mail({ From: 'Maria <maria@example.com>', To: 'support@helpdesk.test', Subject: 'Re: cable', 'In-Reply-To': sent.message_id, 'Message-ID': '<m1@example.com>' }, 'Cable swapped, still flickers.'), 'pipe');
      expect(byHeaders).toMatchObject({ outcome: 'threaded', ticketId: o.id });
      const e1 = await t.db('thread_entries').where({ message_id: '<m1@example.com>' }).first();
      expect(e1).toMatchObject({ user_id: mariaId, poster_name: 'Maria Manager' });
      expect(e1.body).not.toContain('Received from');

      const bySubject = await processInboundMail(t.ctx(), mail({ From: 'maria@example.com', To: 'support@helpdesk.test', Subject: `Re: [#${o.number}] Monitor flickers`, 'Message-ID': '<m2@example.com>' }, 'Also on the second monitor.'), 'pipe');
      expect(bySubject).toMatchObject({ outcome: 'threaded', ticketId: o.id, reason: 'subject_token' });
      expect((await t.db('thread_entries').where({ message_id: '<m2@example.com>' }).first()).user_id).toBe(mariaId);
      expect((await outbox(o.id, 'cc-message')).map((m: any) => m.to_address)).toEqual(['pat@example.com', 'pat@example.com']);

      // Someone the mail itself went to (reply-all) gets no second copy from us.
      await processInboundMail(t.ctx(), mail({ From: 'maria@example.com', To: 'support@helpdesk.test', Cc: 'pat@example.com', Subject: `Re: [#${o.number}] Monitor flickers`, 'Message-ID': '<m3@example.com>' }, 'Reply-all.'), 'pipe');
      expect((await outbox(o.id, 'cc-message')).length).toBe(2);

      // A stranger's subject token does not thread (a new ticket instead).
      const stranger = await processInboundMail(t.ctx(), mail({ From: 'eve@evil.test', To: 'support@helpdesk.test', Subject: `Re: [#${o.number}] Monitor flickers`, 'Message-ID': '<e1@evil.test>' }, 'Let me in.'), 'pipe');
      expect(stranger.outcome).toBe('created');
    });

    it('the requester copying someone in on a reply adds them; a CC copying someone in does not', async () => {
      const o = await open('pat@example.com', 'Keyboard sticky');
      await act(johnC, o.id, 'cc', { email: 'maria@example.com' });
      await processInboundMail(t.ctx(), mail({ From: 'pat@example.com', To: 'support@helpdesk.test', Cc: 'it-lead@example.com', Subject: `Re: [#${o.number}] Keyboard sticky`, 'Message-ID': '<p1@example.com>' }, 'Adding our IT lead.'), 'pipe');
      expect(await ccsOf(o.id)).toEqual(['it-lead@example.com', 'maria@example.com']);
      await processInboundMail(t.ctx(), mail({ From: 'maria@example.com', To: 'support@helpdesk.test', Cc: 'friend@example.com', Subject: `Re: [#${o.number}] Keyboard sticky`, 'Message-ID': '<p2@example.com>' }, 'Adding a friend.'), 'pipe');
      expect(await ccsOf(o.id)).toEqual(['it-lead@example.com', 'maria@example.com']);
    });
  });
});
