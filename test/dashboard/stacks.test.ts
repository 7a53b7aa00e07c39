/**
 * Starting a stack from the dashboard, in Debian's Chromium: a stack `berth up -d` ran in
 * the daemon and `berth down` stopped is listed in the Stacks view as down with its
 * berth.yaml; "Up…" shows what will start, and after confirming, the daemon starts it from
 * that berth.yaml (the page never knew the directory) until its service is healthy, as
 * `berth ps` agrees. A read-only login is offered no Up.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM_MISSING, launchBrowser, watchedPage, type Browser } from '../helpers/browser.js';
import { logIn } from './login.js';
import { berthAsync, tempDir } from '../helpers/cli.js';
import { fixture } from '../launch/harness.js';
import { daemonEnv, freePort, startDaemon, type Daemon } from '../server/harness.js';

const SEEN_MS = 30_000;
const SCOPE = 'dash-up';

describe('stack up from the dashboard in a real browser', { skip: CHROMIUM_MISSING ?? false }, () => {
  let d: Daemon;
  let browser: Browser | undefined;
  const project = tempDir('berth-dash-up-');
  const consoleErrors: string[] = [];

  before(async () => {
    d = await startDaemon();
    fs.writeFileSync(path.join(project.dir, 'berth.yaml'), `project: ${SCOPE}\nservices:\n${fixture('api', await freePort(), 'health: {http: /, start_period: 30s}')}`);
    browser = await launchBrowser();
  });
  after(async () => {
    // Whatever the test left running goes with berth down (and with the daemon's stop).
    if (d !== undefined) d.cli(['down'], { cwd: project.dir });
    await browser?.close();
    await d?.stop();
    project.cleanup();
  });

  const open = async (readOnly = false): Promise<Page> => {
    const page = await logIn(await watchedPage(browser!.context, consoleErrors), d, SEEN_MS, readOnly);
    await page.click('#tab-stacks');
    await page.waitForSelector('#view[data-view="stacks"]');
    return page;
  };

  it('offers Up for a stack the daemon ran and that is down, and starts it from its berth.yaml', async () => {
    const env = daemonEnv(d.state, d.db);
    const up = await berthAsync(['up', '-d', '--json'], { cwd: project.dir, env });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const page = await open();
    const row = `tr[data-stack="${SCOPE}"]`;
    await page.waitForSelector(`${row}[data-state="running"]`, { timeout: SEEN_MS });
    assert.equal(await page.locator(`${row} button`).count(), 0, 'no Up for a running stack');
    const down = await berthAsync(['down'], { cwd: project.dir, env });
    assert.equal(down.code, 0, down.stdout + down.stderr);
    await page.waitForSelector(`${row}[data-state="down"]`, { timeout: SEEN_MS });
    assert.match(await page.innerText(row), new RegExp(`api[\\s\\S]*${path.join(fs.realpathSync(project.dir), 'berth.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

    await page.click(`button[aria-label="up ${SCOPE}"]`);
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Starts api in dependency order from[\s\S]*berth\.yaml/);
    await dialog.getByRole('button', { name: 'Up' }).click();
    await page.waitForSelector(`${row}[data-state="running"]`, { timeout: SEEN_MS });
    await page.waitForSelector('ul.status li.done', { timeout: SEEN_MS });
    await page.click('#tab-services');
    await page.waitForSelector(`tr[data-service="${SCOPE}/api"][data-state="healthy"]`, { timeout: SEEN_MS });
    const ps = JSON.parse(d.cli(['ps', '--json'], { cwd: project.dir }).stdout) as { name: string; state: string }[];
    assert.deepEqual(ps.map((s) => [s.name, s.state]), [['api', 'healthy']], 'berth ps agrees');
    await page.close();
  });

  it('offers a read-only login no Up', async () => {
    const env = daemonEnv(d.state, d.db);
    assert.equal((await berthAsync(['down'], { cwd: project.dir, env })).code, 0);
    const page = await open(true);
    await page.waitForSelector(`tr[data-stack="${SCOPE}"][data-state="down"]`, { timeout: SEEN_MS });
    assert.equal(await page.locator('#view button').count(), 0);
    await page.close();
    assert.deepEqual(consoleErrors, []);
  });
});
