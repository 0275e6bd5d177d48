/** Small helpers shared by the page objects: waiting for what a person would see. */
import type { Locator, Page } from 'playwright-core';

export const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Waits until the flash message (role status/alert) with this text is shown. */
export async function seeFlash(page: Page, text: string | RegExp, timeout = 15_000): Promise<void> {
  const flash = page.locator('.flash').filter({ hasText: text });
  await flash.first().waitFor({ state: 'visible', timeout });
}

/** The text of the <dd> that follows the <dt> with this visible label, inside `scope`. */
export function definition(scope: Page | Locator, label: string): Locator {
  return scope.locator(`xpath=.//dt[normalize-space()="${label}"]/following-sibling::dd[1]`).first();
}

/** Clicks a button whose form asks "Are you sure?" (window.confirm) and accepts, as a person would. */
export async function clickConfirming(page: Page, button: Locator): Promise<string | null> {
  let asked: string | null = null;
  const onDialog = async (d: import('playwright-core').Dialog) => {
    asked = d.message();
    await d.accept();
  };
  page.once('dialog', onDialog);
  await button.click();
  return asked;
}

/** Presses Tab until the focused element is the one `target` points at (at most `max` presses). */
export async function tabTo(page: Page, target: Locator, max = 40): Promise<void> {
  const handle = await target.elementHandle();
  if (!handle) throw new Error('tabTo: target not found');
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await handle.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`tabTo: could not reach the element with ${max} Tab presses`);
}

/** True when the focused element is the one `target` points at. */
export async function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((el) => el === document.activeElement);
}

/** No horizontal scrolling: the page fits the viewport's width. */
export async function pageWidth(page: Page): Promise<{ scrollWidth: number; clientWidth: number; wide: string[] }> {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = (el as HTMLElement).getBoundingClientRect();
      if (r.right > w + 1 && wide.length < 8) wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} (right ${Math.round(r.right)})`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: w, wide };
  });
}

/** A form control by its label, ignoring the required marker (" *") the fields partial appends. */
export function field(scope: Page | Locator, label: string): Locator {
  return scope.getByLabel(new RegExp(`^\\s*${escapeRe(label)}\\s*\\*?\\s*$`));
}
