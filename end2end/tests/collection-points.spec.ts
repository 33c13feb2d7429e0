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

// Issue 31: a person brought in by a bulk import sees, in their own history, where their consent
// was collected. The owner registers the collection point and makes a key in the console; the
// sender's system imports a CSV and asks for the person's links through the API.
test("an imported person's page names the collection point of their consent", async ({ page }) => {
  await signIn(page, owner.email!, owner.password!);
  const key = `e2e-shop-${Date.now()}`;
  await page.goto('/admin/collection-points?lang=en');
  const form = page.locator('form.collection-point-form');
  await form.getByLabel('Key').fill(key);
  await form.getByLabel('Name (Japanese)').fill('ネットショップ');
  await form.getByLabel('Name (English)').fill('Web shop signup');
  await form.getByLabel('Kind').selectOption('web_form');
  await form.getByLabel('URL or place').fill('https://shop.example.jp/signup');
  await form.getByLabel('Wording shown to the person').fill('Send me the newsletter');
  await form.getByLabel('Notice version').fill('1.0');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.locator(`section[data-collection-point="${key}"]`)).toBeVisible();

  // An API key for the shop's system, shown once by the console.
  await page.goto('/admin/api-keys?lang=en');
  await page.locator('#name').fill(`e2e import ${key}`);
  for (const scope of ['links', 'consents:write']) {
    await page.locator(`input[name="scopes"][value="${scope}"]`).check();
  }
  await page.getByRole('button', { name: /create/i }).click();
  const secret = (await page.locator('#new-key').textContent())!.trim();
  expect(secret).toMatch(/^doui\./);

  const externalId = `E2E-${Date.now()}`;
  const email = `${externalId.toLowerCase()}@example.com`;
  const csv = `CustomerNo,Mail,NL,SignedUp\n${externalId},${email},yes,2026-11-01T09:00:00+09:00\n`;
  const query = new URLSearchParams([
    ['map', 'external_id=CustomerNo'],
    ['map', 'email=Mail'],
    ['consent', 'newsletter:email=NL'],
    ['time_column', 'SignedUp'],
    ['collection_point', key],
    ['notice_version', '1.0'],
    ['file_name', 'shop.csv'],
  ]);
  const auth = { Authorization: `Bearer ${secret}` };
  const posted = await page.request.post(`/api/v1/imports?${query}`, {
    headers: { ...auth, 'Content-Type': 'text/csv' },
    data: csv,
  });
  expect(posted.status()).toBe(202);
  const job = await posted.json();
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/imports/${job.id}`, { headers: auth })).json()).state)
    .toBe('done');

  const links = await page.request.post('/api/v1/links', {
    headers: auth,
    data: { subject: externalId, purpose: 'newsletter', channel: 'email' },
  });
  expect(links.status()).toBe(200);
  const { preference_url } = await links.json();
  await page.goto(new URL(preference_url).pathname + '?lang=en');
  await expect(page.locator('.collection-point').first()).toHaveText('Web shop signup');
});
