/**
 * Deleting tickets: the confirmation page, the delete itself (every dependent row gone, other tickets
 * untouched, the requester kept, its mail kept in the mail log without its ticket and its text, waiting
 * mail cancelled, an audit row), the ban
 * option, who may (admins; agents whose role allows it, only tickets they see; API keys that manage
 * tickets), tickets merged into a deleted one, the bulk delete with its confirmation step, CSRF.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANONYMOUS, SYSTEM } from '../../src/domain/actor.ts';
import { createApiKey } from '../../src/domain/api-keys/api-key-service.ts';
import { createAccessToken } from '../../src/domain/auth/access-tokens.ts';
import { processInboundMail } from '../../src/domain/mail/inbound-service.ts';
import { claimMessage, dueMessageIds, recoverStuckMessages, SENDING_TIMEOUT_MS } from '../../src/domain/mail/outbox-delivery.ts';
import { getSettings, writeSettings } from '../../src/domain/settings/settings-service.ts';
import { getSettingsForm } from '../../src/domain/settings/settings-admin-service.ts';
import { addCollaborator } from '../../src/domain/tickets/ticket-collaborators.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { indexAllPending } from '../../src/domain/tickets/ticket-search-index.ts';
import { addTask } from '../../src/domain/tickets/ticket-tasks.ts';
import { isBanned } from '../../src/domain/users/user-service.ts';
import { toDbDate } from '../../src/db/dialect.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, buildUser, roleIdOf } from '../factories/index.ts';
import { $, client, csrfFrom, loginAsAgent, ticketAction, type Client } from '../support/http.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

describe('deleting tickets', () => {
  let t: TestApp;
  let support: number;
  let banking: number;
  let admin: Awaited<ReturnType<typeof buildAdmin>>;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let adminC: Client;
  let johnC: Client;
  let janeC: Client;
  let fieldId: number;
  let manageKey: string;
  let createKey: string;

  /** A ticket with a row in every table that holds ticket rows (opened as the portal does, then worked on). */
  async function richTicket(email: string, subject: string): Promise<{ id: number; number: string; fileIds: number[] }> {
    const opened = await openTicket(t.ctx(ANONYMOUS), { email, name: email.split('@')[0], subject, message: `Details about ${subject}.` },
      [{ filename: 'log.txt', contentType: 'text/plain', data: Buffer.from(`log of ${subject}`) }]);
    await addCollaborator(t.ctx(admin.actor), { ticketId: opened.id, email: `cc-${email}` });
    await addTask(t.ctx(admin.actor), { ticketId: opened.id, title: 'Check the logs' });
    await t.db('ticket_field_values').insert({ ticket_id: opened.id, field_id: fieldId, value: 'AT-1' });
    await createAccessToken(t.db, { kind: 'portal_access', userId: (await t.db('tickets').where({ id: opened.id }).first()).user_id, ticketId: opened.id, ttlMinutes: 60 }, t.clock());
    // A reply by mail (an inbound log row and an entry), the search words, a lock (an agent opened the page).
    const mail = `From: ${email}\r\nTo: support@helpdesk.test\r\nSubject: Re: [#${opened.number}] ${subject}\r\nMessage-ID: <${opened.number}.reply@example.com>\r\n\r\nStill broken.\r\n`;
    expect(await processInboundMail(t.ctx(), Buffer.from(mail), 'pipe')).toMatchObject({ outcome: 'threaded', ticketId: opened.id });
    await indexAllPending(t.db);
    await adminC.get(`/scp/tickets/${opened.id}`);
    // One mail went out already (it stays in the mail log); the others still wait in the outbox.
    const first = await t.db('outbox').where({ ticket_id: opened.id }).orderBy('id').first('id');
    await t.db('outbox').where({ id: first.id }).update({ status: 'sent', sent_at: toDbDate(t.clock()) });
    const fileIds = (await t.db('attachments').where({ ticket_id: opened.id }).pluck('file_id')).map(Number);
    return { id: opened.id, number: opened.number, fileIds };
  }

  const TICKET_TABLES = ['thread_entries', 'attachments', 'ticket_events', 'ticket_collaborators', 'ticket_tasks', 'ticket_field_values', 'ticket_search_words', 'ticket_locks', 'access_tokens', 'outbox', 'inbound_messages'] as const;
  /** How many rows each table holds for the ticket, its files and their contents included. */
  async function rowsOf(ticket: { id: number; fileIds?: number[] }) {
    const out: Record<string, number> = {};
    for (const table of TICKET_TABLES) out[table] = Number((await t.db(table).where({ ticket_id: ticket.id }).count({ n: '*' }).first())!.n);
    const fileIds = ticket.fileIds ?? [];
    out.files = Number((await t.db('files').whereIn('id', fileIds.length ? fileIds : [0]).count({ n: '*' }).first())!.n);
    out.file_contents = Number((await t.db('file_contents').whereIn('file_id', fileIds.length ? fileIds : [0]).count({ n: '*' }).first())!.n);
    out.tickets = Number((await t.db('tickets').where({ id: ticket.id }).count({ n: '*' }).first())!.n);
    return out;
  }
  /** Everything of a ticket, row by row (to prove a delete of another ticket left it exactly as it was). */
  async function snapshot(ticket: { id: number; fileIds: number[] }) {
    const rows: Record<string, unknown> = {};
    for (const table of TICKET_TABLES) rows[table] = await t.db(table).where({ ticket_id: ticket.id }).orderBy(table === 'ticket_locks' ? 'ticket_id' : table === 'ticket_field_values' ? 'field_id' : table === 'ticket_collaborators' ? 'user_id' : table === 'ticket_search_words' ? 'word' : 'id').select('*');
    rows.tickets = await t.db('tickets').where({ id: ticket.id }).first();
    rows.files = await t.db('files').whereIn('id', ticket.fileIds).orderBy('id');
    rows.contents = (await t.db('file_contents').whereIn('file_id', ticket.fileIds).orderBy('file_id')).map((r: any) => Buffer.from(r.data).toString());
    return rows;
  }
  const postForm = async (c: Client, page: string, action: string, data: Record<string, string | string[]> = {}) =>
    c.post(action).type('form').send({ _csrf: await csrfFrom(c, page), ...data });
  const flashAfter = async (c: Client, location: string) => {
    const page = $((await c.get(location)).text);
    return page('.flash').map((_, f) => page(f).text().trim()).get().join(' | ');
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    banking = await buildDepartment(t.db, { name: 'Online Banking' });
    admin = await buildAdmin(t.db, { department_id: support, name: 'Ada Admin', username: 'ada' });
    john = await buildAgent(t.db, { department_id: support, name: 'John', username: 'john', email: 'john@agents.test' });
    const jane = await buildAgent(t.db, { department_id: banking, name: 'Jane', username: 'jane' });
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
    johnC = await loginAsAgent(t.app, john.username, john.password);
    janeC = await loginAsAgent(t.app, jane.username, jane.password);
    await writeSettings(t.db, { inbound_address: 'support@helpdesk.test' }, t.clock());
    const ts = toDbDate(t.clock());
    [fieldId] = await t.db('ticket_fields').insert({ label: 'Asset tag', name: 'asset', type: 'text', created_at: ts, updated_at: ts });
    await writeSettings(t.db, { fields_version: 'delete-test' }, t.clock());
    manageKey = (await createApiKey(t.ctx(SYSTEM), { allowedIp: '*', note: 'manage', canCreateTickets: false, canManageTickets: true })).key;
    createKey = (await createApiKey(t.ctx(SYSTEM), { allowedIp: '*', note: 'create', canCreateTickets: true, canManageTickets: false })).key;
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
    // Agents get "Expanded access" (everything but delete); a test that lets John delete gives him "All access".
    await t.db('agents').where('role', 'agent').update({ role_id: await roleIdOf(t.db, 'Expanded access') });
  });
  const johnMayDelete = async () => t.db('agents').where({ id: john.id }).update({ role_id: await roleIdOf(t.db, 'All access') });

  it('the confirmation page says what goes: number, subject, requester, thread entries and files', async () => {
    const a = await richTicket('pat@example.com', 'Printer offline');
    const res = await adminC.get(`/scp/tickets/${a.id}/delete`);
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('h1').text()).toContain(`#${a.number}`);
    expect(page('[data-field=subject]').text()).toBe('Printer offline');
    expect(page('[data-field=requester]').text()).toContain('pat@example.com');
    const entries = Number((await t.db('thread_entries').where({ ticket_id: a.id }).count({ n: '*' }).first())!.n);
    expect(entries).toBe(2);
    expect(page('[data-count=entries]').text()).toMatch(/^2 thread entries/);
    expect(page('[data-count=files]').text()).toMatch(/^1 file attached/);
    expect(page('[data-count=ccs]').text()).toMatch(/^1 CC/);
    expect(page('[data-count=tasks]').text()).toMatch(/^1 task/);
    expect(page(`form[action="/scp/tickets/${a.id}/delete"] input[name=ban]`).attr('disabled')).toBeUndefined();
    // Nothing changed by looking.
    expect((await rowsOf(a)).tickets).toBe(1);
  });

  it('an admin deletes a ticket: every row of it goes, another ticket is untouched, the requester stays, sent mail stays without it, an audit row records it, nobody is mailed', async () => {
    const a = await richTicket('sam@example.com', 'VPN drops');
    const b = await richTicket('kim@example.com', 'VPN drops too');
    const before = await rowsOf(a);
    // Every table holds something of it, so each check below could fail.
    for (const [table, n] of Object.entries(before)) expect(n, table).toBeGreaterThan(0);
    const other = await snapshot(b);
    const sent = await t.db('outbox').where({ ticket_id: a.id, status: 'sent' }).first('id');
    const inbound = await t.db('inbound_messages').where({ ticket_id: a.id }).first('id');
    const lastMail = (await t.db('outbox').max({ id: 'id' }).first())!.id;
    const userId = (await t.db('tickets').where({ id: a.id }).first()).user_id;

    const res = await postForm(adminC, `/scp/tickets/${a.id}/delete`, `/scp/tickets/${a.id}/delete`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/scp/tickets');
    expect(await flashAfter(adminC, res.headers.location)).toContain(`Ticket #${a.number} deleted.`);

    const after = await rowsOf(a);
    expect(after).toEqual(Object.fromEntries(Object.keys(before).map((k) => [k, 0])));
    expect(await snapshot(b)).toEqual(other);
    // Mail already sent keeps its history, without the ticket; so does the inbound mail log (de-duplication).
    expect(await t.db('outbox').where({ id: sent.id }).first()).toMatchObject({ status: 'sent', ticket_id: null });
    expect(await t.db('inbound_messages').where({ id: inbound.id }).first()).toMatchObject({ ticket_id: null, entry_id: null });
    expect((await t.db('outbox').max({ id: 'id' }).first())!.id).toBe(lastMail);
    expect(await t.db('users').where({ id: userId }).first()).toMatchObject({ email: 'sam@example.com' });
    const audit = await t.db('audit_log').where({ action: 'ticket.delete', entity_id: a.id }).first();
    expect(audit).toMatchObject({ actor_kind: 'agent', agent_id: admin.id, entity: 'ticket' });
    expect(JSON.parse(audit.before)).toMatchObject({
      number: a.number, subject: 'VPN drops', requester: { email: 'sam@example.com' }, department: 'Support',
      counts: { entries: before.thread_entries, files: before.attachments, events: before.ticket_events, ccs: 1, tasks: 1, fieldAnswers: 1 },
    });
    expect((await adminC.get(`/scp/tickets/${a.id}`)).status).toBe(404);
    // The thread's text search no longer finds it; the other ticket still is found.
    const found = $((await adminC.get('/scp/search?q=broken')).text);
    expect(found(`a[href="/scp/tickets/${a.id}"]`).length).toBe(0);
    expect(found(`a[href="/scp/tickets/${b.id}"]`).length).toBeGreaterThan(0);
  });

  it('its mail stays in the mail log as the delivery trail without its text: sent, failed and in-flight rows redacted, waiting ones cancelled, none ever sent again', async () => {
    const a = await richTicket('dp@example.com', 'Divorce papers for Jane Roe');
    const mail = () => t.db('outbox').whereIn('id', ids).orderBy('id');
    const ids: number[] = await t.db('outbox').where({ ticket_id: a.id }).orderBy('id').pluck('id');
    expect(ids.length).toBeGreaterThanOrEqual(4);
    // The first went out (richTicket); one failed for good; one is being sent right now; the rest wait.
    const [sent, failed, sending] = ids;
    await t.db('outbox').where({ id: failed }).update({ status: 'failed', attempts: 8, last_error: '550 mailbox unavailable' });
    await t.db('outbox').where({ id: sending }).update({ status: 'sending', locked_by: 'worker-x', locked_at: toDbDate(t.clock()), attempts: 1 });
    const before = await mail();
    expect(before.some((r) => /Divorce/.test(`${r.subject} ${r.text_body} ${r.html_body}`))).toBe(true);
    const trail = (r: any) => ({ id: r.id, template: r.template, to_address: r.to_address, to_name: r.to_name, message_id: r.message_id, attempts: r.attempts, created_at: r.created_at, sent_at: r.sent_at });

    expect((await postForm(adminC, `/scp/tickets/${a.id}/delete`, `/scp/tickets/${a.id}/delete`)).status).toBe(303);
    const after = await mail();
    // Every row stays, with who it was for, when, its Message-ID and attempts…
    expect(after.map(trail)).toEqual(before.map(trail));
    // …but not what it said: the subject keeps only the ticket's number, the bodies are gone.
    for (const r of after) {
      expect(r).toMatchObject({ ticket_id: null, subject: `[#${a.number}] (removed: the ticket was deleted)`, html_body: null, text_body: `(The text of this message was removed when ticket #${a.number} was deleted.)` });
      expect(r.redacted_at).toBeTruthy();
    }
    expect(await t.db('outbox').where('subject', 'like', '%Divorce%').orWhere('text_body', 'like', '%Divorce%').orWhere('html_body', 'like', '%Divorce%').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(await t.db('inbound_messages').where({ message_id: `<${a.number}.reply@example.com>` }).first()).toMatchObject({ ticket_id: null, subject: null });
    // Statuses: what went out, failed or is in flight stays as it was; what waited is cancelled.
    const status = Object.fromEntries(after.map((r) => [r.id, r.status]));
    expect([status[sent], status[failed], status[sending]]).toEqual(['sent', 'failed', 'sending']);
    for (const id of ids.slice(3)) {
      expect(status[id]).toBe('discarded');
      expect(after.find((r) => r.id === id).last_error).toBe(`Cancelled: ticket #${a.number} was deleted before this was sent`);
    }
    expect(after.find((r) => r.id === failed).last_error).toBe('550 mailbox unavailable');
    // None of it is ever sent: nothing is due; the in-flight one, should its worker die, is discarded (not queued again)…
    const due = await dueMessageIds(t.db, new Date(t.clock().getTime() + 365 * 24 * 3600_000), 10_000);
    expect(due.filter((x) => ids.includes(x))).toEqual([]);
    await recoverStuckMessages(t.db, new Date(t.clock().getTime() + SENDING_TIMEOUT_MS + 1000));
    expect((await t.db('outbox').where({ id: sending }).first()).status).toBe('discarded');
    // …and the admin cannot send one again: the page offers no button, and the POST is refused.
    const page = $((await adminC.get(`/scp/admin/mail/${failed}`)).text);
    expect(page('#redacted').text()).toMatch(/When its ticket was deleted/);
    expect(page(`form[action="/scp/admin/mail/${failed}/retry"]`).length).toBe(0);
    expect((await postForm(adminC, `/scp/admin/mail/${failed}`, `/scp/admin/mail/${failed}/retry`)).status).toBe(409);
    expect((await t.db('outbox').where({ id: failed }).first()).status).toBe('failed');
  });

  it('the worker discards, never sends, a message whose text was removed between its claim and its read (a claim racing the deletion)', async () => {
    const a = await richTicket('race@example.com', 'Race');
    const id = (await t.db('outbox').where({ ticket_id: a.id, status: 'queued' }).first('id')).id;
    // The state that race leaves for the read: redacted, yet taken by the claim's UPDATE.
    await t.db('outbox').where({ id }).update({ redacted_at: toDbDate(t.clock()), text_body: '(removed)' });
    expect(await claimMessage(t.db, id, 'worker-y', t.clock())).toBeNull();
    expect(await t.db('outbox').where({ id }).first()).toMatchObject({ status: 'discarded', locked_by: null });
  });

  it('an agent whose role does not allow deleting is refused (403) and nothing is deleted; the page and the queue offer no Delete', async () => {
    const a = await richTicket('lee@example.com', 'Monitor flickers');
    const before = await rowsOf(a);
    expect((await johnC.get(`/scp/tickets/${a.id}/delete`)).status).toBe(403);
    expect((await postForm(johnC, '/scp/tickets', `/scp/tickets/${a.id}/delete`)).status).toBe(403);
    expect(await rowsOf(a)).toEqual(before);
    expect($((await johnC.get(`/scp/tickets/${a.id}`)).text)(`a[href="/scp/tickets/${a.id}/delete"]`).length).toBe(0);
    expect($((await johnC.get('/scp/tickets')).text)('#bulk-do option[value=delete]').length).toBe(0);
    // An admin is offered both.
    expect($((await adminC.get(`/scp/tickets/${a.id}`)).text)(`a[href="/scp/tickets/${a.id}/delete"]`).length).toBe(1);
    expect($((await adminC.get('/scp/tickets')).text)('#bulk-do option[value=delete]').length).toBe(1);
  });

  it('an agent whose role allows deleting deletes the tickets they can see, and gets 404 for the others (nothing deleted)', async () => {
    await johnMayDelete();
    const own = await buildTicket(t.db, { department_id: support });
    const foreign = await buildTicket(t.db, { department_id: banking });
    expect($((await johnC.get(`/scp/tickets/${own.id}`)).text)(`a[href="/scp/tickets/${own.id}/delete"]`).length).toBe(1);
    expect((await johnC.get(`/scp/tickets/${foreign.id}/delete`)).status).toBe(404);
    expect((await postForm(johnC, '/scp/tickets', `/scp/tickets/${foreign.id}/delete`)).status).toBe(404);
    expect((await postForm(janeC, '/scp/tickets', `/scp/tickets/${own.id}/delete`)).status).toBe(404);
    expect(await t.db('tickets').whereIn('id', [own.id, foreign.id]).count({ n: '*' }).first()).toMatchObject({ n: 2 });
    const res = await postForm(johnC, `/scp/tickets/${own.id}/delete`, `/scp/tickets/${own.id}/delete`);
    expect(res.status).toBe(303);
    expect(await t.db('tickets').where({ id: own.id }).first()).toBeUndefined();
    expect(await t.db('audit_log').where({ action: 'ticket.delete', entity_id: own.id }).first()).toMatchObject({ agent_id: john.id });
  });

  it('the retired setting “Agents may delete tickets” is gone from the settings form, and an old stored value lets nobody delete', async () => {
    expect($((await adminC.get('/scp/admin/settings')).text)('input[name=agents_may_delete_tickets]').length).toBe(0);
    await t.db('settings').insert({ key: 'agents_may_delete_tickets', value: 'true', updated_at: toDbDate(t.clock()) });
    try {
      const a = await buildTicket(t.db, { department_id: support });
      expect((await postForm(johnC, '/scp/tickets', `/scp/tickets/${a.id}/delete`)).status).toBe(403);
      expect(await t.db('tickets').where({ id: a.id }).first()).toBeDefined();
      // The settings form still saves (the old row is ignored).
      const values = Object.fromEntries(Object.entries(await getSettingsForm(t.ctx(admin.actor))).filter(([, v]) => v !== false && v !== null).map(([k, v]) => [k, v === true ? 'on' : String(v)]));
      expect((await postForm(adminC, '/scp/admin/settings', '/scp/admin/settings', values)).status).toBe(303);
      expect(await getSettings(t.db)).not.toHaveProperty('agents_may_delete_tickets');
    } finally {
      await t.db('settings').where({ key: 'agents_may_delete_tickets' }).delete();
    }
  });

  it('“Also ban the requester’s address” puts it on the ban list; the address cannot write again', async () => {
    const a = await buildTicket(t.db, { department_id: support, user_id: (await buildUser(t.db, { email: 'spammer@spam.test' })).id });
    const res = await postForm(adminC, `/scp/tickets/${a.id}/delete`, `/scp/tickets/${a.id}/delete`, { ban: 'on' });
    expect(res.status).toBe(303);
    expect(await flashAfter(adminC, res.headers.location)).toContain('on the ban list');
    expect(await t.db('tickets').where({ id: a.id }).first()).toBeUndefined();
    expect(await t.db('bans').where({ pattern: 'spammer@spam.test' }).first()).toBeDefined();
    expect(await t.db('audit_log').where({ action: 'ban.create' }).orderBy('id', 'desc').first()).toMatchObject({ agent_id: admin.id });
    expect(await isBanned(t.db, 'spammer@spam.test')).toBe(true);
    await expect(openTicket(t.ctx(ANONYMOUS), { email: 'spammer@spam.test', name: 'S', subject: 'Again', message: 'Buy now' })).rejects.toMatchObject({ code: 'USER_BANNED' });
  });

  it('the ban is refused for an agent’s address and the help desk’s own (422, nothing deleted); an address banned already is said so', async () => {
    for (const email of ['john@agents.test', 'support@helpdesk.test']) {
      const user = (await t.db('users').where({ email }).first()) ?? (await buildUser(t.db, { email }));
      const a = await buildTicket(t.db, { department_id: support, user_id: user.id });
      const page = $((await adminC.get(`/scp/tickets/${a.id}/delete`)).text);
      expect(page('input[name=ban]').attr('disabled'), email).toBeDefined();
      expect(page('[data-ban=refused]').text(), email).toMatch(/cannot be banned/);
      const res = await postForm(adminC, `/scp/tickets/${a.id}/delete`, `/scp/tickets/${a.id}/delete`, { ban: 'on' });
      expect(res.status, email).toBe(422);
      expect($(res.text)('#e-ban').text(), email).toMatch(/cannot be banned/);
      expect(await t.db('tickets').where({ id: a.id }).first(), email).toBeDefined();
      expect(await t.db('bans').where({ pattern: email }).first(), email).toBeUndefined();
    }
    await t.db('bans').insert({ pattern: '@junk.test', created_at: toDbDate(t.clock()) });
    const junk = await buildTicket(t.db, { department_id: support, user_id: (await buildUser(t.db, { email: 'bot@junk.test' })).id });
    expect($((await adminC.get(`/scp/tickets/${junk.id}/delete`)).text)('[data-ban=already]').text()).toContain('bot@junk.test');
    const bans = Number((await t.db('bans').count({ n: '*' }).first())!.n);
    expect((await postForm(adminC, `/scp/tickets/${junk.id}/delete`, `/scp/tickets/${junk.id}/delete`, { ban: 'on' })).status).toBe(303);
    expect(Number((await t.db('bans').count({ n: '*' }).first())!.n)).toBe(bans);
  });

  it('a ticket others were merged into: they stay readable, closed, with their history, the link gone (or passed on to where it was merged)', async () => {
    const target = await richTicket('ana@example.com', 'Mail bounces');
    const dup = await openTicket(t.ctx(ANONYMOUS), { email: 'bob@example.com', name: 'Bob', subject: 'Mails bounce', message: 'Same.' });
    expect((await ticketAction(adminC, dup.id, 'merge', { target: target.number })).status).toBe(303);
    const page = $((await adminC.get(`/scp/tickets/${target.id}/delete`)).text);
    expect(page('.merged-from').text()).toContain(`#${dup.number}`);
    expect(page('[data-count=entries]').text()).toMatch(/^3 thread entries/);

    expect((await postForm(adminC, `/scp/tickets/${target.id}/delete`, `/scp/tickets/${target.id}/delete`)).status).toBe(303);
    expect(await t.db('tickets').where({ id: dup.id }).first()).toMatchObject({ merged_into_id: null, status: 'closed' });
    const shown = $((await adminC.get(`/scp/tickets/${dup.id}`)).text);
    expect(shown('.merged-notice').length).toBe(0);
    const history = shown('.events li').map((_, li) => shown(li).text()).get().join('\n');
    expect(history).toContain(`Merged into #${target.number}`);
    expect(history).toContain(`#${target.number}, the ticket this one was merged into, was deleted`);
    expect(JSON.parse((await t.db('audit_log').where({ action: 'ticket.delete', entity_id: target.id }).first()).before).mergedFrom).toEqual([dup.number]);
    // The duplicate's requester still reads it on the portal (a link of their own).
    const token = await createAccessToken(t.db, { kind: 'portal_access', userId: (await t.db('tickets').where({ id: dup.id }).first()).user_id, ticketId: dup.id, ttlMinutes: 60 }, t.clock());
    const portal = client(t.app);
    const landed = await portal.get(`/tickets/access?token=${encodeURIComponent(token)}`);
    expect((await portal.get(landed.headers.location)).status).toBe(200);

    // A chain: a → b → c; deleting b passes a on to c.
    const [a, b, c] = [await buildTicket(t.db, { department_id: support }), await buildTicket(t.db, { department_id: support }), await buildTicket(t.db, { department_id: support })];
    expect((await ticketAction(adminC, a.id, 'merge', { target: b.number })).status).toBe(303);
    expect((await ticketAction(adminC, b.id, 'merge', { target: c.number })).status).toBe(303);
    expect((await postForm(adminC, `/scp/tickets/${b.id}/delete`, `/scp/tickets/${b.id}/delete`)).status).toBe(303);
    expect(await t.db('tickets').where({ id: a.id }).first()).toMatchObject({ merged_into_id: c.id });
    expect(await t.db('tickets').where({ id: c.id }).first()).toBeDefined();
  });

  it('bulk: Delete asks first on a page listing the ticked tickets; then deletes those allowed and names the others', async () => {
    await johnMayDelete();
    const x = await buildTicket(t.db, { department_id: support });
    const y = await buildTicket(t.db, { department_id: support });
    const foreign = await buildTicket(t.db, { department_id: banking });
    const agentsOwn = await buildTicket(t.db, { department_id: support, user_id: (await t.db('users').where({ email: 'john@agents.test' }).first()).id });
    const ids = [x.id, y.id, foreign.id].map(String);
    const asked = await postForm(johnC, '/scp/tickets', '/scp/tickets/bulk', { ids, do: 'delete', back: '/scp/tickets?queue=open' });
    expect(asked.status).toBe(303);
    expect(asked.headers.location).toMatch(/^\/scp\/tickets\/delete\?/);
    expect(await t.db('tickets').whereIn('id', [x.id, y.id, foreign.id]).count({ n: '*' }).first()).toMatchObject({ n: 3 });
    const confirm = $((await johnC.get(asked.headers.location)).text);
    expect(confirm('h1').text()).toBe('Delete 2 tickets?');
    expect(confirm('form input[name=ids]').map((_, i) => confirm(i).val()).get()).toEqual([String(x.id), String(y.id)]);
    expect(confirm(`[data-skipped="${foreign.id}"]`).text()).toContain('not found');
    expect(confirm('form input[name=back]').val()).toBe('/scp/tickets?queue=open');

    // Confirmed (the foreign one sent anyway, as a hand-made request would): it is skipped, the rest deleted.
    const res = await postForm(johnC, '/scp/tickets', '/scp/tickets/bulk', { ids, do: 'delete', confirm: 'yes', back: '/scp/tickets?queue=open' });
    expect(res.headers.location).toBe('/scp/tickets?queue=open');
    const flash = await flashAfter(johnC, res.headers.location);
    expect(flash).toContain('2 tickets deleted.');
    expect(flash).toContain('Not deleted: 1 ticket not found');
    expect(await t.db('tickets').whereIn('id', [x.id, y.id]).first()).toBeUndefined();
    expect(await t.db('tickets').where({ id: foreign.id }).first()).toBeDefined();
    expect(await t.db('audit_log').where({ action: 'ticket.delete' }).whereIn('entity_id', [x.id, y.id]).count({ n: '*' }).first()).toMatchObject({ n: 2 });

    // With the ban: a requester who cannot be banned (an agent) keeps their ticket, named with the reason.
    const spam = await buildTicket(t.db, { department_id: support, user_id: (await buildUser(t.db, { email: 'bulk@spam.test' })).id });
    const banned = await postForm(johnC, '/scp/tickets', '/scp/tickets/bulk', { ids: [String(spam.id), String(agentsOwn.id)], do: 'delete', confirm: 'yes', ban: 'on' });
    const bannedFlash = await flashAfter(johnC, banned.headers.location);
    expect(bannedFlash).toContain('1 ticket deleted.');
    expect(bannedFlash).toContain(`#${agentsOwn.number} (That is an agent’s address: it cannot be banned)`);
    expect(await t.db('tickets').where({ id: spam.id }).first()).toBeUndefined();
    expect(await t.db('tickets').where({ id: agentsOwn.id }).first()).toBeDefined();
    expect(await isBanned(t.db, 'bulk@spam.test')).toBe(true);
  });

  it('bulk by an agent whose role does not allow deleting: the confirmation page is refused (403) and a confirmed post deletes nothing', async () => {
    const x = await buildTicket(t.db, { department_id: support });
    expect((await johnC.get(`/scp/tickets/delete?ids=${x.id}`)).status).toBe(403);
    const res = await postForm(johnC, '/scp/tickets', '/scp/tickets/bulk', { ids: [String(x.id)], do: 'delete', confirm: 'yes' });
    expect(await flashAfter(johnC, res.headers.location)).toContain(`Not deleted: #${x.number} (Your role “Expanded access” does not allow you to delete tickets in this department`);
    expect(await t.db('tickets').where({ id: x.id }).first()).toBeDefined();
  });

  it('refuses a POST without the CSRF token (403), nothing deleted', async () => {
    const x = await buildTicket(t.db, { department_id: support });
    expect((await adminC.post(`/scp/tickets/${x.id}/delete`).type('form').send({})).status).toBe(403);
    expect((await adminC.post('/scp/tickets/bulk').type('form').send({ ids: String(x.id), do: 'delete', confirm: 'yes' })).status).toBe(403);
    expect(await t.db('tickets').where({ id: x.id }).first()).toBeDefined();
  });

  it('API: DELETE /api/v1/tickets/:number by a key that manages tickets; refused without the permission or a key; 404 for an unknown number', async () => {
    const a = await richTicket('api@example.com', 'Printer jam');
    const before = await rowsOf(a);
    expect((await request(t.app).delete(`/api/v1/tickets/${a.number}`).set('X-API-Key', createKey)).status).toBe(403);
    expect((await request(t.app).delete(`/api/v1/tickets/${a.number}`)).status).toBe(401);
    expect((await request(t.app).delete(`/api/v1/tickets/${a.number}?ban=maybe`).set('X-API-Key', manageKey)).status).toBe(422);
    expect(await rowsOf(a)).toEqual(before);
    const res = await request(t.app).delete(`/api/v1/tickets/${a.number}?ban=true`).set('X-API-Key', manageKey);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ number: a.number, deleted: true, counts: { entries: 2, files: 1, events: before.ticket_events, ccs: 1, tasks: 1, fieldAnswers: 1 }, mergedFrom: [], ban: 'added' });
    expect((await rowsOf(a)).tickets).toBe(0);
    expect(await isBanned(t.db, 'api@example.com')).toBe(true);
    const audit = await t.db('audit_log').where({ action: 'ticket.delete', entity_id: a.id }).first();
    expect(audit).toMatchObject({ actor_kind: 'api', agent_id: null });
    expect(JSON.parse(audit.after)).toMatchObject({ apiKeyId: expect.any(Number) });
    const again = await request(t.app).delete(`/api/v1/tickets/${a.number}`).set('X-API-Key', manageKey);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('TICKET_NOT_FOUND');
  });
});
