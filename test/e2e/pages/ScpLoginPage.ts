/** Agent panel sign-in (/scp). */
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../support/e2e-env.ts';
import { isFocused, tabTo } from './ui.ts';

export class ScpLoginPage {
  constructor(readonly page: Page) {}

  /** Types /scp; a signed-out agent lands on the sign-in form. */
  async open(): Promise<void> {
    await this.page.goto('/scp');
    await this.page.getByRole('heading', { name: 'Sign in to the agent panel' }).waitFor();
  }

  async signIn(login: string, password = DEMO_PASSWORD): Promise<void> {
    await this.open();
    await this.page.getByLabel('Username or email').fill(login);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.waitSignedIn();
  }

  /** Keyboard only: Tab to the username field, type, Tab, type the password, Enter. */
  async signInWithKeyboard(login: string, password = DEMO_PASSWORD): Promise<void> {
    await this.open();
    const user = this.page.getByLabel('Username or email');
    await tabTo(this.page, user);
    await this.page.keyboard.type(login);
    await this.page.keyboard.press('Tab');
    if (!(await isFocused(this.page.getByLabel('Password')))) throw new Error('Tab from "Username or email" did not reach "Password"');
    await this.page.keyboard.type(password);
    await this.page.keyboard.press('Enter');
    await this.waitSignedIn();
  }

  async waitSignedIn(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 15_000 });
  }

  async signOut(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await this.page.getByRole('heading', { name: 'Sign in to the agent panel' }).waitFor();
  }
}
