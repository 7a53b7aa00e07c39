/**
 * The dashboard of machine alpha on a PostgreSQL registry shared with machine beta (issue
 * 14), in Debian's Chromium: beta's leases are listed with a MACHINE column and no actions,
 * alpha's keep theirs; a lease beta allocates or releases appears or goes live; beta's
 * leases are not counted as alpha's ports. Skips, saying why, without PostgreSQL or Chromium.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM_MISSING, launchBrowser, watchedPage, type Browser } from '../helpers/browser.js';
import { logIn } from './login.js';
import { berth, ROOT, tempDir } from '../helpers/cli.js';
import { createDatabase, dropDatabase, pgUnavailable, startPg, type PgServer } from '../helpers/postgres.js';
import { freePort, startDaemon, type Daemon } from '../server/harness.js';

const SEEN_MS = 20_000;
/** Where the screenshots go (build/ is rebuilt by every `npm run build`, never committed). */
const SHOTS = path.join(ROOT, 'build', 'screenshots');
const skip = pgUnavailable() ?? CHROMIUM_MISSING;

describe("the dashboard on a shared registry: other machines' leases, read-only", { skip: skip ?? false }, () => {
  let server: PgServer;
  let url: string;
  let d: Daemon;
  let browser: Browser | undefined;
  const consoleErrors: string[] = [];
  const beta = tempDir('berth-beta-');
  const asBeta = (args: readonly string[]) => berth(args, { cwd: beta.dir, db: url, env: { BERTH_MACHINE: 'beta', BERTH_STATE_DIR: beta.dir } });

  before(async () => {
    server = await startPg();
    url = await createDatabase(server);
    d = await startDaemon({ db: url, env: { BERTH_MACHINE: 'alpha' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
    if (url !== undefined) await dropDatabase(server, url);
    await server?.stop();
    beta.cleanup();
  });

  it("shows beta's leases with their machine and no actions, live, and leaves alpha's actions alone", async () => {
    const port = await freePort();
    assert.equal(d.cli(['allocate', 'web', '--scope', 'shop', '--port', String(port)]).code, 0);
    const res = asBeta(['allocate', 'web', '--scope', 'shop', '--port', String(port)]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(asBeta(['allocate', 'api', '--scope', 'shop']).code, 0);

    const page = await logIn(await watchedPage(browser!.context, consoleErrors), d, SEEN_MS);
    await page.click('#tab-leases');
    const theirs = 'tr[data-lease="shop/web"][data-machine="beta"]';
    const mine = 'tr[data-lease="shop/web"][data-machine="alpha"]';
    await page.waitForSelector(theirs, { timeout: SEEN_MS });
    assert.equal(await page.innerText('#view thead th >> nth=0'), 'Machine');
    assert.match(await page.innerText(theirs), new RegExp(`^beta\\s+web\\s+${port}\\b[\\s\\S]*on beta[\\s\\S]*read-only`));
    assert.equal(await page.locator(`${theirs} button`).count(), 0, "no actions on beta's lease");
    assert.equal(await page.locator(`${mine} button`).count(), 2, "alpha's keeps reassign and release");
    assert.equal(await page.innerText('#view caption'), '3 leases in 1 scope');
    // For review beside the other views' (test/dashboard/dashboard.test.ts).
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'leases-machines-light.png') });

    // Live: beta's changes arrive through the shared event list.
    assert.equal(asBeta(['allocate', 'live', '--scope', 'shop']).code, 0);
    await page.waitForSelector('tr[data-lease="shop/live"][data-machine="beta"]', { timeout: SEEN_MS });
    assert.equal(asBeta(['release', 'api', '--scope', 'shop']).code, 0);
    await page.waitForSelector('tr[data-lease="shop/api"][data-machine="beta"]', { state: 'detached', timeout: SEEN_MS });
    assert.equal(await page.locator(mine).count(), 1, "alpha's lease of the same name stays");

    // Beta's changes in the History view, with their machine.
    await page.click('#tab-history');
    const released = 'table[aria-label="recent changes"] tr[data-machine="beta"]';
    await page.waitForSelector(released, { timeout: SEEN_MS });
    assert.equal(await page.innerText('#view thead th >> nth=0'), 'Machine');
    assert.match(await page.innerText(`${released} >> nth=0`), /^beta\s[\s\S]*release[\s\S]*shop\/api/);

    // Beta's ports are another machine's: not among this machine's leased ports nobody listens on.
    await page.click('#tab-ports');
    await page.waitForSelector('table[aria-label="leased ports nobody listens on"]', { timeout: SEEN_MS });
    assert.equal(await page.locator('#view tr[data-lease="shop/live"]').count(), 0);
    await page.close();
    assert.deepEqual(consoleErrors, []);
  });
});
