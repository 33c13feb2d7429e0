import { expect, test, type Page } from '@playwright/test';

const links: Record<string, string> = JSON.parse(process.env.DOUI_E2E_LINKS ?? '{}');

/** How far the page scrolls sideways (0: not at all). */
async function sideways(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

for (const width of [320, 390]) {
  test(`at ${width} px each purpose is a card of switches and nothing scrolls sideways`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(links['demo-hanako']);
    await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
    expect(await sideways(page)).toBe(0);
    // Every channel's switch of the first purpose is visible without scrolling sideways, each
    // with its channel's name beside it.
    const card = page.locator('table.matrix tbody tr').first();
    const switches = card.getByRole('switch');
    expect(await switches.count()).toBeGreaterThan(1);
    for (const s of await switches.all()) {
      await expect(s).toBeInViewport();
      const box = await s.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(width);
    }
    await expect(card.locator('td[data-label="メール"]')).toBeVisible();
    // A switch still works by touch on a phone.
    const email = page.getByRole('switch', { name: 'ニュースレター・お知らせ: メール' });
    const was = await email.getAttribute('aria-checked');
    await email.click();
    await expect(email).not.toHaveAttribute('aria-checked', was!);
    await email.click();
    await expect(email).toHaveAttribute('aria-checked', was!);
    expect(await sideways(page)).toBe(0);
  });
}

test('without JavaScript at 320 px, and in the dark scheme, nothing scrolls sideways', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, colorScheme: 'dark', viewport: { width: 320, height: 800 } });
  const page = await context.newPage();
  await page.goto(links['demo-taro'] + '?lang=en');
  expect(await sideways(page)).toBe(0);
  // The dark scheme is the page's own: a dark background, light text.
  const [bg, ink] = await page.evaluate(() => {
    const s = getComputedStyle(document.body.parentElement!);
    return [s.backgroundColor, s.color];
  });
  expect(bg).toBe('rgb(15, 19, 24)');
  expect(ink).toBe('rgb(230, 233, 239)');
  for (const path of ['/signin?lang=en', '/privacy?lang=en']) {
    await page.goto(path);
    expect(await sideways(page), path).toBe(0);
  }
  await context.close();
});
