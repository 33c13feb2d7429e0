import { expect, test } from '@playwright/test';
import { freshAddress, newSubject } from './pages';

// Issue 34, item 2: instead of leaving, a person pauses a consent for 30, 60 or 90 days; the page
// shows until when, and "Resume now" turns it back on. Plain forms: the same with and without
// JavaScript.
for (const javaScriptEnabled of [true, false]) {
  const js = javaScriptEnabled ? 'JavaScript on' : 'JavaScript off';
  test(`a person pauses the newsletter for 30 days and resumes it early (${js})`, async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`/p/${newSubject(freshAddress('pause'))}?lang=en`);
    if (javaScriptEnabled) await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
    const email = page.getByRole('switch', { name: 'Newsletter and marketing messages: Email' });
    await email.click();
    await expect(email).toHaveAttribute('aria-checked', 'true');
    // The pause form is drawn by the server; with JavaScript, the switch turned on in place
    // enables its line without a reload.
    const pause = page.getByRole('region', { name: 'Take a break' });
    if (javaScriptEnabled) {
      await expect(pause.locator('option[data-pause-target="newsletter/email"]')).toBeEnabled();
      // And turned off again, the line goes.
      await email.click();
      await expect(email).toHaveAttribute('aria-checked', 'false');
      await expect(pause.locator('option[data-pause-target="newsletter/email"]')).toBeDisabled();
      await email.click();
      await expect(email).toHaveAttribute('aria-checked', 'true');
    }
    await pause.getByLabel('What to pause').selectOption({ label: 'Newsletter and marketing messages · Email' });
    await pause.getByLabel('For').selectOption({ label: '30 days' });
    await pause.getByRole('button', { name: 'Pause' }).click();

    // Off now, and listed with its end: 30 days from today.
    const paused = page.locator('li[data-paused="newsletter/email"]');
    await expect(paused).toContainText('Until');
    const end = await paused.locator('time').getAttribute('datetime');
    const days = (Date.parse(end!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    await expect(page.getByRole('switch', { name: 'Newsletter and marketing messages: Email' })).toHaveAttribute('aria-checked', 'false');

    await paused.getByRole('button', { name: 'Resume now' }).click();
    await expect(page.locator('li[data-paused]')).toHaveCount(0);
    await expect(page.getByRole('switch', { name: 'Newsletter and marketing messages: Email' })).toHaveAttribute('aria-checked', 'true');
    await context.close();
  });
}
