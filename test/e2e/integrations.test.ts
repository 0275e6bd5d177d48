/**
 * Integrations as an admin sets them up in the browser: Admin → Webhooks (a receiver started here, on
 * 127.0.0.1, is refused until the admin allows the local network in Admin → Settings; then it gets a
 * signed POST when John replies, and the delivery log says so) and Admin → Email templates (the
 * reworded agent response, previewed first, is what reaches the requester's mailbox).
 */
import http from 'node:http';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { freePort, shot, startWorld, type E2EWorld } from './support/e2e-env.ts';
import { about, isTo } from './support/mail.ts';
import { ScpLoginPage } from './pages/ScpLoginPage.ts';
import { AdminPage } from './pages/AdminPage.ts';
import { TicketPage } from './pages/TicketPage.ts';
import { field, seeFlash } from './pages/ui.ts';

type Hit = { headers: http.IncomingHttpHeaders; body: string };

describe('Webhooks and email templates, set up in the browser', () => {
  let world: E2EWorld;
  let adminPage: Page;
  let johnPage: Page;
  let receiver: http.Server;
  let receiverUrl = '';
  const hits: Hit[] = [];
  let secret = '';
  let number = '';

  beforeAll(async () => {
    world = await startWorld();
    adminPage = await world.newPersonPage();
    johnPage = await world.newPersonPage();
    const port = await freePort();
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hits.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${port}/hooks/tessera`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await world?.stop();
  });

  it('the admin adds a webhook for agent responses, to a receiver on this machine once the local network is allowed, and finds its signing secret on its page', async () => {
    await new ScpLoginPage(adminPage).signIn('admin');
    const admin = new AdminPage(adminPage);
    const newWebhook = async () => {
      await admin.section('Webhooks');
      await adminPage.getByRole('link', { name: 'New webhook' }).click();
      await field(adminPage, 'Name').fill('CRM sync');
      await field(adminPage, 'Payload URL').fill(receiverUrl);
      await adminPage.getByLabel('Ticket created').uncheck();
      await adminPage.getByLabel('Agent response').check();
      await adminPage.getByRole('button', { name: 'Save' }).click();
    };
    // The receiver listens on 127.0.0.1: refused while webhooks may reach public addresses only (the default).
    const seen = world.consoleErrors.length;
    await newWebhook();
    await adminPage.locator('#e-url').waitFor();
    expect(await adminPage.locator('#e-url').innerText()).toMatch(/127\.0\.0\.1 is a loopback address: webhooks to the local network are off/);
    expect(await field(adminPage, 'Payload URL').inputValue()).toBe(receiverUrl);
    expect(await adminPage.getByLabel('Agent response').isChecked()).toBe(true);
    expect(world.consoleErrors.splice(seen).map((e) => e.replace(/^.*?: /, ''))).toEqual(['Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)']);
    // Admin → Settings: allow the local network.
    await admin.section('Settings');
    await adminPage.getByLabel('Allow webhooks to the local network').check();
    await adminPage.getByRole('button', { name: 'Save' }).click();
    await seeFlash(adminPage, 'Settings saved.');
    await newWebhook();
    await seeFlash(adminPage, 'The webhook was created.');
    secret = (await adminPage.locator('.admin-facts dt:has-text("Signing secret") + dd').innerText()).trim();
    expect(secret).toMatch(/^whsec_/);
    await shot(adminPage, 'int-01-webhook');
  });

  it('the admin rewords the agent response, previews it, and saves it', async () => {
    const admin = new AdminPage(adminPage);
    await admin.section('Email templates');
    await adminPage.getByRole('link', { name: 'Agent response', exact: true }).click();
    const body = adminPage.getByLabel('Body (plain text)');
    await body.fill('Hello {{recipient.name}},\n\n{{message}}\n\nKind regards,\n{{agent.name}} at {{helpdesk.name}}\nAnswer by email or here: {{ticket.url}}');
    await adminPage.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(async () => adminPage.getByRole('heading', { name: /Preview of the text above/ }).count()).toBe(1);
    expect(await adminPage.getByLabel('Body (plain text)').inputValue()).toContain('Kind regards,');
    // A placeholder the notification does not know is refused, the text kept.
    const seen = world.consoleErrors.length;
    await adminPage.getByLabel('Body (plain text)').fill('{{message}} {{ticket.secret}}');
    await adminPage.getByRole('button', { name: 'Save' }).click();
    expect(await adminPage.getByText(/ticket\.secret/).count()).toBeGreaterThan(0);
    expect(await adminPage.getByLabel('Body (plain text)').inputValue()).toBe('{{message}} {{ticket.secret}}');
    // The refusal is a 422 page, which the browser reports in its console (and nothing else is).
    expect(world.consoleErrors.splice(seen).map((e) => e.replace(/^.*?: /, ''))).toEqual(['Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)']);
    await adminPage.getByLabel('Body (plain text)').fill('Hello {{recipient.name}},\n\n{{message}}\n\nKind regards,\n{{agent.name}} at {{helpdesk.name}}\nAnswer by email or here: {{ticket.url}}');
    await adminPage.getByRole('button', { name: 'Save' }).click();
    await seeFlash(adminPage, 'The template was saved');
    await shot(adminPage, 'int-02-template');
  });

  it('John replies: the requester gets the reworded mail, and the receiver a signed POST for the response', async () => {
    await new ScpLoginPage(johnPage).signIn('john');
    const ticket = new TicketPage(johnPage);
    number = await ticket.openForUser({
      email: 'dana.customer@example.net', name: 'Dana Customer', source: 'Email', department: 'Support',
      subject: 'Export to CSV is empty', message: 'The monthly export has headers only.',
    });
    await ticket.reply('Thanks Dana, we found the filter that hid the rows: try the export again.');
    const mail = await world.mail.waitFor((m) => isTo('dana.customer@example.net')(m) && about(m, number) && /Kind regards/.test(m.text ?? ''));
    expect(mail.text).toContain('Hello Dana Customer,');
    expect(mail.text).toContain('we found the filter that hid the rows');
    expect(mail.text).toContain('John Smith at ');

    const until = Date.now() + 30_000;
    while (!hits.length && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
    expect(hits).toHaveLength(1); // subscribed to responses only: not the ticket's creation
    const hit = hits[0];
    expect(hit.headers['x-tessera-event']).toBe('response');
    const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(`${hit.headers['x-tessera-timestamp']}.${hit.body}`).digest('hex');
    expect(hit.headers['x-tessera-signature']).toBe(expected);
    const payload = JSON.parse(hit.body);
    expect(payload).toMatchObject({ event: 'response', ticket: { number } });

    // The delivery log shows it delivered.
    await new AdminPage(adminPage).section('Webhooks');
    await adminPage.getByRole('link', { name: 'CRM sync' }).click();
    await adminPage.getByRole('link', { name: 'Delivery log' }).click();
    await expect.poll(async () => adminPage.locator('tr[data-status="delivered"]').count()).toBe(1);
    await shot(adminPage, 'int-03-deliveries');
  });

  it('the browser saw no console errors and no failed requests', () => {
    expect(world.consoleErrors).toEqual([]);
    expect(world.failedRequests).toEqual([]);
  });
});
