/**
 * CCs in a real browser: the requester opens a ticket, John copies her manager in from the ticket
 * page, his reply reaches both by mail, the manager follows her own link, reads and answers on the
 * portal (she may not close it), the requester gets a copy, and John removes the CC again. Then
 * the requester reports the same problem again and John merges the duplicate into the first ticket;
 * at last she signs in with her email from another browser and finds both tickets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startWorld, type E2EWorld } from './support/e2e-env.ts';
import { about, bodyOf, isTo, ticketLinkIn } from './support/mail.ts';
import { PortalPage } from './pages/PortalPage.ts';
import { ScpLoginPage } from './pages/ScpLoginPage.ts';
import { QueuePage } from './pages/QueuePage.ts';
import { TicketPage } from './pages/TicketPage.ts';
import { clickConfirming, seeFlash } from './pages/ui.ts';

const SUBJECT = 'Payroll export fails with a timeout';
const USER = { name: 'Robin Payroll', email: 'robin.payroll@example.net' };
const CC = { name: 'Morgan Manager', email: 'morgan.manager@example.net' };
const REPLY = 'We raised the export timeout; please run the export again.';
const CC_ANSWER = 'Ran it again at 15:10: it finished in two minutes. Thanks!';

describe('CCs and merging — copying a manager in, folding a duplicate', () => {
  let world: E2EWorld;
  let userPage: Page;
  let johnPage: Page;
  let ccPage: Page;
  let number = '';
  let dupNumber = '';

  beforeAll(async () => {
    world = await startWorld();
    userPage = await world.newPersonPage();
    johnPage = await world.newPersonPage();
    ccPage = await world.newPersonPage();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('the requester opens the ticket in the portal', async () => {
    const portal = new PortalPage(userPage);
    await portal.startNewTicket();
    await portal.fillNewTicket({ ...USER, topic: 'Report a Problem', subject: SUBJECT, message: 'The monthly payroll export stops after 30 seconds.' });
    await portal.submitNewTicket();
    number = await portal.confirmationNumber();
    await portal.viewTicketFromConfirmation();
  });

  it('John adds the manager as a CC from the ticket page; the history says so', async () => {
    await new ScpLoginPage(johnPage).signIn('john');
    const queue = new QueuePage(johnPage);
    await queue.open('Open');
    await queue.openTicket(SUBJECT);
    const ccs = johnPage.getByRole('region', { name: 'CCs' });
    expect(await ccs.innerText()).toContain('Nobody is copied on this ticket');
    await ccs.locator('summary', { hasText: 'Add a CC' }).click();
    await ccs.getByLabel('Email').fill(CC.email);
    await ccs.getByLabel('Name (optional)').fill(CC.name);
    await ccs.getByRole('button', { name: 'Add CC' }).click();
    await seeFlash(johnPage, /CC added/);
    expect(await johnPage.getByRole('region', { name: 'CCs' }).innerText()).toContain(CC.email);
    const ticket = new TicketPage(johnPage);
    expect((await ticket.history()).join('\n')).toContain(`CC added: ${CC.name} <${CC.email}>`);
    const choice = johnPage.getByRole('region', { name: 'Post a reply' }).getByLabel('Email the reply');
    expect(await choice.locator('option:checked').innerText()).toBe(`Email ${USER.name} and 1 CC`);
    await shot(johnPage, 'cc-01-ticket-with-cc');
  });

  it('John’s reply reaches the requester and the CC, each with a link of their own', async () => {
    await new TicketPage(johnPage).reply(REPLY);
    const toUser = await world.mail.waitFor((m) => isTo(USER.email)(m) && about(m, number) && bodyOf(m).includes(REPLY));
    const toCc = await world.mail.waitFor((m) => isTo(CC.email)(m) && about(m, number) && bodyOf(m).includes(REPLY));
    expect(bodyOf(toCc)).toContain(`You are copied (CC) on this ticket; ${USER.name} opened it.`);
    expect(ticketLinkIn(toCc, world.baseUrl)).not.toBe(ticketLinkIn(toUser, world.baseUrl));

    const portal = new PortalPage(ccPage);
    await portal.followMailLink(ticketLinkIn(toCc, world.baseUrl));
    expect(await ccPage.getByRole('heading', { level: 1 }).innerText()).toContain(SUBJECT);
    expect(await portal.pageText()).toContain('you are copied on this ticket');
    expect(await portal.conversationText()).toContain(REPLY);
    expect(await ccPage.getByRole('button', { name: 'Close ticket' }).count()).toBe(0);
    await shot(ccPage, 'cc-02-portal-as-cc');
  });

  it('the CC answers on the portal: in the thread under her name, and the requester gets a copy', async () => {
    await new PortalPage(ccPage).reply(CC_ANSWER);
    const copy = await world.mail.waitFor((m) => isTo(USER.email)(m) && about(m, number) && bodyOf(m).includes(CC_ANSWER));
    expect(bodyOf(copy)).toContain(`${CC.name} wrote on ticket`);
    const ticket = new TicketPage(johnPage);
    await ticket.reload();
    expect(await ticket.threadText()).toContain(CC_ANSWER);
    expect(await ticket.threadText()).toContain(CC.name);
  });

  it('John removes the CC (after confirming): she can no longer open the ticket', async () => {
    const ccs = johnPage.getByRole('region', { name: 'CCs' });
    await clickConfirming(johnPage, ccs.getByRole('button', { name: `Remove ${CC.name} from the CCs` }));
    await seeFlash(johnPage, 'CC removed.');
    expect(await johnPage.getByRole('region', { name: 'CCs' }).innerText()).toContain('Nobody is copied on this ticket');
    const res = await ccPage.goto(`${world.baseUrl}/tickets/${number}`);
    expect(res?.status()).toBe(404);
  });

  it('the requester opens the same problem again; John merges the duplicate into the first ticket (after confirming)', async () => {
    const portal = new PortalPage(userPage);
    await portal.startNewTicket();
    await portal.fillNewTicket({ ...USER, topic: 'Report a Problem', subject: 'Payroll export still failing', message: 'It failed again this morning.' });
    await portal.submitNewTicket();
    dupNumber = await portal.confirmationNumber();

    const queue = new QueuePage(johnPage);
    await queue.open('Open');
    await queue.openTicket('Payroll export still failing');
    const actions = johnPage.getByRole('region', { name: 'Actions' });
    await actions.locator('summary', { hasText: 'Merge into another ticket' }).click();
    await actions.getByLabel('Ticket number to merge into').fill(`#${number}`);
    await clickConfirming(johnPage, actions.getByRole('button', { name: 'Merge', exact: true }));
    await seeFlash(johnPage, /Tickets merged/);
    const ticket = new TicketPage(johnPage);
    expect(await ticket.heading().innerText()).toContain(SUBJECT);
    expect(await ticket.threadText()).toContain('It failed again this morning.');
    expect((await ticket.history()).join('\n')).toContain(`Ticket #${dupNumber} “Payroll export still failing” merged into this one`);
    await shot(johnPage, 'cc-03-merged');
  });

  it('the duplicate’s page in the portal leads the requester to the ticket that goes on', async () => {
    const portal = new PortalPage(userPage);
    await userPage.goto(`${world.baseUrl}/tickets/${dupNumber}`);
    await seeFlash(userPage, `Ticket #${dupNumber} was merged into ticket #${number}`);
    expect(await userPage.getByRole('heading', { level: 1 }).innerText()).toContain(SUBJECT);
    expect(await portal.conversationText()).toContain('It failed again this morning.');
  });

  it('in a fresh browser the requester signs in with her email: a mailed link shows all her tickets', async () => {
    const fresh = await world.newPersonPage();
    await fresh.goto(`${world.baseUrl}/`);
    await fresh.getByRole('link', { name: 'Sign in' }).first().click();
    await fresh.getByLabel('Email address').fill(USER.email);
    await fresh.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await seeFlash(fresh, `If we know ${USER.email}`);
    const mail = await world.mail.waitFor((m) => isTo(USER.email)(m) && (m.subject ?? '') === 'Sign in to see your tickets');
    const link = new RegExp(`${world.baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/signin/link\\?token=\\S+`).exec(mail.text ?? '')?.[0];
    expect(link).toBeTruthy();
    await fresh.goto(link!);
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await seeFlash(fresh, 'You are signed in');
    const rows = fresh.locator('tr[data-number]');
    expect((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-number')))).sort()).toEqual([number, dupNumber].sort());
    await shot(fresh, 'cc-04-signed-in-my-tickets');
  });

  it('the browser saw no console errors and no failed requests', () => {
    // The browser reports the 404 above (the point of the last step) as a console error: only that one is expected.
    expect(world.consoleErrors.filter((e) => !(e.includes(`/tickets/${number}`) && e.includes('404')))).toEqual([]);
    expect(world.failedRequests).toEqual([]);
  });
});
