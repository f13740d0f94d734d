// The web console in a real browser (the system's Chromium under Playwright), without starting
// guests (that part, which loads the toolchain in the host thread, is web-console.deep.test.ts):
// the login with the token and its session cookie's flags, the Content-Security-Policy, the
// domain list with its buttons (save and restore by state; restoring from a missing file), the comparison page, and a WebSocket refused
// without the cookie or from another Origin.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, shot, useWebConsole, web } from './web-harness.ts';

useWebConsole();

/** What a WebSocket upgrade to the console's socket answers: 'open' or the refusal's status. */
function tryWebSocket(headers: Record<string, string>, path = '/ui/ws'): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.daemon.port}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(`${res.statusCode}`));
    ws.on('error', (e) => resolve(`error ${e.message}`));
  });
}

describe('the web console in Chromium', () => {
  it('logs in with the token (a wrong one is refused), keeps an HttpOnly SameSite=Strict cookie, lists the domains', async () => {
    expect((await api('POST', '/domains', { name: 'web', mode: 'pv', memory: 8 })).body.created).toBe(true);
    const context = await web.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

    const first = await page.goto(`${web.base}/`);
    expect(page.url()).toBe(`${web.base}/ui/`);
    const headers = first!.headers();
    expect(headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; font-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect([headers['x-frame-options'], headers['x-content-type-options']]).toEqual(['DENY', 'nosniff']);
    await page.fill('#token', 'not-the-token');
    await page.click('#login');
    await page.waitForSelector('#flash.error');
    expect(await page.textContent('#flash')).toBe('wrong token (it is the contents of STATE_DIR/token)');
    await shot(page, 'login');
    await page.fill('#token', web.token);
    await page.click('#login');

    const row = page.locator('#domains tr[data-name="web"]');
    await row.waitFor();
    expect(await row.locator('td').allInnerTexts()).toEqual(['web', 'defined', 'pv', '1', '8 MiB', '0', '0', '', '', 'StartShut downDestroySuspendResumeSaveRestore']);
    const buttons = row.locator('button');
    expect(await buttons.evaluateAll((bs) => bs.map((b) => `${b.getAttribute('data-action')}:${(b as HTMLButtonElement).disabled ? 'off' : 'on'}`))).toEqual([
      'start:on',
      'shutdown:off',
      'destroy:off',
      'suspend:off',
      'resume:off',
      'save:off',
      'restore:on',
    ]);
    // Restore asks for the file's name in STATE_DIR/files, offering NAME.xls; none was saved: the daemon's one line
    page.once('dialog', (d) => void d.accept(d.defaultValue()));
    await row.locator('button[data-action="restore"]').click();
    await expect.poll(() => page.textContent('#flash')).toBe(`${web.stateDir}/files/web.xls: cannot read (ENOENT)`);
    const cookies = await context.cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path])).toEqual([['xenolith_session', true, 'Strict', '/ui']]);
    expect(cookies[0]!.value).toMatch(/^[0-9a-f]{64}$/);
    expect(cookies[0]!.value).not.toContain(web.token);
    // the cookie is not readable by the page's scripts
    expect(await page.evaluate(() => document.cookie)).toBe('');

    await page.click('#nav-compare');
    const report = page.frameLocator('#report');
    await expect.poll(() => report.locator('h1').innerText()).toBe('No comparison report yet');

    await page.click('#logout');
    await page.waitForSelector('#token');
    // the one failed request: the wrong token's login
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    await context.close();
  });

  it('refuses the WebSocket without a session cookie or from another Origin, and a login from another Origin', async () => {
    const own = { origin: web.base };
    expect(await tryWebSocket(own)).toBe('401');
    const login = await fetch(`${web.base}/ui/login`, { method: 'POST', headers: { origin: web.base, 'content-type': 'application/json' }, body: JSON.stringify({ token: web.token }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(await tryWebSocket({ ...own, cookie })).toBe('open');
    expect(await tryWebSocket({ origin: 'http://attacker.example', cookie })).toBe('403');
    expect(await tryWebSocket({ cookie })).toBe('403');
    expect(await tryWebSocket({ ...own, cookie, host: 'attacker.example' })).toBe('403');
    expect(await tryWebSocket({ ...own, cookie }, '/elsewhere')).toBe('404');
    expect(await tryWebSocket({ ...own, cookie: 'xenolith_session=' + 'a'.repeat(64) })).toBe('401');
    const foreign = await fetch(`${web.base}/ui/login`, { method: 'POST', headers: { origin: 'http://attacker.example', 'content-type': 'application/json' }, body: JSON.stringify({ token: web.token }) });
    expect(foreign.status).toBe(403);
    const noOrigin = await fetch(`${web.base}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: web.token }) });
    expect([noOrigin.status, await noOrigin.json()]).toEqual([403, { error: "log in from the daemon's own page" }]);
    // the API itself still wants the token: the cookie is the web console's only
    const viaCookie = await fetch(`${web.base}/domains`, { headers: { cookie } });
    expect(viaCookie.status).toBe(401);
  });

  it('carries commands over the WebSocket with the API schemas: refusals are one line', async () => {
    const login = await fetch(`${web.base}/ui/login`, { method: 'POST', headers: { origin: web.base, 'content-type': 'application/json' }, body: JSON.stringify({ token: web.token }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const ws = new WebSocket(`ws://127.0.0.1:${web.daemon.port}/ui/ws`, { headers: { origin: web.base, cookie } });
    const answers: unknown[] = [];
    await new Promise<void>((resolve) => ws.on('open', () => resolve()));
    const done = new Promise<void>((resolve) =>
      ws.on('message', (m) => {
        const msg = JSON.parse(m.toString());
        if (msg.event === 'hello') return;
        answers.push(msg);
        if (answers.length === 6) resolve();
      }),
    );
    ws.send(JSON.stringify({ id: 1, op: 'dominfo', name: 'web' }));
    ws.send(JSON.stringify({ id: 2, op: 'setmem', name: 'web', body: {} }));
    ws.send(JSON.stringify({ id: 3, op: 'stop' }));
    ws.send('not json');
    ws.send(JSON.stringify({ id: 4, op: 'trace', name: 'web', body: { cycles: 0 } }));
    ws.send(JSON.stringify({ id: 5, op: 'resume', name: 'nope' }));
    await done;
    ws.close();
    // answers come as they are ready (the host's after the ones refused at once): in id order
    const byId = (answers as { id: number | null }[]).sort((x, y) => (x.id ?? 0) - (y.id ?? 0));
    expect((byId[1] as unknown as { value: { status: string } }).value.status).toBe('defined');
    expect([byId[0], ...byId.slice(2)]).toEqual([
      { id: null, ok: false, status: 400, error: 'a message must be JSON' },
      { id: 2, ok: false, status: 400, error: "field 'memory' is missing: memory must be a number of MiB from 1/256 (4 KiB) to 1024" },
      { id: 3, ok: false, status: 400, error: "unknown command 'stop'" },
      { id: 4, ok: false, status: 400, error: "field 'cycles': cycles must be a whole number from 1 to 3000000000" },
      { id: 5, ok: false, status: 404, error: "no domain named 'nope' (xenolith list --all shows the defined ones)" },
    ]);
  });
});
