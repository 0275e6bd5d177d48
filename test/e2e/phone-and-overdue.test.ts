/**
 * Real-world intake and the overdue sweep (../shared/LAB.md): John opens a ticket for a phone call
 * (source "Phone"); the admin lowers the overdue check interval to 5 s in Admin → Settings; the clock
 * passes the due date; the ticket shows in the Overdue queue and the alert mail arrives once. John
 * shares his "Phone calls" view: the admin opens it; Jane, of another department, sees none of its tickets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startWorld, type E2EWorld } from './support/e2e-env.ts';
import { about, isTo } from './support/mail.ts';
import { ScpLoginPage } from './pages/ScpLoginPage.ts';
import { AdminPage } from './pages/AdminPage.ts';
import { QueuePage } from './pages/QueuePage.ts';
import { TicketPage } from './pages/TicketPage.ts';

const SUBJECT = 'Caller cannot print payslips from the HR portal';

describe('Phone intake and overdue', () => {
  let world: E2EWorld;
  let adminPage: Page;
  let johnPage: Page;
  let janePage: Page;
  let number = '';

  beforeAll(async () => {
    world = await startWorld();
    adminPage = await world.newPersonPage();
    johnPage = await world.newPersonPage();
    janePage = await world.newPersonPage();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('the admin lowers the overdue check interval to 5 seconds in Admin → Settings', async () => {
    await new ScpLoginPage(adminPage).signIn('admin');
    const admin = new AdminPage(adminPage);
    await admin.setSetting('Overdue check interval (seconds)', '5');
    expect(await adminPage.getByLabel('Overdue check interval (seconds)').inputValue()).toBe('5');
    await shot(adminPage, 'ov-01-admin-settings');
  });

  it('John opens a ticket for a phone call: source "Phone", SLA Sev-A, assigned to himself', async () => {
    await new ScpLoginPage(johnPage).signIn('john');
    const ticket = new TicketPage(johnPage);
    number = await ticket.openForUser({
      email: 'sam.caller@example.net', name: 'Sam Caller', phone: '+1 555 0100', source: 'Phone',
      department: 'Support', sla: 'Sev-A', assignee: 'John Smith', subject: SUBJECT,
      message: 'Sam called at 10:10: printing payslips gives a blank page since Monday.',
    });
    const props = await ticket.props(['Source', 'Department', 'SLA plan', 'Assigned to', 'Requester', 'Status']);
    expect(props).toMatchObject({ Source: 'Phone', Department: 'Support', 'SLA plan': 'Sev-A', 'Assigned to': 'John Smith', Status: 'Open' });
    expect(props.Requester).toContain('Sam Caller');
    expect(props.Requester).toContain('+1 555 0100');
    expect((await ticket.history()).some((h) => /John Smith: Ticket opened \(source: (phone|Phone)\)/.test(h))).toBe(true);
    await shot(johnPage, 'ov-02-phone-ticket');

    const queue = new QueuePage(johnPage);
    await queue.open('Open');
    expect(await queue.has(SUBJECT)).toBe(true);
    expect(await queue.count('Overdue')).toBe(0);
  });

  it('John saves the phone calls as a view shared with every agent; the admin opens it, Jane sees none of Support\'s calls', async () => {
    const queue = new QueuePage(johnPage);
    await queue.open('Open');
    await queue.filter('Source', 'Phone');
    expect(await queue.activeFilters()).toEqual(['Source: Phone']);
    await queue.saveView('Phone calls', { shared: true });
    expect(await queue.has(SUBJECT)).toBe(true);
    await shot(johnPage, 'ov-02b-shared-view');

    const admin = new QueuePage(adminPage);
    await admin.open('Open');
    await admin.sharedViewLink('Phone calls', 'John Smith').click();
    await adminPage.getByRole('heading', { name: 'Phone calls', level: 1 }).waitFor();
    expect(await admin.activeFilters()).toEqual(['Source: Phone']);
    expect(await admin.has(SUBJECT)).toBe(true);

    // Jane works in Online Banking: the shared view is listed for her too, without Support's tickets.
    await new ScpLoginPage(janePage).signIn('jane');
    const jane = new QueuePage(janePage);
    await jane.open('Open');
    await jane.sharedViewLink('Phone calls', 'John Smith').click();
    await janePage.getByRole('heading', { name: 'Phone calls', level: 1 }).waitFor();
    expect(await jane.has(SUBJECT)).toBe(false);
    expect(await janePage.getByText('Rename or share this view').count()).toBe(0);
  });

  it('past the due date the sweep flags it: it shows in the Overdue queue and on its page', async () => {
    world.advanceClock(70 * 60_000); // Sev-A: due 1 hour after creation
    const queue = new QueuePage(johnPage);
    // The sweep that was scheduled before the settings change may still wait out the old 60 s.
    const until = Date.now() + 100_000;
    await queue.open('Overdue');
    while (!(await queue.has(SUBJECT)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 2500));
      await queue.open('Overdue');
    }
    expect(await queue.has(SUBJECT)).toBe(true);
    expect(await queue.rowText(SUBJECT)).toContain('Overdue');
    await shot(johnPage, 'ov-03-overdue-queue');
    await queue.openTicket(SUBJECT);
    const ticket = new TicketPage(johnPage);
    expect(await ticket.prop('Due')).toContain('Overdue');
    expect((await ticket.history()).some((h) => /Marked overdue/.test(h))).toBe(true);
    await shot(johnPage, 'ov-04-overdue-ticket');
  });

  it('the overdue alert mail arrives once (to the assignee)', async () => {
    const isAlert = (m: any) => isTo('john@example.com')(m) && about(m, number) && /overdue/i.test(m.subject ?? '');
    await world.mail.waitFor(isAlert);
    await new Promise((r) => setTimeout(r, 15_000)); // three more sweeps at 5 s
    expect(world.mail.messages.filter(isAlert)).toHaveLength(1);
  });

  it('a ticket waiting on the requester has its SLA clock stopped: past its due date it is not overdue', async () => {
    const subject = 'Caller will send the printer model';
    const ticket = new TicketPage(johnPage);
    await ticket.openForUser({
      email: 'sam.caller@example.net', name: 'Sam Caller', source: 'Phone', department: 'Support', sla: 'Sev-A', assignee: 'John Smith',
      subject, message: 'Sam will look up the printer model and mail it.',
    });
    await ticket.reply('Please send us the model printed on the label at the back.', { status: 'Wait for the requester (pauses the SLA)' });
    expect(await ticket.prop('Status')).toContain('Waiting');
    expect(await ticket.prop('Due')).toContain('Paused');
    expect((await ticket.history()).some((h) => /SLA clock stopped/.test(h))).toBe(true);
    await shot(johnPage, 'ov-05-waiting');
    world.advanceClock(70 * 60_000); // past Sev-A's hour
    await new Promise((r) => setTimeout(r, 12_000)); // two sweeps at 5 s
    const queue = new QueuePage(johnPage);
    await queue.open('Overdue');
    expect(await queue.has(subject)).toBe(false);
    await queue.open('Open');
    expect(await queue.rowText(subject)).toContain('Paused');
  });

  it('the browser saw no console errors and no failed requests', () => {
    expect(world.consoleErrors).toEqual([]);
    expect(world.failedRequests).toEqual([]);
  });
});
