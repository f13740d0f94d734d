// The browser flow in the system's Chromium under Playwright: log in with the token,
// start a domain, type `echo hi` in its terminal and see the answer, read the monitor's views,
// take a timeline of 10 ms, destroy the domain. Deep: starting a guest loads the toolchain in the
// daemon's host thread (seconds); .ci/run runs this file after npm test.
import { describe, expect, it } from 'vitest';
import { api, loggedInPage, shot, useWebConsole } from './web-harness.ts';

useWebConsole();

describe('the web console with a guest, in Chromium', () => {
  it('starts a domain, runs echo hi in its terminal, shows registers, disassembly and a trace, destroys it', async () => {
    expect((await api('POST', '/domains', { name: 'web', mode: 'pv', memory: 8 })).body.created).toBe(true);
    expect((await api('POST', '/domains', { name: 'db', mode: 'trap', memory: 8 })).body.created).toBe(true);
    const { page, errors, close } = await loggedInPage();
    const row = page.locator('#domains tr[data-name="web"]');
    await row.locator('button[data-action="start"]').click();
    await page.waitForSelector('#domains tr[data-name="web"][data-status="running"]', { timeout: 60_000 });
    expect(await row.locator('button[data-action="start"]').isDisabled()).toBe(true);
    // the live counters appear once two samples are in
    await page.waitForFunction(() => document.querySelector('#domains tr[data-name="web"] td.hypercalls')?.textContent !== '');
    await shot(page, 'domains');

    await row.locator('a').click();
    const screen = () => page.locator('#terminal .xterm-rows').innerText();
    await expect.poll(screen, { timeout: 20_000 }).toContain('init: starting sh');
    await page.click('#terminal');
    await page.keyboard.type('echo hi\n');
    await expect.poll(async () => (await screen()).split('\n').map((l) => l.trimEnd()), { timeout: 20_000 }).toContain('hi');
    expect((await screen()).split('\n').map((l) => l.trimEnd())).toContain('$ echo hi');
    await expect.poll(() => page.locator('#registers').innerText()).toMatch(/^r0 =0x[0-9a-f]{8}/);
    await expect.poll(() => page.locator('#disassembly').innerText()).toContain('<- pc');

    await page.click('#trace');
    await expect.poll(() => page.locator('#trace-info').innerText(), { timeout: 20_000 }).toMatch(/^\d[\d,]* records over [\d,]+ cycles of pv:p4-2003: exit \d[\d,]*, trap \d[\d,]*, hypercall \d[\d,]*, event \d[\d,]*, interrupt \d[\d,]*, switch \d+$/);
    expect(await page.locator('#trace-download').getAttribute('download')).toBe('web-trace.json');
    // the chart has its points by now (one a second)
    await page.waitForTimeout(1500);
    await shot(page, 'domain');

    await page.click('.domain-head button[data-action="destroy"]');
    await expect.poll(() => page.locator('#domain-state').innerText()).toBe('shut off');
    expect((await api('GET', '/domains/web')).body).toMatchObject({ status: 'shut off', stopReason: 'destroyed' });
    expect(errors).toEqual([]);
    await close();
  }, 120_000);
});
