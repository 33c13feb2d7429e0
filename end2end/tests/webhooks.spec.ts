import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';

// Issue 32: an owner adds a webhook endpoint in the console, sees its secret once, and watches
// its deliveries arrive at a real receiver (a plain HTTP server on loopback, which the e2e
// server's DOUI_WEBHOOK_ALLOW_HOSTS allows), each signed by the Standard Webhooks rules.
const owner: { email?: string; password?: string } = JSON.parse(process.env.DOUI_E2E_ADMIN ?? '{}');
const links: Record<string, string> = JSON.parse(process.env.DOUI_E2E_LINKS ?? '{}');

type Received = { headers: IncomingHttpHeaders; body: string };

async function signIn(page: Page) {
  await page.goto('/admin/signin?lang=en');
  await page.getByLabel('Email address').fill(owner.email!);
  await page.getByLabel('Password').fill(owner.password!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin\?lang=en$/);
}

test('an owner adds an endpoint, sees its secret once and its signed deliveries', async ({ page, browser }) => {
  const received: Received[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const port = (receiver.address() as AddressInfo).port;
  try {
    await signIn(page);
    await page.getByRole('link', { name: 'Webhooks' }).first().click();
    await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
    const form = page.locator('form.add-webhook');
    await form.getByLabel('URL').fill(`http://127.0.0.1:${port}/doui`);
    await form.getByLabel('Description').fill('CRM (e2e)');
    await form.getByLabel('Channels').fill('email');
    await form.getByRole('button', { name: 'Add an endpoint' }).click();

    // The secret, shown this once.
    const secret = (await page.locator('#webhook-secret').innerText()).trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const id = (await page.locator('#webhook-id').innerText()).trim();
    await page.getByRole('link', { name: 'Webhook secret' }).click();
    const card = page.locator(`section.webhook[data-webhook="${id}"]`);
    await expect(card).toContainText('CRM (e2e)');
    await expect(card).toHaveAttribute('data-state', 'active');
    await expect(page.locator('body')).not.toContainText(secret);

    // A person changes a choice on their page: the endpoint hears of it.
    const person = await browser.newPage();
    await person.goto(links['demo-alex']);
    await expect(person.locator('section.preferences')).toHaveAttribute('data-hydrated', 'true');
    const email = person.getByRole('switch', { name: 'Newsletter and marketing messages: Email' });
    const was = await email.getAttribute('aria-checked');
    await email.click();
    await expect(email).not.toHaveAttribute('aria-checked', was!);
    // Back as it was (the other tests read Alex's page): a second delivery.
    await email.click();
    await expect(email).toHaveAttribute('aria-checked', was!);
    await person.close();
    await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThan(0);

    // Standard Webhooks: HMAC-SHA256 of `id.timestamp.body` with the secret's bytes.
    const got = received[0];
    const msgId = got.headers['webhook-id'] as string;
    const timestamp = got.headers['webhook-timestamp'] as string;
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${msgId}.${timestamp}.${got.body}`).digest('base64');
    const signatures = (got.headers['webhook-signature'] as string).split(' ');
    expect(signatures).toContain(`v1,${expected}`);
    const event = JSON.parse(got.body);
    expect(event.type).toBe('consent.changed');
    expect(event.data.channel).toBe('email');

    // The console's delivery log shows it, answered 200.
    await expect
      .poll(async () => {
        await page.reload();
        return card.locator('table.deliveries tbody tr').count();
      }, { timeout: 15_000 })
      .toBeGreaterThan(0);
    // Newest first: the row of the first delivery (the switch turned back made a second one).
    const row = card.locator('table.deliveries tbody tr', { hasText: msgId });
    await expect(row).toHaveCount(1);
    await expect(row.locator('td.status')).toHaveText('200');
  } finally {
    receiver.close();
  }
});
