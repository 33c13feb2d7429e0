import { expect, type Locator, type Page } from '@playwright/test';
import { fromOwnNetwork, mailedLink, mails, signInLink } from './mail';

// Through a link, a grant of third-party sharing or ad targeting waits for the person's
// mailbox (issue 30, item 9): the switch stays off and says so, a mail arrives, and its link's
// one button grants it.

/** Clicks `toggle` on a page opened by link, then confirms the grant from the mail sent to `to`. */
export async function grantByMail(page: Page, toggle: Locator, to: string): Promise<void> {
  const seen = mails().length;
  await toggle.click();
  await expect(page.getByRole('alert')).toContainText('needs your confirmation');
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  const path = await mailedLink(to, seen, /https?:\/\/\S+\/grant\/[A-Za-z0-9_.-]+/, 'confirmation');
  const back = page.url();
  await page.goto(path + '?lang=en');
  await page.getByRole('button', { name: 'Allow' }).click();
  await expect(page.getByRole('status')).toContainText('Recorded');
  await page.goto(back);
}

/** Signs `to` in with the link /signin mails, as a person proves their mailbox; ends on /me. */
export async function signInByMail(page: Page, to: string): Promise<void> {
  await fromOwnNetwork(page);
  const seen = mails().length;
  await page.goto('/signin?lang=en');
  await page.getByLabel('Email address').fill(to);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If that address is registered');
  const path = await signInLink(to, seen);
  await page.goto(path + '?lang=en');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/me\?lang=en$/);
}
