/** Editing thread entries: an agent's own replies and notes, an admin's redaction of a requester's message, the history. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent, submit } from '../support/http.ts';
import { buildAdmin, buildAgent, unique } from '../factories/index.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { addInternalNote, replyToTicket } from '../../src/domain/tickets/ticket-agent-service.ts';
import { editThreadEntry } from '../../src/domain/tickets/ticket-entry-edit.ts';
import { searchThreadText } from '../../src/domain/tickets/ticket-text-search.ts';
import { deleteTicket } from '../../src/domain/tickets/ticket-delete.ts';
import { openViaStatus } from './portal-support.ts';

describe('editing thread entries', () => {
  let t: TestApp;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let mary: Awaited<ReturnType<typeof buildAgent>>;
  let admin: Awaited<ReturnType<typeof buildAdmin>>;
  const entry = (id: number) => t.db('thread_entries').where({ id }).first();
  const revisions = (id: number) => t.db('thread_entry_revisions').where({ entry_id: id }).orderBy('id').pluck('body');
  const open = async () => {
    const email = `${unique('req')}@example.test`;
    return { ...(await openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat', subject: 'Card declined', message: 'My card 4111 1111 1111 1111 is declined' })), email };
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    const support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    john = await buildAgent(t.db, { department_id: support, name: 'John' });
    mary = await buildAgent(t.db, { department_id: support, name: 'Mary' });
    admin = await buildAdmin(t.db, { name: 'Ada' });
  });
  afterAll(async () => t.close());

  it('an agent corrects their own note; the earlier text is kept and listed; the thread says edited; the history records it', async () => {
    const o = await open();
    const { entryId } = await addInternalNote(t.ctx(john.actor), { ticketId: o.id, note: 'Procesor is down' });
    const c = await loginAsAgent(t.app, john.username, john.password);
    const page = $((await c.get(`/scp/tickets/${o.id}`)).text);
    expect(page(`#entry-${entryId} a:contains("Edit")`).attr('href')).toBe(`/scp/tickets/${o.id}/entries/${entryId}/edit`);
    // The requester's message is not John's to edit.
    const message = await t.db('thread_entries').where({ ticket_id: o.id, kind: 'message' }).first('id');
    expect(page(`#entry-${message.id} a:contains("Edit")`).length).toBe(0);

    const editor = $((await c.get(`/scp/tickets/${o.id}/entries/${entryId}/edit`)).text);
    expect(editor('textarea[name=body]').val()).toBe('Procesor is down');
    expect(editor('[data-revisions=none]').length).toBe(1);
    t.clock.set('2026-03-02T10:05:00Z');
    const r = await submit(c, `/scp/tickets/${o.id}/entries/${entryId}/edit`, `/scp/tickets/${o.id}/entries/${entryId}/edit`, { body: 'Processor is down' });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe(`/scp/tickets/${o.id}#entry-${entryId}`);
    expect((await entry(entryId)).body).toBe('Processor is down');
    expect(await revisions(entryId)).toEqual(['Procesor is down']);

    const after = $((await c.get(`/scp/tickets/${o.id}`)).text);
    expect(after(`#entry-${entryId} .body`).text()).toBe('Processor is down');
    expect(after(`#entry-${entryId} a:contains("edited")`).length).toBe(1);
    expect(after('body').text()).toContain('An internal note was edited');
    const history = $((await c.get(`/scp/tickets/${o.id}/entries/${entryId}/edit`)).text);
    expect(history('[data-revision]').text()).toContain('Procesor is down');
    expect(history('[data-revision]').text()).toContain('John');
  });

  it('another agent may read the history but not edit; bad input keeps the text; a stale editor does not overwrite', async () => {
    const o = await open();
    const { entryId } = await replyToTicket(t.ctx(john.actor), { ticketId: o.id, message: 'We are on it' });
    const m = await loginAsAgent(t.app, mary.username, mary.password);
    const view = $((await m.get(`/scp/tickets/${o.id}/entries/${entryId}/edit`)).text);
    expect(view('form.entry-edit-form').length).toBe(0);
    expect(view('.entry-body').first().text()).toBe('We are on it');
    const refused = await submit(m, `/scp/tickets/${o.id}`, `/scp/tickets/${o.id}/entries/${entryId}/edit`, { body: 'Mary was here' });
    expect(refused.status).toBe(403);
    await expect(editThreadEntry(t.ctx(mary.actor), { ticketId: o.id, entryId, body: 'Mary was here' })).rejects.toMatchObject({ code: 'ENTRY_EDIT_FORBIDDEN' });
    expect((await entry(entryId)).body).toBe('We are on it');

    const c = await loginAsAgent(t.app, john.username, john.password);
    const empty = await submit(c, `/scp/tickets/${o.id}/entries/${entryId}/edit`, `/scp/tickets/${o.id}/entries/${entryId}/edit`, { body: '   ' });
    expect(empty.status).toBe(422);
    expect($(empty.text)('#e-body').text()).toContain('required');

    // John opens the editor twice; the first save wins, the second is shown the new text and keeps its own.
    const first = $((await c.get(`/scp/tickets/${o.id}/entries/${entryId}/edit`)).text)('input[name=mark]').val();
    await editThreadEntry(t.ctx(john.actor), { ticketId: o.id, entryId, body: 'We are on it: ETA 2 pm', mark: String(first) });
    const stale = await submit(c, `/scp/tickets/${o.id}/entries/${entryId}/edit`, `/scp/tickets/${o.id}/entries/${entryId}/edit`, { body: 'We are on it!', mark: String(first) });
    expect(stale.status).toBe(409);
    expect($(stale.text)('textarea[name=body]').val()).toBe('We are on it: ETA 2 pm');
    expect($(stale.text)('#f-unsaved').val()).toBe('We are on it!');
    expect((await entry(entryId)).body).toBe('We are on it: ETA 2 pm');
  });

  it('an admin redacts a card number from the requester’s message: no earlier text is kept, search no longer finds it, the portal shows the new text marked edited', async () => {
    const o = await open();
    const message = await t.db('thread_entries').where({ ticket_id: o.id, kind: 'message' }).first('id');
    expect((await searchThreadText(t.ctx(admin.actor), { q: '4111' })).hits.map((h) => h.id)).toContain(o.id);
    // An earlier edit kept a revision that still holds the number: redaction removes it too.
    await editThreadEntry(t.ctx(admin.actor), { ticketId: o.id, entryId: message.id, body: 'My card 4111 1111 1111 1111 is declined at every shop' });
    expect(await revisions(message.id)).toHaveLength(1);
    const c = await loginAsAgent(t.app, admin.username, admin.password);
    const r = await submit(c, `/scp/tickets/${o.id}/entries/${message.id}/edit`, `/scp/tickets/${o.id}/entries/${message.id}/edit`, { body: 'My card [removed] is declined at every shop', redact: 'on' });
    expect(r.status).toBe(303);
    expect((await entry(message.id)).body).toBe('My card [removed] is declined at every shop');
    expect(await revisions(message.id)).toEqual([]);
    expect((await searchThreadText(t.ctx(admin.actor), { q: '4111' })).hits.map((h) => h.id)).not.toContain(o.id);
    const history = $((await c.get(`/scp/tickets/${o.id}/entries/${message.id}/edit`)).text);
    expect(history('[data-revisions=none]').text()).toContain('removed for good');
    const ev = await t.db('ticket_events').where({ ticket_id: o.id, event: 'entry_edited' }).orderBy('id', 'desc').first();
    expect(JSON.parse(ev.data)).toEqual({ entryId: message.id, kind: 'message', redacted: true });
    expect(ev.data).not.toContain('4111');

    const portal = client(t.app);
    expect((await openViaStatus(portal, o.email, o.number)).status).toBe(303);
    const p = $((await portal.get(`/tickets/${o.number}`)).text);
    expect(p(`#entry-${message.id} .body`).text()).toBe('My card [removed] is declined at every shop');
    expect(p(`#entry-${message.id}`).text()).toContain('(edited)');
  });

  it('deleting the ticket deletes the entries’ earlier texts too', async () => {
    const o = await open();
    const { entryId } = await addInternalNote(t.ctx(john.actor), { ticketId: o.id, note: 'First try' });
    await editThreadEntry(t.ctx(john.actor), { ticketId: o.id, entryId, body: 'Second try' });
    expect(await revisions(entryId)).toEqual(['First try']);
    await deleteTicket(t.ctx(admin.actor), { ticketId: o.id });
    expect(await revisions(entryId)).toEqual([]);
  });
});
