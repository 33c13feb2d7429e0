import { expect, test, type Page } from '@playwright/test';

// Issue 31: an owner (printed by the demo) registers a collection point in the console and sees
// it listed with the SHA-256 of its wording; then retires it.
const owner: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/admin/signin?lang=en');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\?lang=en$/);
}

test('an owner adds a collection point and sees it listed', async ({ page }) => {
  await signIn(page, owner.email!, owner.password!);
  await page.getByRole('link', { name: 'Collection points' }).click();
  await expect(page.getByRole('heading', { name: 'Collection points', level: 1 })).toBeVisible();
  const form = page.locator('form.collection-point-form');
  const key = `e2e-checkout-${Date.now()}`;
  await form.getByLabel('Key').fill(key);
  await form.getByLabel('Name (Japanese)').fill('購入画面');
  await form.getByLabel('Name (English)').fill('Checkout box');
  await form.getByLabel('Kind').selectOption('checkout');
  await form.getByLabel('URL or place').fill('https://shop.example.jp/checkout');
  await form.getByLabel('Wording shown to the person').fill('Send me news by email');
  await form.getByLabel('Notice version').fill('2026-01');
  await form.getByRole('button', { name: 'Add' }).click();

  const card = page.locator(`section[data-collection-point="${key}"]`);
  await expect(card).toBeVisible();
  await expect(card).toContainText('Checkout box');
  // SHA-256 of "Send me news by email".
  await expect(card.locator('code')).toHaveText(/^[0-9a-f]{64}$/);

  await card.getByRole('button', { name: 'Retire' }).click();
  const retired = page.locator(`section[data-collection-point="${key}"]`);
  await expect(retired.locator('.retired')).toContainText('Retired');
  await expect(retired.getByRole('button', { name: 'Retire' })).toHaveCount(0);
});
