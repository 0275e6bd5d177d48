/**
 * Waiting on the requester, as agents and requesters meet it: the agent replies "wait for the
 * requester" (or presses the button); the ticket page, the queue and the portal say so; the queue
 * filters by it; the requester's answer ends the wait; the admin sets the auto-close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, client, loginAsAgent, submit, ticketAction, type Client } from '../support/http.ts';
import { multipartAction, openViaStatus, postMultipart } from './portal-support.ts';
import { buildAdmin, buildAgent, buildSlaPlan, unique } from '../factories/index.ts';
import { openTicket } from '../../src/domain/tickets/ticket-service.ts';
import { ANONYMOUS } from '../../src/domain/actor.ts';
import { getSettings } from '../../src/domain/settings/settings-service.ts';

describe('waiting on the requester (HTTP)', () => {
  let t: TestApp;
  let support: number;
  let john: Awaited<ReturnType<typeof buildAgent>>;
  let johnC: Client;
  const row = (id: number) => t.db('tickets').where({ id }).first();
  const open = async () => {
    const email = `${unique('pat')}@example.com`;
    return { ...(await openTicket(t.ctx(ANONYMOUS), { email, name: 'Pat', subject: unique('Printer jams '), message: 'Every page' })), email };
  };

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    support = (await t.db('departments').where({ name: 'Support' }).first()).id;
    await t.db('departments').where({ id: support }).update({ sla_plan_id: await buildSlaPlan(t.db, { name: 'Four hours', grace_minutes: 240 }) });
    john = await buildAgent(t.db, { department_id: support, name: 'John' });
    johnC = await loginAsAgent(t.app, john.username, john.password);
  });
  afterAll(async () => t.close());

  it('a reply that waits for the requester pauses the SLA; the page, the queue and its filter show it', async () => {
    const o = await open();
    const before = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    // The reply form offers it, worded for what it does; the actions offer a button.
    expect(before('#reply-form select[name=status] option, form select[name=status] option').map((_, el) => before(el).text()).get()).toContain('Wait for the requester (pauses the SLA)');
    expect(before('form[action$="/status"] input[name=status][value=pending]')).toHaveLength(1);

    const res = await ticketAction(johnC, o.id, 'reply', { message: 'Which tray do you print from?', status: 'pending', notifyUser: 'all' });
    expect(res.status).toBe(303);
    const tk = await row(o.id);
    expect(tk.status).toBe('pending');
    expect(tk.due_at).toBeNull();

    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('[data-status]').text()).toBe('Waiting');
    expect(page('[data-prop=due]').text()).toContain('Paused');
    expect(page('.events').text() + page('body').text()).toContain('SLA clock stopped');
    // No second "wait" button; one to stop waiting instead; the reply form offers no "wait" again.
    expect(page('form[action$="/status"] input[name=status][value=pending]')).toHaveLength(0);
    expect(page('form[action$="/status"] input[name=status][value=open]')).toHaveLength(1);

    const queue = $((await johnC.get('/scp/tickets?queue=open')).text);
    const line = queue(`tr[data-ticket="${o.number}"]`);
    expect(line.find('.badge-pending').text()).toBe('Waiting');
    expect(line.find('td[data-label="SLA due"]').text()).toBe('Paused');

    const other = await open();
    const waiting = $((await johnC.get('/scp/tickets?queue=open&status=pending')).text);
    const numbers = waiting('tr[data-ticket]').map((_, el) => waiting(el).attr('data-ticket')).get();
    expect(numbers).toContain(o.number);
    expect(numbers).not.toContain(other.number);
    const notWaiting = $((await johnC.get('/scp/tickets?queue=open&status=open')).text);
    const openNumbers = notWaiting('tr[data-ticket]').map((_, el) => notWaiting(el).attr('data-ticket')).get();
    expect(openNumbers).toContain(other.number);
    expect(openNumbers).not.toContain(o.number);
  });

  it('the requester reads "Awaiting your reply" on the portal, and their reply sets it open with the due date moved', async () => {
    const o = await open();
    await ticketAction(johnC, o.id, 'status', { status: 'pending' });
    t.clock.advance(3600_000); // (agents' sessions idle out after two hours)
    const pat = client(t.app);
    const view = await openViaStatus(pat, o.email, o.number);
    expect([200, 303]).toContain(view.status);
    const portal = $((await pat.get(`/tickets/${o.number}`)).text);
    expect(portal('#ticket-status').text()).toBe('Awaiting your reply');
    expect(portal('.waiting-notice').text()).toContain('We are waiting for your answer');
    const reply = await postMultipart(pat, await multipartAction(pat, `/tickets/${o.number}`), { message: 'Tray 2' });
    expect(reply.status).toBe(303);
    const tk = await row(o.id);
    expect(tk).toMatchObject({ status: 'open', reopen_count: 0, sla_paused_seconds: 3600 });
    const page = $((await johnC.get(`/scp/tickets/${o.id}`)).text);
    expect(page('body').text()).toContain('The requester answered: no longer waiting');
    // Answered, the portal no longer says it waits for them.
    const after = $((await pat.get(`/tickets/${o.number}`)).text);
    expect(after('#ticket-status').text()).toBe('Open');
    expect(after('.waiting-notice')).toHaveLength(0);
  });

  it('the agent stops the wait by hand; a closed ticket cannot wait', async () => {
    const o = await open();
    await ticketAction(johnC, o.id, 'status', { status: 'pending' });
    expect((await ticketAction(johnC, o.id, 'status', { status: 'open' })).status).toBe(303);
    expect((await row(o.id)).status).toBe('open');
    await ticketAction(johnC, o.id, 'status', { status: 'closed' });
    const refused = await ticketAction(johnC, o.id, 'status', { status: 'pending' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect((await row(o.id)).status).toBe('closed');
  });

  it('bulk: several tickets wait at once', async () => {
    const a = await open();
    const b = await open();
    const res = await submit(johnC, '/scp/tickets?queue=open', '/scp/tickets/bulk', { ids: [String(a.id), String(b.id)], do: 'status:pending' });
    expect(res.status).toBe(303);
    for (const o of [a, b]) expect((await row(o.id)).status).toBe('pending');
  });

  it('the admin sets the auto-close in days; a bad number is refused with the form kept', async () => {
    const admin = await buildAdmin(t.db);
    const adminC = await loginAsAgent(t.app, admin.username, admin.password);
    const form = $((await adminC.get('/scp/admin/settings')).text);
    const values: Record<string, string> = {};
    form('form[action="/scp/admin/settings"] input, form[action="/scp/admin/settings"] select, form[action="/scp/admin/settings"] textarea').each((_, el) => {
      const e = form(el);
      const name = e.attr('name');
      if (!name || name === '_csrf') return;
      if (e.attr('type') === 'checkbox') { if (e.attr('checked') !== undefined) values[name] = 'on'; return; }
      values[name] = e.is('select') ? String(e.find('option[selected]').attr('value') ?? e.find('option').first().attr('value') ?? '') : String(e.val() ?? '');
    });
    expect(values).toHaveProperty('waiting_auto_close_days', '0');
    const bad = await submit(adminC, '/scp/admin/settings', '/scp/admin/settings', { ...values, waiting_auto_close_days: '-3', helpdesk_name: 'Kept name' });
    expect(bad.status).toBe(422);
    const again = $(bad.text);
    expect(again('#f-waiting_auto_close_days').val()).toBe('-3');
    expect(again('input[name=helpdesk_name]').val()).toBe('Kept name');
    expect((await getSettings(t.db)).waiting_auto_close_days).toBe(0);
    const ok = await submit(adminC, '/scp/admin/settings', '/scp/admin/settings', { ...values, waiting_auto_close_days: '7' });
    expect(ok.status).toBe(303);
    expect((await getSettings(t.db)).waiting_auto_close_days).toBe(7);
  });
});
