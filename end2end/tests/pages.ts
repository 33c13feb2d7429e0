import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { mailedLink, mails } from './mail';

// The pages a person (and an admin) sees, as the accessibility and keyboard tests open them.
// Another page is one more entry in `customerPages` or `consolePages`.

export type Lang = 'ja' | 'en';

const bin = process.env.DOUI_BIN ?? join(resolve(__dirname, '..', '..'), 'target', 'release', 'doui');
const links: Record<string, string> = JSON.parse(process.env.DOUI_E2E_LINKS ?? '{}');
export const owner: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');

/** A new subject added with the CLI on the test server's data directory; its link's token. */
export function newSubject(email: string, lang: Lang = 'en'): string {
  const env: NodeJS.ProcessEnv = { ...process.env, DOUI_DATA_DIR: process.env.DOUI_E2E_DATA, DOUI_LOG: 'warn' };
  delete env.DATABASE_URL;
  const out = execFileSync(bin, ['subject', 'add', '--email', email, '--lang', lang], { env }).toString();
  const token = out.match(/\/p\/(\S+)/)?.[1];
  if (!token) throw new Error(`no link in: ${out}`);
  return token;
}

let unique = 0;
/** An address no other test uses. */
export function freshAddress(what: string): string {
  return `${what}-${Date.now().toString(36)}-${++unique}@a11y.example.com`;
}

/** The path of a demo person's preference center. */
export function demoLink(name: string): string {
  const link = links[name];
  if (!link) throw new Error(`no demo link ${name}`);
  return new URL(link).pathname;
}

export interface PageToCheck {
  name: string;
  /** Opens the page in `lang` (navigating, or posting a form when it is an answer to one). */
  open: (page: Page, lang: Lang) => Promise<void>;
}

const at =
  (path: string) =>
  async (page: Page, lang: Lang): Promise<void> => {
    await page.goto(`${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
  };

/** Waits until the page has loaded and, when scripts run, the preference center's island is live. */
export async function settled(page: Page, javaScript: boolean): Promise<void> {
  await page.waitForLoadState('load');
  const island = page.locator('section.preferences');
  if (javaScript && (await island.count()) > 0) await expect(island).toHaveAttribute('data-hydrated', 'true');
}

export const customerPages: PageToCheck[] = [
  { name: 'home', open: at('/') },
  { name: 'preference center (link)', open: at(demoLink('demo-alex')) },
  {
    name: 'unsubscribe confirmation',
    open: async (page, lang) => {
      await page.goto(`/u/${newSubject(freshAddress('a11y-u'), lang)}?lang=${lang}`);
    },
  },
  {
    name: 'unsubscribed, and why are you leaving',
    open: async (page, lang) => {
      await page.goto(`/u/${newSubject(freshAddress('a11y-leave'), lang)}?lang=${lang}`);
      await page.locator('form button.danger').click();
      await expect(page.locator('.leave-reason')).toBeVisible();
    },
  },
  {
    name: 'thanks for the reason',
    open: async (page, lang) => {
      await page.goto(`/u/${newSubject(freshAddress('a11y-thanks'), lang)}?lang=${lang}`);
      await page.locator('form button.danger').click();
      await page.locator('.leave-reason input[type=radio]').first().check();
      await page.locator('.leave-reason button[type=submit]').click();
      await expect(page.locator('section[role=status] h1')).toBeVisible();
    },
  },
  { name: 'sign-in', open: at('/signin') },
  { name: 'sign-in link sent', open: at('/signin?sent=1') },
  { name: 'subscribe (double opt-in)', open: at('/subscribe') },
  {
    name: 'confirm a subscription',
    open: async (page, lang) => {
      const to = freshAddress('a11y-sub');
      await page.goto(`/subscribe?lang=${lang}`);
      const seen = mails().length;
      await page.locator('form.stacked input[type=email]').fill(to);
      await page.locator('form.stacked button[type=submit]').click();
      await expect(page.locator('.notice.ok')).toBeVisible();
      const path = await mailedLink(to, seen, /https?:\/\/\S+\/confirm\/[A-Za-z0-9_.-]+/, 'confirmation');
      await page.goto(`${path}?lang=${lang}`);
    },
  },
  { name: 'privacy policy', open: at('/privacy') },
  { name: 'refused link', open: at('/p/not-a-valid-link') },
  { name: 'not found', open: at('/no-such-page') },
];

export const consolePages: PageToCheck[] = [
  { name: 'console sign-in', open: at('/admin/signin') },
  { name: 'console: subjects', open: at('/admin') },
  {
    name: 'console: a subject',
    open: async (page, lang) => {
      await page.goto(`/admin?lang=${lang}`);
      await page.locator('a[href^="/admin/subjects/"]').first().click();
      await page.waitForLoadState('load');
    },
  },
  { name: 'console: events', open: at('/admin/events') },
  { name: 'console: purposes', open: at('/admin/purposes') },
  { name: 'console: notices', open: at('/admin/notices') },
  { name: 'console: recipients', open: at('/admin/recipients') },
  { name: 'console: collection points', open: at('/admin/collection-points') },
  { name: 'console: imports', open: at('/admin/imports') },
  { name: 'console: webhooks', open: at('/admin/webhooks') },
  { name: 'console: why people leave', open: at('/admin/leave-reasons') },
  { name: 'console: chain', open: at('/admin/chain') },
  { name: 'console: admins', open: at('/admin/admins') },
  { name: 'console: API keys', open: at('/admin/api-keys') },
];

/** Signs the demo owner in to the console (by the form, with or without scripts). */
export async function signInOwner(page: Page): Promise<void> {
  await page.goto('/admin/signin?lang=en');
  await page.getByLabel('Email address').fill(owner.email!);
  await page.getByLabel('Password').fill(owner.password!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\?lang=en$/);
}
