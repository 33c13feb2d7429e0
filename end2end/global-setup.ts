import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// A real SMTP listener (enough of RFC 5321 for lettre): each message it receives is written to
// `dir/<n>.eml`, where the tests read it.
function smtpListener(dir: string): Promise<{ server: Server; port: number }> {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = createServer((socket) => {
    let buffer = '';
    let data: string[] | null = null;
    // A connection the server drops (its mail pool, as it stops at the end of the run) resets;
    // unhandled, that error would end the whole test run.
    socket.on('error', () => socket.destroy());
    socket.write('220 e2e ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (data) {
          if (line === '.') {
            writeFileSync(join(dir, `${++count}.eml`), data.join('\r\n'));
            data = null;
            socket.write('250 OK\r\n');
          } else {
            data.push(line.startsWith('.') ? line.slice(1) : line);
          }
          continue;
        }
        const cmd = line.toUpperCase();
        if (cmd.startsWith('EHLO') || cmd.startsWith('HELO')) socket.write('250-e2e\r\n250 8BITMIME\r\n');
        else if (cmd === 'DATA') {
          data = [];
          socket.write('354 go ahead\r\n');
        } else if (cmd === 'QUIT') {
          socket.end('221 bye\r\n');
        } else socket.write('250 OK\r\n');
      }
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, port: (server.address() as { port: number }).port })));
}

// Starts `doui serve` on a fresh data directory and a free port, reads the demo links it prints,
// and hands them to the tests through the environment. Returns the teardown.
export default async function globalSetup() {
  const root = resolve(__dirname, '..');
  const bin = process.env.DOUI_BIN ?? join(root, 'target', 'release', 'doui');
  const dataDir = mkdtempSync(join(tmpdir(), 'doui-e2e-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const mailDir = join(dataDir, 'received-mail');
  const smtp = await smtpListener(mailDir);
  const env = {
    ...process.env,
    DOUI_DATA_DIR: dataDir,
    DOUI_LISTEN: `127.0.0.1:${port}`,
    DOUI_SITE_ROOT: join(root, 'target', 'site'),
    DOUI_DEMO: 'true',
    DOUI_LOG: 'warn',
    DOUI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    DOUI_MAIL_FROM: 'Doui e2e <no-reply@e2e.test>',
    // The webhooks test's receiver listens on loopback over plain http.
    DOUI_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    // The tests' browser sits behind this "proxy": a test that signs in by mail names a network
    // of its own in X-Forwarded-For (see fromOwnNetwork in tests/mail.ts).
    DOUI_TRUSTED_PROXIES: '127.0.0.1/32',
  };
  delete env.DATABASE_URL;
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });

  const links: Record<string, string> = {};
  const admin: Record<string, string> = {};
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('doui did not start within 30 s')), 30_000);
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/^\s+(demo-\w+)\s+(http\S+)$/gm)) links[m[1]] = m[2];
      for (const m of out.matchAll(/^\s+(email|password)\s+(\S+)$/gm)) admin[m[1]] = m[2];
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
  process.env.DOUI_E2E_MAIL = mailDir;
  process.env.DOUI_E2E_ADMIN = JSON.stringify(admin);

  return async () => {
    // The data directory goes only once the server has shut down (it seals what it wrote last).
    const exited = new Promise<void>((ok) => {
      if (server.exitCode !== null) ok();
      else server.once('exit', () => ok());
    });
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 15_000))]);
    smtp.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
