/** The agent's ticket queues (Tickets in the main navigation). */
import type { Locator, Page } from 'playwright-core';
import { escapeRe } from './ui.ts';

export type QueueLabel = 'Open' | 'My tickets' | 'Unassigned' | 'Overdue' | 'Answered' | 'Closed';

export class QueuePage {
  constructor(readonly page: Page) {}

  /** Main navigation → Tickets → the queue's tab. */
  async open(queue: QueueLabel = 'Open'): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tickets', exact: true }).click();
    await this.queueLink(queue).click();
    await this.page.getByRole('heading', { name: `${queue} tickets`, level: 1 }).waitFor();
  }

  queueLink(queue: QueueLabel): Locator {
    return this.page.getByRole('navigation', { name: 'Queues' }).getByRole('link', { name: new RegExp(`^${escapeRe(queue)}\\s+\\d+$`) });
  }

  /** The count shown next to a queue's name. */
  async count(queue: QueueLabel): Promise<number> {
    const text = await this.queueLink(queue).innerText();
    return Number(/(\d+)\s*$/.exec(text)?.[1] ?? NaN);
  }

  row(subject: string): Locator {
    return this.page.getByRole('row').filter({ has: this.page.getByRole('link', { name: subject, exact: true }) });
  }

  async has(subject: string): Promise<boolean> {
    return (await this.row(subject).count()) > 0;
  }

  async rowText(subject: string): Promise<string> {
    return this.row(subject).innerText();
  }

  /** The filter form: chooses `value` in the select labelled `label`, then Filter. */
  async filter(label: string, value: string): Promise<void> {
    const form = this.page.getByRole('search', { name: 'Filter tickets' });
    await form.getByLabel(label, { exact: true }).selectOption({ label: value });
    await form.getByRole('button', { name: 'Filter', exact: true }).click();
    await this.page.getByRole('list', { name: 'Active filters' }).waitFor();
  }

  /** The active filters as shown ("Source: Phone"). */
  async activeFilters(): Promise<string[]> {
    return (await this.page.getByRole('list', { name: 'Active filters' }).getByRole('listitem').allInnerTexts()).map((s) => s.replace(/\s*×\s*$/, '').trim());
  }

  /** "Save as a view" with this name, shared with every agent or not; the queue then shows it under its name. */
  async saveView(name: string, opts: { shared?: boolean } = {}): Promise<void> {
    await this.page.getByText('Save as a view', { exact: true }).click();
    await this.page.getByLabel('Name of the view').fill(name);
    if (opts.shared) await this.page.getByLabel('Share with every agent').check();
    await this.page.getByRole('button', { name: 'Save view' }).click();
    await this.page.getByRole('heading', { name, level: 1 }).waitFor();
  }

  /** A view another agent shares, listed with its owner's name. */
  sharedViewLink(name: string, owner: string): Locator {
    return this.page.getByRole('navigation', { name: 'Shared views' }).getByRole('link', { name: `${name} · ${owner}` });
  }

  async openTicket(subject: string): Promise<void> {
    await this.row(subject).getByRole('link', { name: subject, exact: true }).click();
    await this.page.getByRole('heading', { name: 'Properties' }).waitFor();
  }
}
