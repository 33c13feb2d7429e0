import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Starts `doui serve` on a fresh data directory and a free port, reads the demo links it prints,
// and hands them to the tests through the environment. Returns the teardown.
export default async function globalSetup() {
  const root = resolve(__dirname, '..');
  const bin = process.env.DOUI_BIN ?? join(root, 'target', 'release', 'doui');
  const dataDir = mkdtempSync(join(tmpdir(), 'doui-e2e-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = {
    ...process.env,
    DOUI_DATA_DIR: dataDir,
    DOUI_LISTEN: `127.0.0.1:${port}`,
    DOUI_SITE_ROOT: join(root, 'target', 'site'),
    DOUI_DEMO: 'true',
    DOUI_LOG: 'warn',
  };
  delete env.DATABASE_URL;
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });

  const links: Record<string, string> = {};
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('doui did not start within 30 s')), 30_000);
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/^\s+(demo-\w+)\s+(http\S+)$/gm)) links[m[1]] = m[2];
      if (out.includes('Doui is listening')) {
        clearTimeout(timer);
        ok();
      }
    });
    server.on('exit', (code) => fail(new Error(`doui exited with ${code} before listening`)));
  });
  if (Object.keys(links).length < 3) throw new Error(`expected 3 demo links, got ${JSON.stringify(links)}`);

  process.env.DOUI_E2E_URL = `http://127.0.0.1:${port}`;
  process.env.DOUI_E2E_LINKS = JSON.stringify(links);
  process.env.DOUI_E2E_DATA = dataDir;

  return async () => {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
}
