/**
 * Journeys 2 and 3 of ../shared/LAB.md: the end user opens "Accounting department needs Adobe
 * upgrade, broken" and "CFO's laptop will no longer turn on"; John sets SLA "Sev-B" (4 hours, 24/7),
 * department "Support", and works each to completion. Then the reports show them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startWorld, type E2EWorld } from './support/e2e-env.ts';
import { about, isTo } from './support/mail.ts';
import { PortalPage } from './pages/PortalPage.ts';
import { ScpLoginPage } from './pages/ScpLoginPage.ts';
import { QueuePage } from './pages/QueuePage.ts';
import { TicketPage } from './pages/TicketPage.ts';

const parseShown = (s: string) => Date.parse(s.replace(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d) UTC.*$/, '$1T$2:00Z'));

const JOURNEYS = [
  {
    slug: 'j2',
    subject: 'Accounting department needs Adobe upgrade, broken',
    user: { name: 'Morgan Accounts', email: 'morgan@accounting.example.net' },
    message: 'Adobe Acrobat crashes on start after the last update; we need the upgrade to 2026.',
    reply: 'Adobe Acrobat has been upgraded on all accounting PCs. Please restart once.',
  },
  {
    slug: 'j3',
    subject: 'CFO’s laptop will no longer turn on',
    user: { name: 'Casey CFO', email: 'cfo@example.net' },
    message: 'The laptop shows no light at all, even on the charger.',
    reply: 'We replaced the power adapter; the laptop boots again.',
  },
];

describe('Journeys 2 and 3 — more practice', () => {
  let world: E2EWorld;
  let userPage: Page;
  let johnPage: Page;
  const numbers: Record<string, string> = {};

  beforeAll(async () => {
    world = await startWorld();
    userPage = await world.newPersonPage();
    johnPage = await world.newPersonPage();
  });
  afterAll(async () => {
    await world?.stop();
  });

  for (const j of JOURNEYS) {
    describe(j.subject, () => {
      it('the end user opens it in the portal and gets the confirmation mail', async () => {
        const portal = new PortalPage(userPage);
        await portal.startNewTicket();
        await portal.fillNewTicket({ ...j.user, topic: 'General Inquiry', subject: j.subject, message: j.message });
        await portal.submitNewTicket();
        numbers[j.slug] = await portal.confirmationNumber();
        await shot(userPage, `${j.slug}-01-confirmation`);
        await world.mail.waitFor((m) => isTo(j.user.email)(m) && about(m, numbers[j.slug]));
      });

      it('John observes its properties and sets SLA "Sev-B" (due 4 hours after creation), department "Support"', async () => {
        if (!(await johnPage.getByRole('button', { name: 'Sign out' }).count())) await new ScpLoginPage(johnPage).signIn('john');
        const queue = new QueuePage(johnPage);
        await queue.open('Open');
        await queue.openTicket(j.subject);
        const ticket = new TicketPage(johnPage);
        const props = await ticket.props(['Status', 'Priority', 'Department', 'SLA plan', 'Assigned to', 'Source', 'Requester']);
        expect(props).toMatchObject({ Status: 'Open', Department: 'Support', 'Assigned to': 'Nobody', Source: 'Web' });
        expect(props.Requester).toContain(j.user.email);
        await ticket.setSla('Sev-B');
        expect(await ticket.prop('SLA plan')).toBe('Sev-B');
        expect(parseShown(await ticket.prop('Due')) - parseShown(await ticket.prop('Created'))).toBe(4 * 60 * 60_000);
        // Department "Support": it came in there through the help topic; John keeps it there.
        expect(await ticket.prop('Department')).toBe('Support');
        expect((await ticket.history()).some((h) => /John Smith: SLA plan changed from Default SLA to Sev-B/.test(h))).toBe(true);
        await shot(johnPage, `${j.slug}-02-john-triage`);
      });

      it('John works it to completion: claims, replies (the user gets it), resolves, closes (the user is notified)', async () => {
        const ticket = new TicketPage(johnPage);
        const number = numbers[j.slug];
        await ticket.claim();
        expect(await ticket.prop('Assigned to')).toBe('John Smith');
        await ticket.reply(j.reply);
        await world.mail.waitFor((m) => isTo(j.user.email)(m) && about(m, number) && (m.text ?? '').includes(j.reply));
        await ticket.resolve();
        expect(await ticket.prop('Status')).toMatch(/^Resolved/);
        await world.mail.waitFor((m) => isTo(j.user.email)(m) && about(m, number) && /has been resolved/.test(m.subject ?? ''));
        await ticket.close();
        expect(await ticket.prop('Status')).toMatch(/^Closed/);
        const history = (await ticket.history()).join('\n');
        expect(history).toMatch(/John Smith: Claimed the ticket/);
        expect(history).toMatch(/John Smith: Posted a reply/);
        expect(history).toMatch(/John Smith: Status changed from Resolved to Closed/);
        await shot(johnPage, `${j.slug}-03-john-closed`);

        const queue = new QueuePage(johnPage);
        await queue.open('Closed');
        expect(await queue.has(j.subject)).toBe(true);
      });
    });
  }

  it('the reports count both tickets as opened and closed (with a table and a chart)', async () => {
    await johnPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await johnPage.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    const rowsOf = async (table: string) =>
      (await johnPage.getByRole('table', { name: table }).getByRole('row').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
    // Today: both opened and both closed; Support met its SLA for both (closed well within Sev-B).
    expect(await rowsOf('Opened and closed per day')).toContainEqual(expect.stringMatching(/^\d{4}-\d\d-\d\d 2 2$/));
    expect(await rowsOf('SLA compliance per department')).toContainEqual(expect.stringMatching(/^Support 2 0 100/i));
    expect(await johnPage.locator('figure.report-chart svg').count()).toBeGreaterThan(0);
    await shot(johnPage, 'reports', { readme: true });
    // Changing a date while a named period is chosen makes the period custom: the report follows the dates.
    const form = johnPage.getByRole('form', { name: 'Report period and grouping' });
    const from = await form.getByLabel('From').inputValue();
    await form.getByLabel('Period').selectOption({ label: 'Last 7 days' });
    await form.getByLabel('To').fill(from);
    expect(await form.getByLabel('Period').inputValue()).toBe('custom');
    await form.getByRole('button', { name: 'Show' }).click();
    await johnPage.waitForURL(/period=custom/);
    expect(new URL(johnPage.url()).searchParams.get('to')).toBe(from);
  });

  it('the browser saw no console errors and no failed requests', () => {
    expect(world.consoleErrors).toEqual([]);
    expect(world.failedRequests).toEqual([]);
  });
});
