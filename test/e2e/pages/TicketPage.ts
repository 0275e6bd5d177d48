/** The agent's ticket page: properties, thread, history and every action a person takes there. */
import type { Locator, Page } from 'playwright-core';
import { clickConfirming, definition, field, seeFlash } from './ui.ts';

export interface AgentNewTicket {
  email: string;
  name: string;
  phone?: string;
  source: string;
  topic?: string;
  department?: string;
  priority?: string;
  sla?: string;
  assignee?: string;
  subject: string;
  message: string;
}

export class TicketPage {
  constructor(readonly page: Page) {}

  /** Main navigation → New ticket: a ticket on behalf of a user (phone call, walk-in…). */
  async openForUser(t: AgentNewTicket): Promise<string> {
    const p = this.page;
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New ticket' }).click();
    await p.getByRole('heading', { name: 'New ticket on behalf of a user' }).waitFor();
    await field(p, 'Email').fill(t.email);
    await field(p, 'Name').fill(t.name);
    if (t.phone) await field(p, 'Phone').fill(t.phone);
    await p.getByLabel('Source').selectOption({ label: t.source });
    if (t.topic) await p.getByLabel('Help topic').selectOption({ label: t.topic });
    if (t.department) await p.getByLabel('Department').selectOption({ label: t.department });
    if (t.priority) await p.getByLabel('Priority').selectOption({ label: t.priority });
    if (t.sla) await p.getByLabel('SLA plan').selectOption({ label: t.sla });
    if (t.assignee) await p.getByLabel('Assign to').selectOption({ label: t.assignee });
    await p.getByLabel('Subject').fill(t.subject);
    await p.getByLabel('The user’s request').fill(t.message);
    await p.getByRole('button', { name: 'Open ticket' }).click();
    await seeFlash(p, /Ticket #\S+ created/);
    const text = await p.locator('.flash').filter({ hasText: /created/ }).first().innerText();
    return /#(\S+?) created/.exec(text)![1];
  }

  heading(): Locator {
    return this.page.getByRole('heading', { level: 1 });
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await this.page.getByRole('heading', { name: 'Properties' }).waitFor();
  }

  properties(): Locator {
    return this.page.getByRole('region', { name: 'Properties' });
  }

  /** A property as shown in the Properties panel (Priority, Department, SLA plan, Due, Assigned to, Status, Source, Requester…). */
  async prop(label: string): Promise<string> {
    return (await definition(this.properties(), label).innerText()).replace(/\s+/g, ' ').trim();
  }

  async props(labels: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const l of labels) out[l] = await this.prop(l);
    return out;
  }

  /** History lines ("<when> — <who>: <what>"). */
  async history(): Promise<string[]> {
    const region = this.page.getByRole('region', { name: 'History' });
    return (await region.getByRole('listitem').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
  }

  async threadText(): Promise<string> {
    return this.page.locator('ol.thread').innerText();
  }

  actions(): Locator {
    return this.page.getByRole('region', { name: 'Actions' });
  }

  /** Opens a <details> section of the Actions panel by its summary text. */
  private async expand(summary: string): Promise<Locator> {
    const details = this.actions().locator('details').filter({ has: this.page.locator('summary', { hasText: summary }) });
    if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
    return details;
  }

  async claim(): Promise<void> {
    await this.actions().getByRole('button', { name: 'Claim', exact: true }).click();
    await seeFlash(this.page, 'You claimed the ticket.');
  }

  async assignTo(agentName: string): Promise<void> {
    const d = await this.expand('Assign');
    await d.getByLabel('Assign to').selectOption({ label: agentName });
    await d.locator('form').getByRole('button', { name: 'Assign', exact: true }).click();
    await seeFlash(this.page, 'Ticket assigned.');
  }

  /** Transfers; an agent without access to the new department lands back on the queues. */
  async transferTo(department: string): Promise<void> {
    const d = await this.expand('Transfer');
    await d.getByLabel('To department').selectOption({ label: department });
    await d.locator('form').getByRole('button', { name: 'Transfer', exact: true }).click();
    await seeFlash(this.page, 'Ticket transferred.');
  }

  async setSla(plan: string): Promise<void> {
    const d = await this.expand('Priority, SLA, due date, subject');
    await d.getByLabel('SLA plan').selectOption({ label: plan });
    await d.getByRole('button', { name: 'Change SLA plan' }).click();
    await seeFlash(this.page, /SLA plan changed/);
  }

  async setPriority(priority: string): Promise<void> {
    const d = await this.expand('Priority, SLA, due date, subject');
    await d.getByLabel('Priority').selectOption({ label: priority });
    await d.getByRole('button', { name: 'Change priority' }).click();
    await seeFlash(this.page, 'Priority changed.');
  }

  async reply(message: string, opts: { status?: string } = {}): Promise<void> {
    const form = this.page.getByRole('region', { name: 'Post a reply' });
    await form.getByLabel(/^Reply to /).fill(message);
    if (opts.status) await form.getByRole('combobox', { name: 'Ticket status' }).selectOption({ label: opts.status });
    await form.getByRole('button', { name: 'Post reply' }).click();
    await seeFlash(this.page, 'Reply posted.');
  }

  async note(text: string): Promise<void> {
    const form = this.page.getByRole('region', { name: 'Add an internal note' });
    await field(form, 'Note').fill(text);
    await form.getByRole('button', { name: 'Add note' }).click();
    await seeFlash(this.page, 'Internal note added.');
  }

  async resolve(): Promise<void> {
    await this.actions().getByRole('button', { name: 'Resolve', exact: true }).click();
    await seeFlash(this.page, 'Status changed.');
  }

  async close(): Promise<void> {
    await clickConfirming(this.page, this.actions().getByRole('button', { name: 'Close', exact: true }));
    await seeFlash(this.page, 'Status changed.');
  }

  async reopen(): Promise<void> {
    await this.actions().getByRole('button', { name: 'Reopen', exact: true }).click();
    await seeFlash(this.page, 'Status changed.');
  }
}
