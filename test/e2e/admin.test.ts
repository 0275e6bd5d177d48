/** Administration (../shared/LAB.md): an admin creates an SLA plan, a department and an agent who can then sign in, and a ticket filter that routes to the department. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startWorld, type E2EWorld } from './support/e2e-env.ts';
import { ScpLoginPage } from './pages/ScpLoginPage.ts';
import { AdminPage } from './pages/AdminPage.ts';
import { QueuePage } from './pages/QueuePage.ts';
import { PortalPage } from './pages/PortalPage.ts';
import { field, seeFlash } from './pages/ui.ts';

const PLAN = { name: 'Sev-C', graceHours: '8', notes: 'Severity C: 8 hours, 24/7' };
const DEPT = 'Mortgages';
const AGENT = { name: 'Riley Loans', username: 'riley', email: 'riley@example.com', department: DEPT, password: 'Mortgage desk passphrase 2026!' };

describe('Administration', () => {
  let world: E2EWorld;
  let adminPage: Page;

  beforeAll(async () => {
    world = await startWorld();
    adminPage = await world.newPersonPage();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('the admin creates an SLA plan', async () => {
    await new ScpLoginPage(adminPage).signIn('admin');
    const admin = new AdminPage(adminPage);
    await admin.createSlaPlan(PLAN);
    await shot(adminPage, 'adm-01-sla-created');
    await admin.section('SLA plans');
    const rows = await admin.listRows();
    expect(rows.find((r) => r.startsWith('Sev-C'))).toMatch(/Sev-C 8(\.0)? h/);
    expect(rows.some((r) => r.startsWith('Sev-A'))).toBe(true);
    await shot(adminPage, 'admin-sla', { readme: true });
  });

  it('the admin creates a department that uses it', async () => {
    const admin = new AdminPage(adminPage);
    await admin.createDepartment({ name: DEPT, sla: PLAN.name });
    await admin.section('Departments');
    expect((await admin.listRows()).find((r) => r.startsWith(DEPT))).toContain('Sev-C');
    await shot(adminPage, 'adm-02-departments');
  });

  it('the admin creates an agent in it', async () => {
    const admin = new AdminPage(adminPage);
    await admin.createAgent(AGENT);
    await admin.section('Agents');
    const row = (await admin.listRows()).find((r) => r.startsWith(AGENT.name));
    expect(row).toContain(AGENT.username);
    expect(row).toContain(DEPT);
    await shot(adminPage, 'adm-03-agents');
  });

  it('the new agent signs in and sees the queues (but not the admin area)', async () => {
    const page = await world.newPersonPage();
    await new ScpLoginPage(page).signIn(AGENT.username, AGENT.password);
    expect(await page.getByRole('link', { name: AGENT.name }).count()).toBe(1);
    await new QueuePage(page).open('Open');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await shot(page, 'adm-04-new-agent-signed-in');
  });

  it('the admin adds a ticket filter: mail-order customers’ tickets go to the new department', async () => {
    const admin = new AdminPage(adminPage);
    await admin.createFilter({ name: 'Mortgage customers', field: 'Requester’s email', comparison: 'ends with', text: '@homeloans.example', department: DEPT });
    await admin.section('Ticket filters');
    const row = (await admin.listRows()).find((r) => r.includes('Mortgage customers'));
    expect(row).toContain('Requester’s email ends with “@homeloans.example”');
    expect(row).toContain(`Department: ${DEPT}`);
    await shot(adminPage, 'adm-05-filters');

    const portal = new PortalPage(await world.newPersonPage());
    await portal.startNewTicket();
    await portal.fillNewTicket({ name: 'Casey Borrower', email: 'casey@homeloans.example', topic: 'Report a Problem', subject: 'Rate lock question', message: 'Can I extend my rate lock?' });
    await portal.submitNewTicket();
    const queue = new QueuePage(adminPage);
    await queue.open('Open');
    expect(await queue.rowText('Rate lock question')).toContain(DEPT);
  });

  it('the admin writes a featured knowledge base article; the portal shows it on its home page and offers a ticket on its topic', async () => {
    const admin = new AdminPage(adminPage);
    await admin.section('Knowledge base categories');
    await adminPage.getByRole('link', { name: 'New category' }).click();
    await field(adminPage, 'Name').fill('Mortgage questions');
    await adminPage.getByRole('button', { name: 'Save' }).click();
    await seeFlash(adminPage, 'The category was created.');
    await adminPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Knowledge base' }).click();
    await adminPage.getByRole('link', { name: 'New article' }).click();
    await field(adminPage, 'Question').fill('Can I extend my rate lock?');
    await adminPage.getByLabel('Category').selectOption({ label: 'Mortgage questions' });
    await adminPage.getByLabel('Who may read it').selectOption('featured');
    await field(adminPage, 'Answer').fill('Yes, for **30 days**.\n\n- Ask your adviser\n- Pay the extension fee');
    await adminPage.getByRole('checkbox', { name: 'Report a Problem' }).check();
    await adminPage.getByRole('button', { name: 'Save' }).click();
    await seeFlash(adminPage, 'The article was created.');

    const page = await world.newPersonPage();
    await page.goto('/');
    await page.getByRole('link', { name: 'Can I extend my rate lock?' }).click();
    await page.getByRole('heading', { name: 'Can I extend my rate lock?' }).waitFor();
    expect(await page.locator('.kb-body strong').textContent()).toBe('30 days');
    await shot(page, 'kb-01-portal-article');
    await page.getByRole('link', { name: 'Open a ticket' }).click();
    await page.getByRole('heading', { name: 'Open a new ticket' }).waitFor();
    expect(await page.getByLabel('Help topic').locator('option:checked').textContent()).toBe('Report a Problem');
  });

  it('the browser saw no console errors and no failed requests', () => {
    expect(world.consoleErrors).toEqual([]);
    expect(world.failedRequests).toEqual([]);
  });
});
