/**
 * Signing in to the portal with an email link: every ticket of the user (theirs and those they are
 * copied on), and their organization's when it shares them; the link works once and expires; asking
 * for one never tells whether the address is known.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, submit, type Client } from '../support/http.ts';
import { buildTicket, buildUser, unique } from '../factories/index.ts';
import { multipartAction, openViaStatus, postMultipart } from './portal-support.ts';

describe('portal sign-in with an email link', () => {
  let t: TestApp;
  let dept: number;
  const mailsTo = (address: string) => t.db('outbox').where({ to_address: address, template: 'signin-link' }).orderBy('id').select('text_body', 'subject');
  /** Asks for a link for `address` and returns the path of the newest one mailed (or null). */
  async function askLink(address: string, c: Client = client(t.app)): Promise<string | null> {
    const res = await submit(c, '/signin', '/signin', { email: address });
    expect([res.status, res.headers.location]).toEqual([303, '/signin']);
    const mails = await mailsTo(address.toLowerCase());
    const last = mails[mails.length - 1];
    const m = last && /https?:\/\/[^\s]+\/signin\/link\?token=[^\s]+/.exec(last.text_body);
    return m ? new URL(m[0]).pathname + new URL(m[0]).search : null;
  }
  /** Opens a sign-in link and presses its button; returns the response to the button. */
  async function follow(c: Client, link: string) {
    const page = await c.get(link);
    if (page.status !== 200) return page;
    const form = $(page.text)('form[action="/signin/link"]');
    return c.post('/signin/link').type('form').send({ _csrf: String(form.find('input[name=_csrf]').val()), token: String(form.find('input[name=token]').val()) });
  }
  async function signIn(address: string): Promise<Client> {
    const c = client(t.app);
    const link = await askLink(address, c);
    expect(link).toBeTruthy();
    const res = await follow(c, link!);
    expect([res.status, res.headers.location]).toEqual([303, '/tickets']);
    return c;
  }
  const listed = async (c: Client, path = '/tickets') => {
    const page = $((await c.get(path)).text);
    return page('tr[data-number]').map((_, r) => page(r).attr('data-number')).get().sort();
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    dept = (await t.db('departments').where({ name: 'Support' }).first()).id;
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
  });

  it('mails a one-time link to a known address; says the same for an unknown one and mails nothing; a malformed one is refused with the input kept', async () => {
    const ann = await buildUser(t.db, { email: `${unique('ann')}@example.com` });
    const c = client(t.app);
    const link = await askLink(ann.email, c);
    expect(link).toMatch(/^\/signin\/link\?token=/);
    expect((await mailsTo(ann.email))[0].subject).toBe('Sign in to see your tickets');
    const flashPage = $((await c.get('/signin')).text);
    expect(flashPage('.flash').text()).toContain(`If we know ${ann.email}`);
    expect(await askLink('nobody-here@example.com')).toBeNull();
    const bad = await submit(client(t.app), '/signin', '/signin', { email: 'not an address' });
    expect(bad.status).toBe(422);
    expect($(bad.text)('#f-email').val()).toBe('not an address');
  });

  it('signs in to every ticket of the user and those they are copied on, not others’; the link works once and expires', async () => {
    const bea = await buildUser(t.db, { email: `${unique('bea')}@example.com` });
    const own1 = await buildTicket(t.db, { user_id: bea.id, department_id: dept });
    const own2 = await buildTicket(t.db, { user_id: bea.id, department_id: dept, status: 'closed' });
    const copied = await buildTicket(t.db, { department_id: dept });
    await t.db('ticket_collaborators').insert({ ticket_id: copied.id, user_id: bea.id, created_at: new Date() });
    const stranger = await buildTicket(t.db, { department_id: dept });
    const c = client(t.app);
    const link = (await askLink(bea.email, c))!;
    // Opening the link (as a mail scanner would, twice) spends nothing: the page asks to press Sign in.
    for (let i = 0; i < 2; i++) {
      const page = await client(t.app).get(link);
      expect(page.status).toBe(200);
      expect($(page.text)('h1 + p').text()).toContain(bea.email);
    }
    expect(await listed(c)).toEqual([]);
    expect((await follow(c, link)).headers.location).toBe('/tickets');
    expect(await listed(c)).toEqual([own1.number, own2.number, copied.number].sort());
    expect(await listed(c, '/tickets?state=open')).toEqual([own1.number, copied.number].sort());
    expect(await listed(c, '/tickets?state=closed')).toEqual([own2.number]);
    expect((await c.get(`/tickets/${own2.number}`)).status).toBe(200);
    expect((await c.get(`/tickets/${stranger.number}`)).status).toBe(404);
    // The header says who is signed in.
    expect($((await c.get('/')).text)('.who').text()).toContain(bea.email);
    // Once only.
    const again = client(t.app);
    const used = await follow(again, link);
    expect(used.headers.location).toBe('/signin');
    expect(await listed(again)).toEqual([]);
    // Expired after an hour.
    const late = (await askLink(bea.email))!;
    t.clock.advance(61 * 60_000);
    expect((await follow(client(t.app), late)).headers.location).toBe('/signin');
    // Signing out ends it.
    await submit(c, '/', '/logout', {});
    expect(await listed(c)).toEqual([]);
  });

  it('pages 25 tickets at a time, newest activity first', async () => {
    const cal = await buildUser(t.db, { email: `${unique('cal')}@example.com` });
    for (let i = 0; i < 27; i++) await buildTicket(t.db, { user_id: cal.id, department_id: dept, updated_at: new Date(Date.UTC(2026, 0, 1 + i)) });
    const c = await signIn(cal.email);
    const first = $((await c.get('/tickets')).text);
    expect(first('tr[data-number]').length).toBe(25);
    const next = String(first('.pagination a[rel=next]').attr('href'));
    expect(next).toBe('/tickets?page=2');
    const second = $((await c.get(next)).text);
    expect(second('tr[data-number]').length).toBe(2);
    expect(second('.pagination a[rel=next]').length).toBe(0);
  });

  it('no link for a banned user, nor more than 3 in 15 minutes; a banned user’s link no longer signs in', async () => {
    const dan = await buildUser(t.db, { email: `${unique('dan')}@example.com` });
    const old = (await askLink(dan.email))!;
    await askLink(dan.email);
    await askLink(dan.email);
    await askLink(dan.email);
    expect((await mailsTo(dan.email)).length).toBe(3);
    await t.db('users').where({ id: dan.id }).update({ is_banned: true });
    expect((await follow(client(t.app), old)).headers.location).toBe('/signin');
    t.clock.advance(16 * 60_000);
    await askLink(dan.email);
    expect((await mailsTo(dan.email)).length).toBe(3);
  });

  it('an organization shares its tickets with its primary contacts (or every member) once signed in: they read and answer them, not close them', async () => {
    const [orgId] = await t.db('organizations').insert({ name: unique('Shared org '), auto_cc: 'none', portal_share: 'primary', is_active: true, created_at: new Date(), updated_at: new Date() });
    const boss = await buildUser(t.db, { email: `${unique('boss')}@org.example`, name: 'Boss', organization_id: orgId, is_primary_contact: true });
    const worker = await buildUser(t.db, { email: `${unique('worker')}@org.example`, name: 'Worker Bee', organization_id: orgId });
    const outsider = await buildUser(t.db, { email: `${unique('out')}@else.example` });
    const workers = await buildTicket(t.db, { user_id: worker.id, department_id: dept, subject: 'Worker’s printer' });
    const outsiders = await buildTicket(t.db, { user_id: outsider.id, department_id: dept });
    const bossC = await signIn(boss.email);
    expect(await listed(bossC)).toEqual([workers.number]);
    const page = $((await bossC.get('/tickets')).text);
    expect(page(`tr[data-number="${workers.number}"] td[data-label="Opened by"]`).text()).toBe('Worker Bee');
    const ticketPage = $((await bossC.get(`/tickets/${workers.number}`)).text);
    expect(ticketPage('.props').text()).toContain('Worker Bee');
    expect(ticketPage('form.close-ticket').length).toBe(0);
    expect((await bossC.get(`/tickets/${outsiders.number}`)).status).toBe(404);
    // The boss answers: the entry is theirs.
    const reply = await postMultipart(bossC, await multipartAction(bossC, `/tickets/${workers.number}`), { message: 'I will look into it' });
    expect(reply.status).toBe(303);
    expect((await t.db('thread_entries').where({ ticket_id: workers.id }).orderBy('id', 'desc').first()).user_id).toBe(boss.id);
    // Closing is the requester's.
    const close = await submit(bossC, `/tickets/${workers.number}`, `/tickets/${workers.number}/close`, {});
    expect(close.status).toBe(403);
    expect((await t.db('tickets').where({ id: workers.id }).first()).state).toBe('open');
    // The worker (not a primary contact) sees only their own; with 'all' they see the boss’s too.
    const bosses = await buildTicket(t.db, { user_id: boss.id, department_id: dept });
    const workerC = await signIn(worker.email);
    expect(await listed(workerC)).toEqual([workers.number]);
    await t.db('organizations').where({ id: orgId }).update({ portal_share: 'all' });
    expect(await listed(workerC)).toEqual([bosses.number, workers.number].sort());
    // A disabled organization shares nothing; a session opened with email + number sees only that ticket.
    await t.db('organizations').where({ id: orgId }).update({ is_active: false });
    expect(await listed(workerC)).toEqual([workers.number]);
    await t.db('organizations').where({ id: orgId }).update({ is_active: true });
    const viaNumber = client(t.app);
    await openViaStatus(viaNumber, boss.email, bosses.number);
    expect(await listed(viaNumber)).toEqual([bosses.number]);
    expect((await viaNumber.get(`/tickets/${workers.number}`)).status).toBe(404);
  });

  it('opening a ticket while signed in keeps the sign-in', async () => {
    const eve = await buildUser(t.db, { email: `${unique('eve')}@example.com` });
    const earlier = await buildTicket(t.db, { user_id: eve.id, department_id: dept });
    const c = await signIn(eve.email);
    const topicId = (await t.db('help_topics').where({ is_public: true, is_active: true }).first('id')).id;
    const res = await postMultipart(c, await multipartAction(c, '/tickets/new'), { email: eve.email, name: 'Eve', subject: 'Another one', message: 'Hi', topicId: String(topicId) });
    expect(res.status).toBe(303);
    const list = await listed(c);
    expect(list).toContain(earlier.number);
    expect(list.length).toBe(2);
    expect($((await c.get('/signin')).text)('h1 + p').text()).toContain(`You are signed in as`);
  });
});
