// The browser flow in the system's Chromium under Playwright: log in with the token,
// start a domain, type `echo hi` in its terminal and see the answer, read the monitor's views,
// take a timeline of 10 ms, destroy the domain; save a running domain to a file and restore it. Deep: starting a guest loads the toolchain in the
// daemon's host thread (seconds); .ci/run runs this file after npm test.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, loggedInPage, shot, useWebConsole, web } from './web-harness.ts';
import { xenolith } from '../cli/run-in-process.ts';

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

    // the same trace from the CLI: xenolith trace NAME FILE
    const file = join(web.stateDir, 'web-trace.json');
    const cli = await xenolith('trace', 'web', file, '--cycles', '3000000', '--state-dir', web.stateDir);
    const t = JSON.parse(readFileSync(file, 'utf8'));
    expect([cli.status, cli.stdout]).toEqual([0, `trace of pv:p4-2003: ${t.otherData.records} records over ${t.otherData.toCycle - t.otherData.fromCycle} cycles written to ${file}\n`]);
    expect(t.otherData.toCycle - t.otherData.fromCycle).toBeGreaterThanOrEqual(3_000_000);
    expect(await xenolith('trace', 'db', file, '--state-dir', web.stateDir)).toMatchObject({ status: 1, stderr: "xenolith: domain 'db' is defined: a trace records a running domain\n" });
    expect(await xenolith('trace', 'web', file, '--cycles', '0', '--state-dir', web.stateDir)).toMatchObject({ status: 2, stderr: 'xenolith: --cycles must be a whole number from 1 to 3000000000\n' });

    await page.click('.domain-head button[data-action="destroy"]');
    await expect.poll(() => page.locator('#domain-state').innerText()).toBe('shut off');
    expect((await api('GET', '/domains/web')).body).toMatchObject({ status: 'shut off', stopReason: 'destroyed' });

    // Save and Restore: the file's name in STATE_DIR/files is asked for (NAME.xls offered, accepted here)
    const prompts: string[] = [];
    page.on('dialog', (d) => {
      prompts.push(`${d.message()} [${d.defaultValue()}]`);
      void d.accept(d.defaultValue());
    });
    expect((await api('POST', '/domains/db/start')).status).toBe(200);
    await page.click('#nav-domains');
    const db = page.locator('#domains tr[data-name="db"]');
    await page.waitForSelector('#domains tr[data-name="db"][data-status="running"]', { timeout: 60_000 });
    expect(await db.locator('button[data-action="restore"]').isDisabled()).toBe(true);
    await db.locator('button[data-action="save"]').click();
    await page.waitForSelector('#domains tr[data-name="db"][data-status="shut off"]', { timeout: 60_000 });
    const files = join(web.stateDir, 'files');
    const saved = join(files, 'db.xls');
    await expect.poll(() => page.textContent('#flash')).toBe(`db saved to ${saved}`);
    expect((await api('GET', '/domains/db')).body).toMatchObject({ status: 'shut off', stopReason: 'saved' });
    await db.locator('button[data-action="restore"]').click();
    await page.waitForSelector('#domains tr[data-name="db"][data-status="running"]', { timeout: 60_000 });
    await expect.poll(() => page.textContent('#flash')).toBe(`db restored from ${saved}`);
    expect(prompts).toEqual([`Save db to the file (a name in ${files}): [db.xls]`, `Restore db from the file (a name in ${files}): [db.xls]`]);
    expect(existsSync(saved)).toBe(true);
    expect((await api('POST', '/domains/db/destroy')).status).toBe(200);
    expect(errors).toEqual([]);
    await close();
  }, 120_000);
});
