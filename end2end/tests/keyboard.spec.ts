import { expect, test, type Page } from '@playwright/test';
import { fromOwnNetwork, mails, signInLink } from './mail';
import { freshAddress, newSubject } from './pages';

// Issue 34 item 8: a person changes a consent, unsubscribes (and says why) and signs in with the
// keyboard alone (Tab, Shift+Tab, Space, Enter, and typing into a field). At every stop the
// focus is visible (an outline of at least 2 px, contrasting 3:1 with what is around it, on an
// element in view) and the order is the page's reading order. The first stop skips to the content.

interface Stop {
  /** What a screen reader would call it, near enough: aria-label, label or text. */
  name: string;
  tag: string;
  role: string | null;
  inMain: boolean;
  /** The stop's position in the document, to check that Tab follows the reading order. */
  position: number;
  problem: string | null;
}

/** Presses `key` and describes where the focus went, and what is wrong with how it shows. */
async function press(page: Page, key: string): Promise<Stop> {
  await page.keyboard.press(key);
  return page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    if (!e || e === document.body) return { name: '', tag: 'body', role: null, inMain: false, position: -1, problem: 'focus on nothing' };
    const all = Array.from(document.querySelectorAll('*'));
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = (c: string) => {
      const [r, g, b] = rgb(c).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a: string, b: string) => {
      const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    // The colour behind the outline: the first ancestor with an opaque background.
    let around = 'rgb(255, 255, 255)';
    for (let p = e.parentElement; p; p = p.parentElement) {
      const bg = getComputedStyle(p).backgroundColor;
      const alpha = rgb(bg)[3];
      if (bg !== 'transparent' && (alpha === undefined || alpha > 0.9)) {
        around = bg;
        break;
      }
    }
    const s = getComputedStyle(e);
    const r = e.getBoundingClientRect();
    const label = e.getAttribute('aria-label') ?? (e.id ? document.querySelector(`label[for="${e.id}"]`)?.textContent : null) ?? e.closest('label')?.textContent ?? e.textContent ?? '';
    let problem: string | null = null;
    if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2) problem = `no outline (${s.outlineStyle} ${s.outlineWidth})`;
    else if (contrast(s.outlineColor, around) < 3) problem = `outline ${s.outlineColor} on ${around}: ${contrast(s.outlineColor, around).toFixed(2)}:1`;
    else if (r.width < 1 || r.height < 1 || r.bottom < 0 || r.right < 0 || r.left > innerWidth) problem = 'not in view';
    return { name: label.replace(/\s+/g, ' ').trim(), tag: e.tagName.toLowerCase(), role: e.getAttribute('role'), inMain: !!e.closest('main'), position: all.indexOf(e), problem };
  });
}

/** Tabs until the focus is on the element called `name` (at most 60 stops), unless it is there
 * already; checks every stop. */
async function tabTo(page: Page, name: string | ((s: Stop) => boolean), from?: Stop): Promise<Stop[]> {
  const matches = (s: Stop) => (typeof name === 'string' ? s.name === name : name(s));
  const stops: Stop[] = from ? [from] : [];
  if (from && matches(from)) return stops;
  for (let i = 0; i < 60; i++) {
    const stop = await press(page, 'Tab');
    expect(stop.problem, `stop ${i + 1} (${stop.tag} "${stop.name}")`).toBeNull();
    if (stops.length > 0) {
      expect(stop.position, `"${stop.name}" comes after "${stops[stops.length - 1].name}" in the page`).toBeGreaterThan(stops[stops.length - 1].position);
    }
    stops.push(stop);
    if (matches(stop)) return stops;
  }
  throw new Error(`no focus on "${name}" after 60 tabs: ${stops.map((s) => s.name).join(' | ')}`);
}

