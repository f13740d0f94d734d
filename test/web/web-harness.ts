// A daemon served for real on a scratch state directory and the system's Chromium driven by
// Playwright (playwright-core), for the web console's browser tests. beforeAll starts both,
// afterAll always ends both. Screenshots go to reports/web/ (gitignored); with
// XENOLITH_DOC_SCREENSHOTS=1 also to docs/web/ (docs/web.md shows them).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDaemon, type RunningDaemon } from '../../daemon/server.ts';
import { StateDir } from '../../daemon/state-dir.ts';

/** The browser: Debian's chromium package (.ci/run installs it when missing). */
export const CHROMIUM = process.env.XENOLITH_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join('reports', 'web');
const DOCS = process.env.XENOLITH_DOC_SCREENSHOTS === '1' ? join('docs', 'web') : null;

export const web = {} as { daemon: RunningDaemon; token: string; browser: Browser; base: string; stateDir: string };

export function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${web.token}` };
    if (data) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port: web.daemon.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  if (DOCS) {
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, `${name}.png`) });
  }
}

/** Log a fresh page in with the token; the page shows the domain list. */
export async function loggedInPage(): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await web.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${web.base}/ui/`);
  await page.fill('#token', web.token);
  await page.click('#login');
  await page.waitForSelector('#domains');
  return { page, errors, close: () => context.close() };
}

/** Start the daemon and the browser before the file's tests, end them after (call at the top level). */
export function useWebConsole(): void {
  const dir = mkdtempSync(join(tmpdir(), 'xenolith-web-'));
  beforeAll(async () => {
    [web.daemon, web.browser] = await Promise.all([
      startDaemon({ stateDir: dir, port: 0, hostMemoryMiB: 64, pacing: 'wall', version: '0.1.0' }),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
    ]);
    web.token = new StateDir(dir).readToken()!;
    web.base = `http://127.0.0.1:${web.daemon.port}`;
    web.stateDir = dir;
  }, 60_000);
  afterAll(async () => {
    await web.browser?.close();
    await web.daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });
}
