import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';

// Through a link, a grant of third-party sharing or ad targeting waits for the person's
// mailbox (issue 30, item 9): the switch stays off and says so, a mail arrives, and its link's
// one button grants it.
const mailDir = process.env.DOUI_E2E_MAIL ?? '';

function mails(): string[] {
  try {
    return readdirSync(mailDir)
      .sort((a, b) => parseInt(a) - parseInt(b))
      .map((f) => readFileSync(join(mailDir, f), 'utf8'));
  } catch {
    return [];
  }
}

function decoded(raw: string): string {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  if (/Content-Transfer-Encoding:\s*base64/i.test(head)) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (/Content-Transfer-Encoding:\s*quoted-printable/i.test(head)) {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Clicks `toggle` on a page opened by link, then confirms the grant from the mail sent to `to`. */
export async function grantByMail(page: Page, toggle: Locator, to: string): Promise<void> {
  const seen = mails().length;
  await toggle.click();
  await expect(page.getByRole('alert')).toContainText('needs your confirmation');
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  let path = '';
  for (let i = 0; i < 100 && !path; i++) {
    const found = mails().slice(seen).find((m) => m.includes(to));
    const m = found && decoded(found).match(/https?:\/\/\S+\/grant\/[A-Za-z0-9_.-]+/);
    if (m) path = new URL(m[0]).pathname;
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (!path) throw new Error(`no confirmation mail for ${to}`);
  const back = page.url();
  await page.goto(path + '?lang=en');
  await page.getByRole('button', { name: 'Allow' }).click();
  await expect(page.getByRole('status')).toContainText('Recorded');
  await page.goto(back);
}

/** Signs `to` in with the link /signin mails, as a person proves their mailbox; ends on /me. */
export async function signInByMail(page: Page, to: string): Promise<void> {
  const seen = mails().length;
  await page.goto('/signin?lang=en');
  await page.getByLabel('Email address').fill(to);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If that address is registered');
  let path = '';
  for (let i = 0; i < 100 && !path; i++) {
    const found = mails().slice(seen).find((m) => m.includes(to));
    const m = found && decoded(found).match(/https?:\/\/\S+\/signin\/[A-Za-z0-9_-]+/);
    if (m) path = new URL(m[0]).pathname;
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (!path) throw new Error(`no sign-in mail for ${to}`);
  await page.goto(path + '?lang=en');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/me\?lang=en$/);
}