/** The first Tab reaches the skip link; Enter on it sends the next Tab into the main content. */
async function skipToContent(page: Page): Promise<Stop> {
  const first = await press(page, 'Tab');
  expect(first.problem).toBeNull();
  expect(first.name).toBe('Skip to the content');
  await page.keyboard.press('Enter');
  const next = await press(page, 'Tab');
  expect(next.problem).toBeNull();
  expect(next.inMain, `after the skip link, "${next.name}" is in main`).toBe(true);
  return next;
}

for (const javaScriptEnabled of [true, false]) {
  const js = `JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;
  test.describe(js, () => {
    test.use({ javaScriptEnabled });

    test(`a consent is changed with the keyboard alone on the preference center (${js})`, async ({ page }) => {
      const token = newSubject(freshAddress('keys-p'));
      await page.goto(`/p/${token}?lang=en`);
      if (javaScriptEnabled) await expect(page.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
      const first = await skipToContent(page);
      // The first switch of the matrix.
      const stops = await tabTo(page, (s) => s.role === 'switch', first);
      const name = stops[stops.length - 1].name;
      const sw = page.getByRole('switch', { name });
      const before = await sw.getAttribute('aria-checked');
      const after = before === 'true' ? 'false' : 'true';
      // Shift+Tab goes back to the stop before, Tab forward again.
      if (stops.length > 1) {
        const back = await press(page, 'Shift+Tab');
        expect(back.problem).toBeNull();
        expect(back.name).toBe(stops[stops.length - 2].name);
        expect((await press(page, 'Tab')).name).toBe(name);
      }
      await page.keyboard.press('Space');
      if (!javaScriptEnabled) await page.waitForLoadState('load');
      await expect(page.getByRole('switch', { name })).toHaveAttribute('aria-checked', after);
      if (javaScriptEnabled) {
        await expect(page.getByRole('status')).toContainText('Saved');
        // The focus stays on the switch, and Enter turns it back.
        await expect(sw).toBeFocused();
        await page.keyboard.press('Enter');
        await expect(sw).toHaveAttribute('aria-checked', before!);
      }
    });

    test(`a person unsubscribes and says why with the keyboard alone (${js})`, async ({ page }) => {
      const token = newSubject(freshAddress('keys-u'));
      await page.goto(`/u/${token}?lang=en`);
      await tabTo(page, 'Unsubscribe', await skipToContent(page));
      await page.keyboard.press('Enter');
      await expect(page.getByRole('heading', { name: 'You are unsubscribed' })).toBeVisible();
      // The answer page has its skip link too; the reasons are one radio group.
      await tabTo(page, 'Too many messages', await skipToContent(page));
      await page.keyboard.press('Space');
      await expect(page.getByRole('radio', { name: 'Too many messages' })).toBeChecked();
      await tabTo(page, 'Send my reason');
      await page.keyboard.press('Enter');
      await expect(page.getByRole('heading', { name: 'Thank you' })).toBeVisible();
    });

    test(`a person signs in by mail with the keyboard alone (${js})`, async ({ page }) => {
      const to = freshAddress('keys-s');
      newSubject(to);
      await fromOwnNetwork(page);
      await page.goto('/signin?lang=en');
      await skipToContent(page);
      // The field may be the first stop in main (skipToContent pressed Tab once already).
      const field = page.getByLabel('Email address');
      if (!(await field.evaluate((e) => e === document.activeElement))) await tabTo(page, 'Email address');
      const seen = mails().length;
      await page.keyboard.type(to);
      await page.keyboard.press('Enter');
      await expect(page.getByRole('status')).toContainText('If that address is registered');
      const path = await signInLink(to, seen);
      await page.goto(path + '?lang=en');
      await skipToContent(page);
      const continued = page.getByRole('button', { name: 'Continue' });
      if (!(await continued.evaluate((e) => e === document.activeElement))) await tabTo(page, 'Continue');
      await page.keyboard.press('Enter');
      await expect(page).toHaveURL(/\/me\?lang=en$/);
    });
  });
}
