import { expect, test, type Page } from '@playwright/test';

const links: Record<string, string> = JSON.parse(process.env.DOUI_E2E_LINKS ?? '{}');

function sw(page: Page, purposeName: string, channelName: string) {
  return page.getByRole('switch', { name: `${purposeName}: ${channelName}` });
}

async function hydrated(page: Page) {
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
}

test('with JavaScript: switching newsletter/email off toggles in place, survives a reload and shows in history', async ({ page }) => {
  await page.goto(links['demo-hanako']);
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  const email = sw(page, 'ニュースレター・お知らせ', 'メール');
  await expect(email).toHaveAttribute('aria-checked', 'true');

  const before = page.url();
  await email.click();
  await expect(email).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByRole('status')).toContainText('保存しました');
  expect(page.url()).toBe(before); // in place: no navigation

  await page.reload();
  await hydrated(page);
  await expect(sw(page, 'ニュースレター・お知らせ', 'メール')).toHaveAttribute('aria-checked', 'false');
  const latest = page.locator('table.history tbody tr').first();
  await expect(latest).toContainText('ニュースレター・お知らせ · メール');
  await expect(latest).toContainText('撤回');
  await expect(latest).toContainText('設定ページ');

  // Keyboard: focus the SMS switch and press Space.
  const sms = sw(page, 'ニュースレター・お知らせ', 'SMS');
  await sms.focus();
  await page.keyboard.press('Space');
  await expect(sms).toHaveAttribute('aria-checked', 'true');
});

test('with JavaScript: a refused change rolls back and says why', async ({ page }) => {
  await page.goto(links['demo-taro'] + '?lang=en');
  await hydrated(page);
  const web = sw(page, 'Personalised advertising', 'Web');
  await expect(web).toHaveAttribute('aria-checked', 'false');
  await page.route('**/api/set_consent', async (route) => {
    await new Promise((r) => setTimeout(r, 300));
    await route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'unavailable', message: 'unavailable' }),
    });
  });
  await web.click();
  await expect(web).toHaveAttribute('aria-busy', 'true'); // pending while the server answers
  await expect(page.getByRole('alert')).toContainText("We can't process this right now");
  await expect(web).toHaveAttribute('aria-checked', 'false');
  await expect(web).toHaveAttribute('aria-busy', 'false');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('switching newsletter/email off posts the form, survives a reload and shows in history', async ({ page }) => {
    await page.goto(links['demo-alex']);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    const email = sw(page, 'Newsletter and marketing messages', 'Email');
    await expect(email).toHaveAttribute('aria-checked', 'true');
    await email.click();
    await page.waitForLoadState();
    await expect(sw(page, 'Newsletter and marketing messages', 'Email')).toHaveAttribute('aria-checked', 'false');
    await page.reload();
    await expect(sw(page, 'Newsletter and marketing messages', 'Email')).toHaveAttribute('aria-checked', 'false');
    const latest = page.locator('table.history tbody tr').first();
    await expect(latest).toContainText('Newsletter and marketing messages · Email');
    await expect(latest).toContainText('withdrawn');
    await expect(latest).toContainText('Preference center');
  });

  test('stop all marketing turns off every marketing switch, lastingly until lifted', async ({ page }) => {
    await page.goto(links['demo-alex']);
    await page.getByRole('button', { name: 'Stop all marketing' }).click();
    await page.waitForLoadState();
    for (const name of ['Email', 'SMS', 'Push', 'Post', 'Phone']) {
      await expect(sw(page, 'Newsletter and marketing messages', name)).toHaveAttribute('aria-checked', 'false');
    }
    await expect(sw(page, 'Personalised advertising', 'Web')).toHaveAttribute('aria-checked', 'false');
    // R34: a lasting objection, shown until the person lifts it (lifting grants nothing).
    const objection = page.locator('[data-objection="in-force"]');
    await expect(objection).toContainText('All marketing stopped');
    await objection.getByRole('button', { name: 'Lift my objection' }).click();
    await page.waitForLoadState();
    await expect(page.locator('[data-objection]')).toHaveCount(0);
    await expect(sw(page, 'Personalised advertising', 'Web')).toHaveAttribute('aria-checked', 'false');
  });
});

test('the page in Japanese and in English, with a switch', async ({ page }) => {
  await page.goto(links['demo-taro']);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('配信・同意の設定');
  await expect(page.locator('table.matrix').getByRole('columnheader', { name: '利用目的' })).toBeVisible();
  await page.getByRole('link', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences');
  await expect(page.getByText('default (off until you agree)').first()).toBeVisible();
  await page.getByRole('link', { name: '日本語' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('配信・同意の設定');
});

test('a broken link gets a 403 page in the browser language', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'ja-JP' });
  const page = await context.newPage();
  const res = await page.goto('/p/1.k1.not.valid');
  expect(res?.status()).toBe(403);
  await expect(page.getByRole('alert')).toContainText('このリンクは無効です');
  await context.close();
});
