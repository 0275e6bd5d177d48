/**
 * Journey 1 of ../shared/LAB.md, in a real browser: the end user opens "Entire mobile/online banking
 * system is down" in the portal, John triages it (SLA Sev-A, transfer to Online Banking), Jane claims,
 * replies, notes and closes it, the user answers the reply email and the ticket reopens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ParsedMail } from 'mailparser';
import { shot, startWorld, type E2EWorld } from './support/e2e-env.ts';
import { about, bodyOf, isTo, recipients, replyByMail, ticketLinkIn } from './support/mail.ts';
import { PortalPage } from './pages/PortalPage.ts';
import { ScpLoginPage } from './pages/ScpLoginPage.ts';
import { QueuePage } from './pages/QueuePage.ts';
import { TicketPage } from './pages/TicketPage.ts';

const SUBJECT = 'Entire mobile/online banking system is down';
const USER = { name: 'Pat Customer', email: 'pat.customer@example.net' };
const NOTE = 'Internal: core banking gateway restarted by ops, root cause pending';
const REPLY = 'We restarted the banking gateway; the app and the website are back. Please try again.';
const USER_MAIL_REPLY = 'Thanks, it worked for an hour but the app is down again since 14:05.';

/** "2026-01-02 10:23 UTC" → ms since epoch (minute precision). */
const parseShown = (s: string) => Date.parse(s.replace(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d) UTC.*$/, '$1T$2:00Z'));

