import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';

// The mail Doui sent during the run, as the test SMTP listener (global-setup.ts) wrote it.
const mailDir = process.env.DOUI_E2E_MAIL ?? '';

/**
 * Sends the page's requests as if from a network of their own, through the proxy the test server
 * trusts (127.0.0.1): /signin mails at most 10 links per network in 15 minutes, and the whole
 * suite signs in more often than that from this one machine.
 */
export async function fromOwnNetwork(page: Page): Promise<void> {
  const n = () => 1 + Math.floor(Math.random() * 254);
  await page.setExtraHTTPHeaders({ 'X-Forwarded-For': `10.${n()}.${n()}.${n()}` });
}

/** Every message received so far, oldest first. */
export function mails(): string[] {
  try {
    return readdirSync(mailDir)
      .sort((a, b) => parseInt(a) - parseInt(b))
      .map((f) => readFileSync(join(mailDir, f), 'utf8'));
  } catch {
    return [];
  }
}

// The text of a message: its body decoded (lettre sends Japanese as base64 or quoted-printable).
function decoded(raw: string): string {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  if (/Content-Transfer-Encoding:\s*base64/i.test(head)) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (/Content-Transfer-Encoding:\s*quoted-printable/i.test(head)) {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** The path of the first link matching `pattern` in a message to `to` that arrived after `seen`. */
export async function mailedLink(to: string, seen: number, pattern: RegExp, what: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const found = mails().slice(seen).find((m) => m.includes(to));
    const m = found && decoded(found).match(pattern);
    if (m) return new URL(m[0]).pathname;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${what} mail for ${to}`);
}

/** The sign-in link in a message to `to` that arrived after `seen` messages. */
export function signInLink(to: string, seen: number): Promise<string> {
  return mailedLink(to, seen, /https?:\/\/\S+\/signin\/[A-Za-z0-9_-]+/, 'sign-in');
}
