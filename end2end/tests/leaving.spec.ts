import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';

// Issue 34 item 1: after pressing Unsubscribe on the confirmation page, the person is told it is
// done and then, only then, may say why (or not). Works without JavaScript: plain forms.
const bin = process.env.DOUI_BIN ?? join(resolve(__dirname, '..', '..'), 'target', 'release', 'doui');

function newSubject(email: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, DOUI_DATA_DIR: process.env.DOUI_E2E_DATA, DOUI_LOG: 'warn' };
  delete env.DATABASE_URL;
  const out = execFileSync(bin, ['subject', 'add', '--email', email, '--lang', 'en'], { env }).toString();
  const token = out.match(/\/p\/(\S+)/)?.[1];
  if (!token) throw new Error(`no link in: ${out}`);
  return token;
}

for (const javaScriptEnabled of [true, false]) {
  test(`the reason for leaving is asked after the unsubscribe, optional (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    const token = newSubject(`leaver-${javaScriptEnabled}@e2e.example.com`);
    await page.goto(`/u/${token}?lang=en`);
    // Nothing is asked before the unsubscribe.
    await expect(page.getByRole('radio')).toHaveCount(0);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect(page.getByRole('heading', { name: 'You are unsubscribed' })).toBeVisible();
    const question = page.getByRole('group', { name: 'If you like, tell us why you unsubscribed.' });
    await expect(question.getByRole('radio')).toHaveCount(4);
    await expect(page.getByText('Answering is optional. You are already unsubscribed.')).toBeVisible();
    await question.getByRole('radio', { name: 'Too many messages' }).check();
    await page.getByLabel('Anything else (optional, up to 500 characters)').fill('Once a month would be fine');
    await page.getByRole('button', { name: 'Send my reason' }).click();
    await expect(page.getByRole('heading', { name: 'Thank you' })).toBeVisible();
    await context.close();
  });
}
