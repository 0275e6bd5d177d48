/**
 * Search message text: words in messages, replies and notes (each the start of a word, case and
 * accents ignored, all in one entry), only tickets the agent may see, newest activity first, the
 * entry quoted; short and common words are left out and the page says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDbDate } from '../../src/db/dialect.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent, type Client } from '../support/http.ts';
import { buildAgent, buildDepartment } from '../factories/index.ts';
import { openTicket, addUserMessage } from '../../src/domain/tickets/ticket-service.ts';
import { addInternalNote, replyToTicket } from '../../src/domain/tickets/ticket-agent-service.ts';
import { mergeTicket } from '../../src/domain/tickets/ticket-merge.ts';
import { searchThreadText } from '../../src/domain/tickets/ticket-text-search.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { ANONYMOUS, SYSTEM } from '../../src/domain/actor.ts';

describe('search message text', () => {
  let t: TestApp;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let jane: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  let banking: number;
  const tickets: Record<string, { id: number; number: string }> = {};
  const numbersFor = async (c: Client, q: string) => {
    const page = $((await c.get(`/scp/search?q=${encodeURIComponent(q)}`)).text);
    return page('.search-hit').map((_, li) => page(li).attr('data-ticket')).get();
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Online Banking' });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john' });
    jane = await buildAgent(t.db, { department_id: banking, name: 'Jane', username: 'jane' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
    const open = async (key: string, subject: string, message: string, departmentId = support) => {
      tickets[key] = await openTicket(t.ctx(SYSTEM), { email: `${key}@example.com`, name: key, subject, message, departmentId });
      t.clock.advance(60_000);
    };
    await open('printer', 'Printer offline', 'The printer on floor 3 shows error 0x51 since Monday.');
    await open('cafe', 'Payment app', 'The app crashes at the Café Zoë terminal with code E-4711.');
    await open('vpn', 'VPN', 'Cannot connect.');
    await replyToTicket(t.ctx(john.actor), { ticketId: tickets.vpn.id, message: 'Please reinstall the Anyconnect client, version 5.2.', notifyUser: 'none' });
    t.clock.advance(60_000);
    await addInternalNote(t.ctx(john.actor), { ticketId: tickets.vpn.id, note: 'Known issue with the gateway firmware, ticket VND-889 at the vendor.' });
    t.clock.advance(60_000);
    await open('bank', 'Login fails', 'The banking token shows error 0x51 too.', banking);
  });
  afterAll(async () => t.close());

  it('finds words of messages, replies and notes by their start, case and accents ignored, and quotes the entry', async () => {
    expect(await numbersFor(johnC, 'printer')).toEqual([tickets.printer.number]);
    expect(await numbersFor(johnC, 'ANYCONN')).toEqual([tickets.vpn.number]);
    expect(await numbersFor(johnC, 'firmware vnd')).toEqual([tickets.vpn.number]);
    expect(await numbersFor(johnC, 'cafe zoe')).toEqual([tickets.cafe.number]);
    const page = $((await johnC.get('/scp/search?q=firmware')).text);
    expect(page('.search-hit blockquote').text()).toContain('Internal note by John');
    expect(page('.search-hit mark').text()).toBe('firmware');
    expect(page('.search-hit blockquote').text()).toContain('Known issue with the gateway firmware');
  });

  it('every word must be in one entry; a word in no entry finds nothing, and the page says so', async () => {
    expect(await numbersFor(johnC, 'printer anyconnect')).toEqual([]);
    const none = $((await johnC.get('/scp/search?q=zzzzqq')).text);
    expect(none('.empty').text()).toContain('No ticket you can see');
    expect(none('#s-q').val()).toBe('zzzzqq');
  });

  it('shows only tickets the agent may see: the same words in another department’s ticket are not listed', async () => {
    expect(await numbersFor(johnC, '0x51')).toEqual([tickets.printer.number]);
    const janeC = await loginAsAgent(t.app, jane.username, jane.password);
    expect(await numbersFor(janeC, '0x51')).toEqual([tickets.bank.number]);
    const r = await searchThreadText(t.ctx(SYSTEM), { q: '0x51' });
    expect(r.hits.map((h) => h.number)).toEqual([tickets.bank.number, tickets.printer.number]); // newest activity first
  });

  it('leaves out short and common words and says so; nothing left to search is explained', async () => {
    const page = $((await johnC.get('/scp/search?q=the+printer+on')).text);
    expect(page('.hint').text()).toContain('Not searched for');
    expect(page('.hint').text()).toContain('the, on');
    expect(page('.search-hit').length).toBe(1);
    const nothing = $((await johnC.get('/scp/search?q=on+at')).text);
    expect(nothing('.empty').text()).toContain('use words of 3 characters or more');
    const blank = $((await johnC.get('/scp/search')).text);
    expect(blank('.empty').text()).toContain('Type words from a message');
  });

  it('keeps up with the thread: a new message is found at once; merged entries are found on the ticket they moved to', async () => {
    await addUserMessage(t.ctx({ kind: 'user', id: (await t.db('tickets').where({ id: tickets.cafe.id }).first()).user_id, email: 'cafe@example.com', name: 'cafe' }),
      { ticketId: tickets.cafe.id, message: 'Now also the Kaffeemaschine display.' });
    expect(await numbersFor(johnC, 'kaffeemaschine')).toEqual([tickets.cafe.number]);
    await mergeTicket(t.ctx(john.actor), { ticketId: tickets.cafe.id, target: tickets.printer.number });
    expect(await numbersFor(johnC, 'kaffeemaschine')).toEqual([tickets.printer.number]);
  });

  it('MySQL/MariaDB stop a search that takes too long and the page asks for a rarer word (SQLite has no such limit)', async () => {
    // Enough matching entries that the search runs for milliseconds: the server's timer (1 µs here)
    // then fires while it runs, however fast the machine (with one entry it could finish first).
    const ts = toDbDate(t.clock());
    const filler = Array.from({ length: 3000 }, (_, i) => ({ ticket_id: tickets.printer.id, kind: 'note', poster_name: 'Filler', body: `printer filler note ${i}`, source: 'web', created_at: ts }));
    for (let i = 0; i < filler.length; i += 500) await t.db('thread_entries').insert(filler.slice(i, i + 500));
    try {
      const r = await searchThreadText(t.ctx(SYSTEM), { q: 'printer' }, { limitSeconds: 0.000001 });
      if (t.config.database.client === 'mysql') expect([r.tooCommon, r.hits.length]).toEqual([true, 0]);
      else expect([r.tooCommon, r.hits.map((h) => h.number)]).toEqual([false, [tickets.printer.number]]);
      expect((await searchThreadText(t.ctx(SYSTEM), { q: 'printer' })).tooCommon).toBe(false);
    } finally {
      await t.db('thread_entries').where({ ticket_id: tickets.printer.id, poster_name: 'Filler' }).delete();
    }
  });

  it('pages the results; the queue search offers it; a signed-out visitor is sent to sign in (the permission matrix: every actor)', async () => {
    await writeSettings(t.db, { page_size: 10 }, t.clock());
    for (let i = 0; i < 12; i++) await openTicket(t.ctx(ANONYMOUS), { email: `bulk${i}@example.com`, name: 'Bulk', subject: `Bulk ${i}`, message: `Toner cartridge number ${i} is empty.` });
    const first = $((await johnC.get('/scp/search?q=toner')).text);
    expect(first('.search-hit').length).toBe(10);
    expect(first('.pagination').text()).toContain('Page 1 of 2');
    const second = $((await johnC.get(String(first('a[rel=next]').attr('href')))).text);
    expect(second('.search-hit').length).toBe(2);
    await writeSettings(t.db, { page_size: 25 }, t.clock());

    const queue = $((await johnC.get('/scp/tickets?q=anyconnect')).text);
    expect(queue('button[formaction="/scp/search"]').length).toBe(1);
    expect(queue('.search-hint a').attr('href')).toBe('/scp/search?q=anyconnect');
    const anon = await client(t.app).get('/scp/search?q=printer');
    expect(anon.status).toBe(303);
    expect(anon.headers.location).toMatch(/^\/scp\/login/);
  });
});
