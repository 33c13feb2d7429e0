import { defineConfig } from '@playwright/test';

// Drives Debian's Chromium (never a downloaded browser) against the release server, which
// global-setup.ts starts on an empty SQLite database with the demo data.
export default defineConfig({
  testDir: './tests',
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  globalSetup: './global-setup.ts',
  reporter: [['list']],
  use: {
    baseURL: process.env.DOUI_E2E_URL,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
