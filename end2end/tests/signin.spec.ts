import { expect, test, type Page } from '@playwright/test';
import { fromOwnNetwork, mails, signInLink as linkFor } from './mail';

const admin: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');

function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/.test(msg.text())) seen.push(msg.text());
  });
  return seen;
}

test('a customer signs in with an emailed link: GET shows a button, the POST signs in, once', async ({ page }) => {
  const violations = cspViolations(page);
  await fromOwnNetwork(page);
  await page.goto('/signin?lang=en');
  const seen = mails().length;
  await page.getByLabel('Email address').fill('alex@example.com');
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If that address is registered');

  const path = await linkFor('alex@example.com', seen);
  await page.goto(path + '?lang=en');
  await expect(page.getByRole('heading', { name: 'Continue signing in' })).toBeVisible();
  await page.reload(); // opening it again changes nothing
  await page.getByRole('button', { name: 'Continue' }).click();

  await expect(page).toHaveURL(/\/me\?lang=en$/);
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByText('a•••@example.com')).toBeVisible();
  const web = page.getByRole('switch', { name: 'Personalised advertising: Web' });
  await web.click();
  await expect(web).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('status')).toContainText('Saved');
  expect(violations).toEqual([]);

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/signin\?signed_out=1/);
  await expect(page.getByRole('status')).toContainText('You have signed out');

  // The link worked once.
  await page.goto(path + '?lang=en');
  await expect(page.getByRole('alert')).toContainText('already used or has expired');
  await expect(page.getByRole('link', { name: 'Get a new link by email' })).toBeVisible();
});

test('without JavaScript: the sign-in form and the continue button work as plain forms', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ja-JP' });
  const page = await context.newPage();
  await fromOwnNetwork(page);
  await page.goto('/signin');
  const seen = mails().length;
  await page.getByLabel('メールアドレス').fill('taro@example.jp');
  await page.getByRole('button', { name: 'リンクを送る' }).click();
  await expect(page.getByRole('status')).toContainText('ログイン用のリンクをお送りしました');
  const path = await linkFor('taro@example.jp', seen);
  await page.goto(path);
  await page.getByRole('button', { name: '続ける' }).click();
  await expect(page).toHaveURL(/\/me/);
  await expect(page.getByText('t•••@example.jp')).toBeVisible();
  await context.close();
});

test('the demo owner signs in to the console, finds a subject and changes a consent with a reason', async ({ page }) => {
  expect(admin.email, 'the demo prints an owner account').toBeTruthy();
  await page.goto('/admin');
  await expect(page.getByRole('link', { name: 'Sign in' }).or(page.getByRole('link', { name: 'ログイン' }))).toBeVisible();
  await page.goto('/admin/signin?lang=en');
  await page.getByLabel('Email address').fill(admin.email!);
  await page.getByLabel('Password').fill(admin.password!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\?lang=en$/);

  await page.getByLabel('Search').fill('hanako@example.jp');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'demo-hanako' }).click();
  await expect(page.getByRole('heading', { name: 'hanako@example.jp' })).toBeVisible();

  const change = page.locator('form[action="/api/admin/set_consent"]');
  await change.getByLabel('Purpose').selectOption('third_party_sharing');
  await change.getByLabel('Channel').selectOption('postal');
  await change.getByLabel('State').selectOption('withdrawn');
  await change.getByLabel('Reason').fill('Asked by phone (e2e)');
  await change.getByRole('button', { name: 'Apply' }).click();
  const latest = page.locator('table.events tbody tr').first();
  await expect(latest).toContainText('Asked by phone (e2e)');
  await expect(latest).toContainText('admin:');
});
