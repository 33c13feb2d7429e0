import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

// The console in Chromium for each role: the owner (printed by the demo), and an operator and a
// viewer created with `doui admin create` on the same data directory.
const owner: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');
const bin = process.env.DOUI_BIN ?? join(resolve(__dirname, '..', '..'), 'target', 'release', 'doui');

function createAdmin(email: string, role: string, password: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DOUI_DATA_DIR: process.env.DOUI_E2E_DATA, DOUI_LOG: 'warn' };
  delete env.DATABASE_URL;
  execFileSync(bin, ['admin', 'create', '--email', email, '--role', role], { input: `${password}\n`, env });
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/admin/signin?lang=en');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\?lang=en$/);
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  createAdmin('viewer@e2e.example.jp', 'viewer', 'viewer-password-e2e-long');
  createAdmin('operator@e2e.example.jp', 'operator', 'operator-password-e2e-long');
});

test('the owner sees the event stream with charts, filters it and exports it with progress', async ({ page }) => {
  await signIn(page, owner.email!, owner.password!);
  await page.getByRole('link', { name: 'All events' }).click();
  await expect(page.getByRole('heading', { name: 'All events' })).toBeVisible();
  await expect(page.locator('figure.chart svg').first()).toBeVisible();
  // Filter by the source of the newest event (its name, as the table shows it).
  const rows = page.locator('table.events tbody tr');
  await expect(rows.first()).toBeVisible();
  // The cell may name a collection point under the source (an imported consent): its first line.
  const source = (await rows.first().locator('td').nth(4).innerText()).split('\n')[0].trim();
  await page.locator('#filter-source').selectOption({ label: source });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/source=\w+/);
  const key = new URL(page.url()).searchParams.get('source')!;
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.allInnerTexts()) expect(text).toContain(source);

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await download;
  await expect(page.locator('.export-progress')).toBeVisible();
  const csv = readFileSync(await file.path(), 'utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toMatch(/^seq,event_id,occurred_at/);
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) expect(line).toContain(`,${key},`);
  await expect(page.locator('.export-status')).toHaveText(`${lines.length - 1} / ${lines.length - 1}`);
});

test('the owner adds a purpose, and the chain verifies with a signed checkpoint', async ({ page }) => {
  await signIn(page, owner.email!, owner.password!);
  await page.goto('/admin/purposes?lang=en');
  const add = page.locator('form.purpose-form').last();
  await add.getByLabel('Key').fill('surveys');
  await add.getByLabel('Name (Japanese)').fill('アンケート');
  await add.getByLabel('Name (English)').fill('Surveys');
  await add.getByLabel('Description (Japanese)').fill('ご意見をうかがいます。');
  await add.getByLabel('Description (English)').fill('We ask for your opinion.');
  await add.getByLabel('SMS').check();
  await add.getByLabel('Kind (how the law treats it)').selectOption('other');
  await add.getByRole('button', { name: 'Save' }).click();
  const surveys = page.locator('section[data-purpose="surveys"]');
  await expect(surveys).toBeVisible();
  await surveys.getByText('Versions (1)').click();
  await expect(surveys.locator('tbody tr').first()).toContainText('admin:');

  await page.goto('/admin/chain?lang=en');
  await page.getByRole('link', { name: 'Verify the whole chain now' }).click();
  await expect(page.getByRole('status')).toContainText('Verified');
  await expect(page.locator('code.public-key')).not.toBeEmpty();
});

test('an operator changes consents but not purposes; a viewer only reads', async ({ page }) => {
  await signIn(page, 'operator@e2e.example.jp', 'operator-password-e2e-long');
  await page.getByLabel('Search').fill('demo-');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'demo-hanako' }).click();
  await expect(page.locator('form[action="/api/admin/set_consent"]')).toBeVisible();
  await page.goto('/admin/purposes?lang=en');
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
  await page.goto('/admin/admins?lang=en');
  await expect(page.getByRole('alert')).toBeVisible();

  await page.context().clearCookies();
  await signIn(page, 'viewer@e2e.example.jp', 'viewer-password-e2e-long');
  await page.getByLabel('Search').fill('hanako');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'demo-hanako' }).click();
  await expect(page.getByRole('heading', { name: 'hanako@example.jp' })).toBeVisible();
  await expect(page.locator('form[action="/api/admin/set_consent"]')).toHaveCount(0);
  await expect(page.locator('table.events tbody tr').first()).toBeVisible();
});
