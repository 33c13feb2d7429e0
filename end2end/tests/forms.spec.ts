import { expect, test, type Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { mailedLink, mails } from './mail';

// Issue 34 item 6: a collection point's signup form, embedded in a page that another origin (a
// tiny Node server on another loopback port) serves, completes a double opt-in without
// JavaScript; a second page of that origin posts with fetch to the CORS endpoint; a page of an
// origin the form does not list cannot read the answer.
const owner: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');
const doui = process.env.DOUI_E2E_URL!;

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/admin/signin?lang=en');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\?lang=en$/);
}

/** The other site: an iframe page and a fetch page for the form `key`. */
function otherSite(key: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (req.url?.startsWith('/embed')) {
      res.end(`<!doctype html><html><body><h1>Shop</h1>
        <iframe id="signup" title="Signup" src="${doui}/forms/${key}?lang=en" style="width:100%;height:40rem"></iframe>
        </body></html>`);
    } else if (req.url?.startsWith('/fetch')) {
      const email = new URL(req.url, 'http://x').searchParams.get('email');
      res.end(`<!doctype html><html><body><p id="out">waiting</p><script>
        fetch(${JSON.stringify(`${doui}/forms/${key}/submit`)}, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: ${JSON.stringify(email)}, purposes: ['newsletter'], lang: 'ja' }),
        })
          .then(async (r) => { document.getElementById('out').textContent = r.status + ' ' + (await r.json()).status; })
          .catch(() => { document.getElementById('out').textContent = 'blocked'; });
        </script></body></html>`);
    } else {
      res.statusCode = 404;
      res.end('not here');
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, port: (server.address() as { port: number }).port })));
}

test('a form framed by another origin signs a person up through the mail, without JavaScript', async ({ page, browser }) => {
  const key = `e2e-form-${Date.now()}`;
  const site = await otherSite(key);
  const origin = `http://127.0.0.1:${site.port}`;
  try {
    // The owner registers the point and gives it a form listing the other site's origin.
    await signIn(page, owner.email!, owner.password!);
    await page.goto('/admin/collection-points?lang=en');
    const add = page.locator('form.collection-point-form');
    await add.getByLabel('Key').fill(key);
    await add.getByLabel('Name (Japanese)').fill('ショップのニュースレター');
    await add.getByLabel('Name (English)').fill('Shop newsletter');
    await add.getByLabel('Kind').selectOption('web_form');
    await add.getByLabel('URL or place').fill(`${origin}/embed`);
    await add.getByLabel('Wording shown to the person').fill('Send me the shop newsletter by email.');
    await add.getByRole('button', { name: 'Add' }).click();
    const card = page.locator(`section[data-collection-point="${key}"]`);
    const settings = card.locator('form.signup-form-settings');
    await settings.getByLabel('Purposes the form offers').fill('newsletter');
    await settings.getByLabel('Origins that may embed the form and post to it').fill(origin);
    await settings.getByRole('button', { name: 'Save the form' }).click();
    await expect(page.locator(`section[data-collection-point="${key}"] .signup-form-state`)).toContainText(`/forms/${key}`);

    // A visitor of the other site, JavaScript off: the framed form, then the mail, then the click.
    const visitor = await browser.newContext({ javaScriptEnabled: false });
    const shop = await visitor.newPage();
    await shop.goto(`${origin}/embed`);
    const frame = shop.frameLocator('#signup');
    await expect(frame.getByText('Send me the shop newsletter by email.')).toBeVisible();
    const email = `framed-${Date.now()}@example.com`;
    const seen = mails().length;
    await frame.getByLabel('Email address').fill(email);
    await expect(frame.locator('input[name="purpose"][value="newsletter"]')).toBeChecked();
    await frame.getByRole('button', { name: 'Send the confirmation' }).click();
    await expect(frame.getByText('Check your mail')).toBeVisible();
    const link = await mailedLink(email, seen, /https?:\/\/\S+\/confirm\/[A-Za-z0-9_-]+/, 'confirmation');
    const confirm = await visitor.newPage();
    await confirm.goto(`${doui}${link}?lang=en`);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await expect(confirm).toHaveURL(/\/subscribe\?confirmed=1/);
    await visitor.close();

    // The console names the collection point on the person's event.
    await page.goto('/admin/events?lang=en');
    await expect(page.locator('.collection-point', { hasText: 'Shop newsletter' }).first()).toBeVisible();
  } finally {
    site.server.close();
  }
});

test('a listed origin posts with fetch to the CORS endpoint; another origin cannot read it', async ({ page }) => {
  const key = `e2e-cors-${Date.now()}`;
  const site = await otherSite(key);
  const origin = `http://127.0.0.1:${site.port}`;
  try {
    await signIn(page, owner.email!, owner.password!);
    await page.goto('/admin/collection-points?lang=en');
    const add = page.locator('form.collection-point-form');
    await add.getByLabel('Key').fill(key);
    await add.getByLabel('Name (Japanese)').fill('ショップ（API）');
    await add.getByLabel('Name (English)').fill('Shop (fetch)');
    await add.getByLabel('Kind').selectOption('web_form');
    await add.getByLabel('URL or place').fill(`${origin}/fetch`);
    await add.getByLabel('Wording shown to the person').fill('Send me news.');
    await add.getByRole('button', { name: 'Add' }).click();
    const settings = page.locator(`section[data-collection-point="${key}"] form.signup-form-settings`);
    await settings.getByLabel('Purposes the form offers').fill('newsletter');
    await settings.getByLabel('Origins that may embed the form and post to it').fill(origin);
    await settings.getByRole('button', { name: 'Save the form' }).click();
    await expect(page.locator(`section[data-collection-point="${key}"] .signup-form-state`)).toBeVisible();

    const email = `fetched-${Date.now()}@example.com`;
    const seen = mails().length;
    await page.goto(`${origin}/fetch?email=${encodeURIComponent(email)}`);
    await expect(page.locator('#out')).toHaveText('202 confirmation_sent');
    await mailedLink(email, seen, /https?:\/\/\S+\/confirm\/[A-Za-z0-9_-]+/, 'confirmation');

    // The same page from another origin (localhost is not 127.0.0.1): the browser refuses it.
    await page.goto(`http://localhost:${site.port}/fetch?email=${encodeURIComponent(`x-${email}`)}`);
    await expect(page.locator('#out')).toHaveText('blocked');
  } finally {
    site.server.close();
  }
});