describe('Journey 1 — intake to resolution', () => {
  let world: E2EWorld;
  let userPage: Page;
  let johnPage: Page;
  let janePage: Page;
  let number = '';
  let responseMail: ParsedMail;

  beforeAll(async () => {
    world = await startWorld();
    userPage = await world.newPersonPage();
    johnPage = await world.newPersonPage();
    janePage = await world.newPersonPage();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('1. the end user opens the ticket in the portal (name, email, help topic, message, a file)', async () => {
    const portal = new PortalPage(userPage);
    await portal.startNewTicket();
    await portal.fillNewTicket({
      ...USER,
      topic: 'Report a Problem',
      subject: SUBJECT,
      message: 'Since 9:00 nobody can sign in to the mobile app or online banking.\nError: "Service unavailable".',
      files: [{ name: 'error-screen.txt', mimeType: 'text/plain', buffer: Buffer.from('HTTP 503 Service unavailable at 09:02\n') }],
    });
    await shot(userPage, 'portal-new-ticket', { readme: true });
    await portal.submitNewTicket();
    number = await portal.confirmationNumber();
    expect(number).toMatch(/^[A-Za-z0-9-]+$/);
    await shot(userPage, 'portal-confirmation', { readme: true });

    await portal.viewTicketFromConfirmation();
    expect(await portal.conversationText()).toContain('error-screen.txt');
    await shot(userPage, 'j1-01-portal-ticket');
  });

  it('1. the user receives an email with the number and a link back to the ticket', async () => {
    const mail = await world.mail.waitFor((m) => isTo(USER.email)(m) && about(m, number));
    expect(bodyOf(mail)).toContain(number);
    const link = ticketLinkIn(mail, world.baseUrl);
    // The link works in another browser (the user's phone, say).
    const other = new PortalPage(await world.newPersonPage());
    await other.followMailLink(link);
    expect(await other.page.getByRole('heading', { level: 1 }).innerText()).toContain(SUBJECT);
    await shot(other.page, 'j1-02-portal-from-mail-link');
    await other.page.context().close();
  });

  it('2. John sees it in the open queue and observes its properties', async () => {
    await new ScpLoginPage(johnPage).signIn('john');
    const queue = new QueuePage(johnPage);
    await queue.open('Open');
    expect(await queue.has(SUBJECT)).toBe(true);
    expect(await queue.rowText(SUBJECT)).toContain(`#${number}`);
    await shot(johnPage, 'scp-queue', { readme: true });

    await queue.openTicket(SUBJECT);
    const ticket = new TicketPage(johnPage);
    const props = await ticket.props(['Status', 'Priority', 'Department', 'SLA plan', 'Due', 'Assigned to', 'Source', 'Requester']);
    expect(props).toMatchObject({ Status: 'Open', Priority: 'Normal', Department: 'Support', 'SLA plan': 'Default SLA', 'Assigned to': 'Nobody', Source: 'Web' });
    expect(props.Requester).toContain(USER.name);
    expect(props.Requester).toContain(USER.email);
    expect(props.Due).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d/);
    expect(await ticket.threadText()).toContain('error-screen.txt');
    await shot(johnPage, 'scp-ticket', { readme: true });
  });

  it('2. John sets SLA "Sev-A": the due date becomes 1 hour after creation, and the history says who and when', async () => {
    const ticket = new TicketPage(johnPage);
    await ticket.setSla('Sev-A');
    expect(await ticket.prop('SLA plan')).toBe('Sev-A');
    const created = parseShown(await ticket.prop('Created'));
    const due = parseShown(await ticket.prop('Due'));
    expect(due - created).toBe(60 * 60_000);
    const history = await ticket.history();
    expect(history.find((h) => /John Smith: SLA plan changed from Default SLA to Sev-A/.test(h))).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d/);
    await shot(johnPage, 'j1-03-john-sla-sev-a');
  });

  it('2. John transfers it to "Online Banking" (and, being in Support, loses sight of it)', async () => {
    const ticket = new TicketPage(johnPage);
    await ticket.transferTo('Online Banking');
    await shot(johnPage, 'j1-04-john-after-transfer');
    const queue = new QueuePage(johnPage);
    await queue.open('Open');
    expect(await queue.has(SUBJECT)).toBe(false);
  });

  it('3. Jane finds it in her department\'s queue; the transfer is in the history', async () => {
    await new ScpLoginPage(janePage).signIn('jane');
    const queue = new QueuePage(janePage);
    await queue.open('Open');
    expect(await queue.rowText(SUBJECT)).toContain('Online Banking');
    await queue.openTicket(SUBJECT);
    const ticket = new TicketPage(janePage);
    expect(await ticket.prop('Department')).toBe('Online Banking');
    expect(await ticket.prop('SLA plan')).toBe('Sev-A');
    const history = await ticket.history();
    expect(history.some((h) => /John Smith: Transferred from Support to Online Banking/.test(h))).toBe(true);
    expect(history.some((h) => /John Smith: SLA plan changed from Default SLA to Sev-A/.test(h))).toBe(true);
  });

  it('3. Jane claims it', async () => {
    const ticket = new TicketPage(janePage);
    await ticket.claim();
    expect(await ticket.prop('Assigned to')).toBe('Jane Doe');
    expect((await ticket.history()).some((h) => /Jane Doe: Claimed the ticket/.test(h))).toBe(true);
    await shot(janePage, 'j1-05-jane-claimed');
  });

  it('3. Jane replies; the user gets the reply by email and sees it in the portal', async () => {
    const ticket = new TicketPage(janePage);
    await ticket.reply(REPLY);
    expect(await ticket.threadText()).toContain(REPLY);
    responseMail = await world.mail.waitFor((m) => isTo(USER.email)(m) && about(m, number) && (m.text ?? '').includes(REPLY));
    expect(responseMail.messageId).toBeTruthy();
    const portal = new PortalPage(userPage);
    await portal.reload();
    expect(await portal.conversationText()).toContain(REPLY);
  });

  it('3. Jane adds an internal note: never in the portal, never in mail', async () => {
    const ticket = new TicketPage(janePage);
    await ticket.note(NOTE);
    expect(await ticket.threadText()).toContain(NOTE);
    await shot(janePage, 'j1-06-jane-note');
    const portal = new PortalPage(userPage);
    await portal.reload();
    expect(await portal.pageText()).not.toContain(NOTE);
    await new Promise((r) => setTimeout(r, 3000)); // give the outbox a chance to (wrongly) send it
    expect(world.mail.messages.filter((m) => bodyOf(m).includes(NOTE)).map((m) => `${recipients(m)}: ${m.subject}`)).toEqual([]);
  });

  it('3. Jane resolves and closes the ticket; the user is notified', async () => {
    const ticket = new TicketPage(janePage);
    await ticket.resolve();
    expect(await ticket.prop('Status')).toMatch(/^Resolved/);
    // The notice goes out when the ticket leaves the open state (src/domain/tickets/CONTEXT.md): once.
    const resolvedMail = await world.mail.waitFor((m) => isTo(USER.email)(m) && about(m, number) && /has been resolved/.test(m.subject ?? ''));
    expect(bodyOf(resolvedMail)).toContain(number);
    await ticket.close();
    expect(await ticket.prop('Status')).toMatch(/^Closed/);
    expect((await ticket.history()).some((h) => /Jane Doe: Status changed from Resolved to Closed/.test(h))).toBe(true);
    const portal = new PortalPage(userPage);
    await portal.reload();
    expect(await portal.status()).toBe('Closed');
    await shot(janePage, 'j1-07-jane-closed');
    await shot(userPage, 'j1-08-portal-closed');
  });

  it('4. the user answers the reply email: the answer joins the thread, the closed ticket reopens, Jane is alerted', async () => {
    await replyByMail(world.inboundPort, responseMail, USER.email, USER_MAIL_REPLY);
    const ticket = new TicketPage(janePage);
    const until = Date.now() + 20_000;
    while (!(await ticket.threadText()).includes(USER_MAIL_REPLY) && Date.now() < until) await ticket.reload();
    expect(await ticket.threadText()).toContain(USER_MAIL_REPLY);
    expect(await ticket.prop('Status')).toBe('Open');
    expect(await ticket.prop('Reopened')).toMatch(/^1 time/);
    expect((await ticket.history()).some((h) => /Reopened by the user’s message/.test(h))).toBe(true);
    await shot(janePage, 'j1-09-jane-reopened-by-mail');
    const alert = await world.mail.waitFor((m) => isTo('jane@example.com')(m) && about(m, number) && (m.text ?? '').includes(USER_MAIL_REPLY));
    expect(alert.subject).toContain(number);
    const portal = new PortalPage(userPage);
    await portal.reload();
    expect(await portal.conversationText()).toContain(USER_MAIL_REPLY);
    expect(await portal.status()).toBe('Open');
  });

  it('the browser saw no console errors and no failed requests', () => {
    expect(world.consoleErrors).toEqual([]);
    expect(world.failedRequests).toEqual([]);
  });
});
