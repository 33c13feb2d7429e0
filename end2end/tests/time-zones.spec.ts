import { expect, test } from '@playwright/test';

const links: Record<string, string> = JSON.parse(process.env.DOUI_E2E_LINKS ?? '{}');

// Hanako is a Japanese customer (jurisdiction jp, no zone of her own): the server writes her
// times in Tokyo's zone; a browser elsewhere shows them in its own zone once JavaScript runs.
test("times are in the person's zone, then in the browser's own once JavaScript runs", async ({ browser }) => {
  const paris = await browser.newContext({ timezoneId: 'Europe/Paris' });
  const page = await paris.newPage();
  await page.goto(links['demo-hanako']);
  await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  // A change of her own puts a row in her history (switched back after).
  const email = page.getByRole('switch', { name: 'ニュースレター・お知らせ: メール' });
  const was = await email.getAttribute('aria-checked');
  await email.click();
  await expect(email).not.toHaveAttribute('aria-checked', was!);
  await email.click();
  await expect(email).toHaveAttribute('aria-checked', was!);
  const newest = page.locator('table.history tbody tr').first().locator('time');
  // Paris: GMT+1 in winter, GMT+2 in summer.
  await expect(newest).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d GMT\+[12]$/);
  const instant = await newest.getAttribute('datetime');
  expect(new Date(instant!).getTime()).toBeGreaterThan(Date.now() - 5 * 60_000);
  await paris.close();

  // Without JavaScript the server's text stays: Tokyo time, the same instant.
  const plain = await browser.newContext({ javaScriptEnabled: false, timezoneId: 'Europe/Paris' });
  const still = await plain.newPage();
  await still.goto(links['demo-hanako']);
  const same = still.locator(`table.history time[datetime="${instant}"]`).first();
  await expect(same).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d JST$/);
  const tokyo = new Date(new Date(instant!).getTime() + 9 * 3600_000).toISOString();
  expect(await same.textContent()).toBe(`${tokyo.slice(0, 10)} ${tokyo.slice(11, 16)} JST`);
  await plain.close();

  // A browser in Tokyo shows what the server wrote.
  const home = await browser.newContext({ timezoneId: 'Asia/Tokyo' });
  const there = await home.newPage();
  await there.goto(links['demo-hanako']);
  await expect(there.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
  await expect(there.locator(`table.history time[datetime="${instant}"]`).first()).toHaveText(/ JST$/);
  await home.close();
});
