import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { grantByMail } from './grant';

// Global Privacy Control in Chromium (R13–R20): a subject in California, made with
// `doui subject add` on the demo's data directory, opens their page with the header set.
const bin = process.env.DOUI_BIN ?? join(resolve(__dirname, '..', '..'), 'target', 'release', 'doui');

function addSubject(email: string, jurisdiction: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, DOUI_DATA_DIR: process.env.DOUI_E2E_DATA, DOUI_LOG: 'warn' };
  delete env.DATABASE_URL;
  const out = execFileSync(bin, ['subject', 'add', '--email', email, '--lang', 'en', '--jurisdiction', jurisdiction], { env }).toString();
  const link = out.split('\n').find((l) => l.includes('/p/'))!.trim();
  return new URL(link).pathname;
}

function sw(page: Page, purposeName: string, channelName: string) {
  return page.getByRole('switch', { name: `${purposeName}: ${channelName}` });
}

test('R16 R18 R20: with Sec-GPC: 1 the page opts the person out of ad targeting and says so, with no pop-up', async ({ page, browser }) => {
  const link = addSubject('gpc-e2e@example.com', 'us_ca');
  // Without the signal the person opts in to personalised ads on the web (through the link, a
  // grant confirmed from the mail it sends), and it is stored before the other browser arrives.
  await page.goto(link);
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  const web = sw(page, 'Personalised advertising', 'Web');
  await grantByMail(page, web, 'gpc-e2e@example.com');
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  await expect(web).toHaveAttribute('aria-checked', 'true');
  await expect(page.locator('[data-gpc="honoured"]')).toHaveCount(0);

  // The same person, a browser that sends the signal.
  const gpc = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
  const p = await gpc.newPage();
  let dialogs = 0;
  p.on('dialog', () => { dialogs += 1; });
  await p.goto(link);
  await expect(p.getByRole('status').filter({ hasText: 'Opt-Out Request Honored' })).toBeVisible();
  await expect(sw(p, 'Personalised advertising', 'Web')).toHaveAttribute('aria-checked', 'false');
  await expect(p.locator('table.history tbody tr').first()).toContainText('Global Privacy Control');
  expect(dialogs).toBe(0);
  await gpc.close();

  // R19: back without the signal, nothing is opted back in.
  await page.reload();
  await expect(sw(page, 'Personalised advertising', 'Web')).toHaveAttribute('aria-checked', 'false');
});

test('R14: the page reads navigator.globalPrivacyControl', async ({ browser }) => {
  const link = addSubject('gpc-js-e2e@example.com', 'us_ca');
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });
  });
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.locator('[data-gpc-browser]')).toBeVisible();
  await expect(page.locator('[data-gpc-browser]')).toContainText('Global Privacy Control turned on');
  await context.close();
});
