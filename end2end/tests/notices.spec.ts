import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { grantByMail, signInByMail } from './grant';

// Versioned privacy notices in Chromium (R31, R32, R43): the owner publishes a material change
// in the console; a person who consented under the earlier version sees what changed and
// confirms, another withdraws. The change concerns third-party sharing only, which the demo's
// people have not agreed to, so the other specs' pages are not affected.
const owner: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');
const bin = process.env.DOUI_BIN ?? join(resolve(__dirname, '..', '..'), 'target', 'release', 'doui');

function addSubject(email: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, DOUI_DATA_DIR: process.env.DOUI_E2E_DATA, DOUI_LOG: 'warn' };
  delete env.DATABASE_URL;
  const out = execFileSync(bin, ['subject', 'add', '--email', email, '--lang', 'en', '--jurisdiction', 'default'], { env }).toString();
  const link = out.split('\n').find((l) => l.includes('/p/'))!.trim();
  return new URL(link).pathname;
}

const sharing = (page: Page) => page.getByRole('switch', { name: 'Sharing with third parties: Email' });

async function agreeToSharing(page: Page, link: string, email: string) {
  await page.goto(link);
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  // Through a link, sharing is granted from the mail it sends (stored before the notice changes).
  await grantByMail(page, sharing(page), email);
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  await expect(sharing(page)).toHaveAttribute('aria-checked', 'true');
}

test.describe.configure({ mode: 'serial' });

let first = '';
let second = '';
test.beforeAll(() => {
  first = addSubject('notice-confirm@example.com');
  second = addSubject('notice-withdraw@example.com');
});

test('R31 R43: the owner publishes a material change; people see the diff and confirm or withdraw', async ({ page, browser }) => {
  // Both agree under the demo's first notice.
  await agreeToSharing(page, first, 'notice-confirm@example.com');
  await agreeToSharing(page, second, 'notice-withdraw@example.com');
  await expect(page.locator('section.reconfirm')).toHaveCount(0);

  // The owner publishes a material change concerning third-party sharing.
  const admin = await browser.newPage();
  await admin.goto('/admin/signin?lang=en');
  await admin.getByLabel('Email address').fill(owner.email!);
  await admin.getByLabel('Password').fill(owner.password!);
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await expect(admin).toHaveURL(/\/admin\?lang=en$/);
  await admin.getByRole('link', { name: 'Privacy notice versions' }).click();
  await expect(admin.getByRole('heading', { name: 'Privacy notice versions', level: 1 })).toBeVisible();
  const current = admin.locator('section.notice-version').first();
  await expect(current).toContainText('in force');
  await admin.getByLabel('Version').fill('2026-12-e2e');
  await admin.getByLabel('Material change (ask to re-confirm)').check();
  await admin.getByLabel('Purposes concerned').fill('third_party_sharing');
  await admin.getByLabel('Summary of changes (Japanese)').fill('提供先に提携保険会社を追加しました。');
  await admin.getByLabel('Summary of changes (English)').fill('We added a partner insurer as a recipient.');
  await admin.getByLabel('Text (Japanese)').fill('1. 取得する情報: メールアドレス。\n3. 第三者提供: 同意いただいた場合、提携保険会社に提供します。');
  await admin.getByLabel('Text (English)').fill(
    [
      '1. What we collect: your email address, phone number, and your preferences with their history.',
      '2. Why: to send the newsletter and service notices.',
      '3. Third parties: with your consent, we provide your contact details to our partner insurer.',
      '4. Your choices: change or stop anything at any time on the preference page.',
      '5. Contact: privacy@example.jp',
    ].join('\n'),
  );
  await admin.getByRole('button', { name: 'Publish' }).click();
  const published = admin.locator('section.notice-version[data-version="2026-12-e2e"]');
  await expect(published).toContainText('in force');
  await expect(published).toContainText('We added a partner insurer as a recipient.');
  await admin.close();

  // The first person: the change, what it changed, and the consent not applying until answered.
  await page.goto(first);
  const region = page.getByRole('region', { name: 'Our privacy notice has changed' });
  await expect(region).toBeVisible();
  await expect(region).toContainText('We added a partner insurer as a recipient.');
  await expect(region.locator('ol.diff li.removed')).toContainText('we do not provide your data to third parties without your consent');
  await expect(region.locator('ol.diff li.added')).toContainText('our partner insurer');
  await expect(region.locator('ol.diff li.same').filter({ hasText: 'Why: to send the newsletter' })).toHaveCount(1);
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  await expect(sharing(page)).toHaveAttribute('aria-checked', 'false');
  // Allowing sharing again is a grant: not through a link (a forwarded mail hands it to anyone)
  // but signed in from the person's mailbox (issue 30, item 9).
  await signInByMail(page, 'notice-confirm@example.com');
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('region', { name: 'Our privacy notice has changed' })
    .getByRole('button', { name: 'Confirm under the new notice' }).click();
  await expect(page.getByRole('region', { name: 'Our privacy notice has changed' })).toHaveCount(0);
  await expect(sharing(page)).toHaveAttribute('aria-checked', 'true');
  await expect(page.locator('table.history tbody tr').first()).toContainText('Sharing with third parties · Email');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/signin\?signed_out=1/);

  // The second person withdraws from the same place.
  await page.goto(second);
  await page.getByRole('region', { name: 'Our privacy notice has changed' })
    .getByRole('button', { name: 'Withdraw my consent' }).click();
  await expect(page.getByRole('region', { name: 'Our privacy notice has changed' })).toHaveCount(0);
  await expect(sharing(page)).toHaveAttribute('aria-checked', 'false');

  // The public policy shows the version in force.
  await page.goto('/privacy?lang=en');
  await expect(page.locator('section.notice-text')).toHaveAttribute('data-notice', '2026-12-e2e');
  await expect(page.locator('section.notice-text')).toContainText('our partner insurer');
});
