import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { consolePages, customerPages, type Lang, type PageToCheck, settled, signInOwner } from './pages';

// Issue 34 item 8: axe-core finds no violation of WCAG 2.1 A and AA (nor of its best practices:
// landmarks, heading order, one main) on any page a person or an admin sees, in Japanese and
// English, with and without JavaScript, in the light and the dark scheme, at a phone's width.
// A new page is one line in tests/pages.ts.

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const PHONE = { width: 360, height: 740 };
const langs: Lang[] = ['ja', 'en'];

// The console's pages need the owner signed in: once, its cookies kept for every test.
let ownerState: Awaited<ReturnType<import('@playwright/test').BrowserContext['storageState']>> | undefined;

for (const javaScriptEnabled of [true, false]) {
  for (const colorScheme of ['light', 'dark'] as const) {
    const variant = `JavaScript ${javaScriptEnabled ? 'on' : 'off'}, ${colorScheme}`;
    test.describe(variant, () => {
      test.use({ colorScheme, viewport: PHONE, isMobile: true, hasTouch: true });

      const check = (p: PageToCheck, console: boolean) =>
        test(`${p.name}: no axe-core violation (${variant})`, async ({ browser }) => {
          if (console && !ownerState) {
            const context = await browser.newContext();
            await signInOwner(await context.newPage());
            ownerState = await context.storageState();
            await context.close();
          }
          // axe runs in the page, so "without JavaScript" is the page with every script it would
          // load refused (no island, no gpc.js or local-time.js): the markup a browser without
          // JavaScript shows.
          const context = await browser.newContext({
            colorScheme,
            viewport: PHONE,
            isMobile: true,
            hasTouch: true,
            storageState: console ? ownerState : undefined,
          });
          if (!javaScriptEnabled) await context.route(/\.(js|wasm)(\?.*)?$/, (route) => route.abort());
          const page = await context.newPage();
          const found: string[] = [];
          for (const lang of langs) {
            await p.open(page, lang);
            await settled(page, javaScriptEnabled);
            await expect(page.locator('html')).toHaveAttribute('lang', lang);
            const result = await new AxeBuilder({ page }).withTags(TAGS).options({ resultTypes: ['violations'] }).analyze();
            for (const r of result.violations) {
              const where = r.nodes.map((n) => `${n.target.join(' ')} (${(n.failureSummary ?? '').replace(/\s+/g, ' ')})`);
              found.push(`[${lang}] ${r.id} — ${r.help}\n    ${where.join('\n    ')}`);
            }
          }
          await context.close();
          expect(found, found.join('\n')).toEqual([]);
        });
      for (const p of customerPages) check(p, false);
      for (const p of consolePages) check(p, true);
    });
  }
}
