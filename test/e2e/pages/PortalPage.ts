/** The end user's portal: open a ticket, the confirmation, the user's ticket page. */
import type { Page } from 'playwright-core';
import { definition, seeFlash } from './ui.ts';

export interface NewTicket {
  email: string;
  name: string;
  topic?: string;
  subject: string;
  message: string;
  phone?: string;
  files?: { name: string; mimeType: string; buffer: Buffer }[];
}

export class PortalPage {
  constructor(readonly page: Page) {}

  /** Types the site root and follows "Open a new ticket". */
  async startNewTicket(): Promise<void> {
    await this.page.goto('/');
    await this.page.getByRole('link', { name: 'Open a new ticket' }).first().click();
    await this.page.getByRole('heading', { name: 'Open a new ticket' }).waitFor();
  }

  async fillNewTicket(t: NewTicket): Promise<void> {
    const p = this.page;
    await p.getByLabel('Email address').fill(t.email);
    await p.getByLabel('Full name').fill(t.name);
    if (t.phone) await p.getByLabel('Phone number').fill(t.phone);
    if (t.topic) await p.getByLabel('Help topic').selectOption({ label: t.topic });
    await p.getByLabel('Subject').fill(t.subject);
    await p.getByLabel('Message').fill(t.message);
    if (t.files?.length) await p.getByLabel('Attachments').setInputFiles(t.files);
  }

  async submitNewTicket(): Promise<void> {
    await this.page.getByRole('button', { name: 'Open ticket' }).click();
    await this.page.getByRole('heading', { name: /your ticket is open/i }).waitFor();
  }

  /** The ticket number shown on the confirmation page. */
  async confirmationNumber(): Promise<string> {
    const text = await this.page.getByText(/Your ticket number is/).innerText();
    const m = /#\s*([A-Za-z0-9-]+)/.exec(text);
    if (!m) throw new Error(`no ticket number in: ${text}`);
    return m[1];
  }

  async viewTicketFromConfirmation(): Promise<void> {
    await this.page.getByRole('link', { name: 'View your ticket' }).click();
    await this.page.getByRole('heading', { name: 'Conversation' }).waitFor();
  }

  /** Follows a link the user received by mail. */
  async followMailLink(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.getByRole('heading', { name: 'Conversation' }).waitFor();
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await this.page.getByRole('heading', { name: 'Conversation' }).waitFor();
  }

  async status(): Promise<string> {
    return (await definition(this.page, 'Status').innerText()).trim();
  }

  /** The conversation as the user sees it. */
  async conversationText(): Promise<string> {
    return this.page.locator('ol.thread').innerText();
  }

  /** The whole page's text (to check what the user must never see). */
  async pageText(): Promise<string> {
    return this.page.locator('body').innerText();
  }

  async reply(message: string): Promise<void> {
    await this.page.getByLabel('Your message').fill(message);
    await this.page.getByRole('button', { name: 'Send message' }).click();
    await seeFlash(this.page, /Your message was added/);
  }
}
