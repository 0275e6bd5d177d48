/** The admin area (Admin in the agent panel's main navigation). */
import type { Page } from 'playwright-core';
import { field, seeFlash } from './ui.ts';

export class AdminPage {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true }).click();
    await this.page.getByRole('heading', { name: 'Administration' }).waitFor();
  }

  /** Admin → a section from the index (Settings, Agents, Departments, SLA plans…). */
  async section(label: string): Promise<void> {
    await this.open();
    await this.page.getByRole('main').getByRole('link', { name: label, exact: true }).click();
    await this.page.getByRole('heading', { name: label, level: 1 }).waitFor();
  }

  private async startNew(section: string, singular: string): Promise<void> {
    await this.section(section);
    await this.page.getByRole('link', { name: `New ${singular}` }).click();
    await this.page.getByRole('heading', { name: `New ${singular}` }).waitFor();
  }

  private async save(created: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Save' }).click();
    await seeFlash(this.page, created);
  }

  async createDepartment(d: { name: string; sla?: string; manager?: string }): Promise<void> {
    await this.startNew('Departments', 'department');
    await field(this.page, 'Name').fill(d.name);
    if (d.sla) await this.page.getByLabel('Default SLA plan').selectOption({ label: d.sla });
    if (d.manager) await this.page.getByLabel('Manager').selectOption({ label: d.manager });
    await this.save('The department was created.');
  }

  async createSlaPlan(p: { name: string; graceHours: string; notes?: string }): Promise<void> {
    await this.startNew('SLA plans', 'SLA plan');
    await field(this.page, 'Name').fill(p.name);
    await this.page.getByLabel('Grace period (hours)').fill(p.graceHours);
    if (p.notes) await this.page.getByLabel('Notes').fill(p.notes);
    await this.save('The SLA plan was created.');
  }

  async createAgent(a: { name: string; username: string; email: string; department: string; password: string; role?: 'Agent' | 'Administrator' }): Promise<void> {
    await this.startNew('Agents', 'agent');
    const p = this.page;
    await field(p, 'Name').fill(a.name);
    await p.getByLabel('Username').fill(a.username);
    await field(p, 'Email').fill(a.email);
    if (a.role) await p.getByLabel('Account', { exact: true }).selectOption({ label: a.role });
    await p.getByLabel('Primary department').selectOption({ label: a.department });
    await p.getByLabel('Initial password').fill(a.password);
    const reset = p.getByLabel(/Email a password-reset link/);
    if (await reset.isChecked()) await reset.uncheck();
    await this.save('The agent was created.');
  }

  /** Admin → Ticket filters → New: one rule and a department. */
  async createFilter(f: { name: string; field: string; comparison: string; text: string; department: string }): Promise<void> {
    await this.startNew('Ticket filters', 'ticket filter');
    const p = this.page;
    await field(p, 'Name').fill(f.name);
    await p.getByLabel('Rule 1: field').selectOption({ label: f.field });
    await p.getByLabel('Rule 1: comparison').selectOption({ label: f.comparison });
    await p.getByLabel('Rule 1: text (case is ignored)').fill(f.text);
    await p.getByLabel('Department', { exact: true }).selectOption({ label: f.department });
    await this.save('The ticket filter was created.');
  }

  /** Admin → Settings: one field, then Save. */
  async setSetting(label: string, value: string): Promise<void> {
    await this.section('Settings');
    await this.page.getByLabel(label).fill(value);
    await this.page.getByRole('button', { name: 'Save' }).click();
    await seeFlash(this.page, 'Settings saved.');
  }

  /** Rows of the current admin list page. */
  async listRows(): Promise<string[]> {
    return (await this.page.getByRole('row').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
  }
}
