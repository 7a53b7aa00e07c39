/**
 * Long tables in Debian's Chromium: a thousand leases are counted in full (caption,
 * aria-rowcount) while only the rows near the viewport are real table rows; scrolling to
 * the end draws the last ones; the filter still finds any lease, drawn or not; a row's
 * buttons keep the keyboard focus across a live redraw; and no console errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM_MISSING, launchBrowser, watchedPage, type Browser } from '../helpers/browser.js';
import { logIn } from './login.js';
import { freePort, request, startDaemon, type Daemon } from '../server/harness.js';

/** Generous: the page reads 1,000 leases, their conflicts and every listener on a shared, busy machine. */
const SEEN_MS = 60_000;
const SCOPES = 40;
const PER_SCOPE = 25;

describe('long tables drawn as windows in a real browser', { skip: CHROMIUM_MISSING ?? false }, () => {
  let d: Daemon;
  let browser: Browser | undefined;
  const consoleErrors: string[] = [];

  before(async () => {
    d = await startDaemon();
    for (let s = 0; s < SCOPES; s++) {
      const requests = Array.from({ length: PER_SCOPE }, (_, i) => ({ name: `svc-${String(i).padStart(2, '0')}`, purpose: `seed ${s}/${i}` }));
      const res = await request(d, { method: 'POST', path: `/v1/leases/${encodeURIComponent(`big/ws-${String(s).padStart(2, '0')}`)}/allocate`, body: { requests } });
      assert.equal(res.status, 200, res.text);
    }
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  /** Waits for `selector`; on a timeout, says what the page showed instead. */
  const seen = async (page: Page, selector: string): Promise<void> => {
    try {
      await page.waitForSelector(selector, { timeout: SEEN_MS });
    } catch (error) {
      const shown = await page.evaluate(() => `view ${document.querySelector('#view')?.getAttribute('data-view')}: ${document.querySelector('#view')?.textContent?.slice(0, 300)} | status: ${document.querySelector('ul.status')?.textContent}`);
      throw new Error(`${(error as Error).message}\nthe page showed: ${shown}`);
    }
  };

  const open = async (): Promise<Page> => {
    return logIn(await watchedPage(browser!.context, consoleErrors), d, SEEN_MS);
  };

  it('counts every lease, draws the ones in view, the rest as the reader scrolls or filters', async () => {
    const page = await open();
    await page.click('#tab-leases');
    const total = SCOPES * PER_SCOPE;
    const table = 'table[aria-label="leases by scope"]';
    await page.waitForSelector(`${table} caption[data-count="${total}"]`, { timeout: SEEN_MS });
    assert.equal(await page.innerText(`${table} caption`), `1,000 leases in ${SCOPES} scopes`);
    // Every lease and every scope's heading row counted; the header row is row 1.
    assert.equal(await page.getAttribute(table, 'aria-rowcount'), String(total + SCOPES + 1));
    const drawn = await page.locator(`${table} tr[data-lease]`).count();
    assert.ok(drawn > 10 && drawn < 200, `${drawn} rows drawn of ${total}`);
    assert.equal(await page.getAttribute(`${table} tr[data-lease="big/ws-00/svc-00"]`, 'aria-rowindex'), '3', 'after the header and its scope row');
    const last = `tr[data-lease="big/ws-${SCOPES - 1}/svc-${PER_SCOPE - 1}"]`;
    assert.equal(await page.locator(last).count(), 0, 'the last lease is not drawn yet');

    // The page is as long as the whole table: scrolling to its end draws the last rows.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForSelector(last, { timeout: SEEN_MS });
    assert.equal(await page.getAttribute(last, 'aria-rowindex'), String(total + SCOPES + 1));
    assert.equal(await page.locator(`${table} tr[data-lease="big/ws-00/svc-00"]`).count(), 0, 'the first rows went');

    // The filter searches every lease, drawn or not.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.fill('#search', 'seed 17/3');
    await page.waitForSelector(`${table} caption[data-count="1"]`, { timeout: SEEN_MS });
    assert.equal(await page.locator(`${table} tr[data-lease]`).count(), 1);
    assert.equal(await page.getAttribute(`${table} tr[data-lease]`, 'data-lease'), 'big/ws-17/svc-03');
    await page.fill('#search', '');

    // A row's button keeps the focus while a change from another process redraws the table.
    const button = `[aria-label="release big/ws-00/svc-01"]`;
    await page.waitForSelector(button, { timeout: SEEN_MS });
    await page.focus(button);
    assert.equal(d.cli(['allocate', 'web', '--port', String(await freePort()), '--scope', 'big/ws-00']).code, 0);
    await page.waitForSelector('tr[data-lease="big/ws-00/web"]', { timeout: SEEN_MS });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'release big/ws-00/svc-01');
    // And Tab goes on from it to the next button of the table.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'reassign big/ws-00/svc-02');
    await page.close();
  });

  it('the listeners and history tables count everything and draw what is in view', async () => {
    const page = await open();
    await page.click('#tab-ports');
    const idle = 'table[aria-label="leased ports nobody listens on"]';
    await seen(page, `${idle} caption`);
    const count = Number(await page.getAttribute(`${idle} caption`, 'data-count'));
    assert.ok(count >= SCOPES * PER_SCOPE, `${count} idle leased ports counted`);
    assert.equal(await page.getAttribute(idle, 'aria-rowcount'), String(count + 1));
    assert.ok((await page.locator(`${idle} tr[data-lease]`).count()) < count, 'not all drawn');
    await page.click('#tab-history');
    await seen(page, 'table[aria-label="recent changes"] caption');
    const events = Number(await page.getAttribute('table[aria-label="recent changes"] caption', 'data-count'));
    assert.ok(events >= 500, `${events} events counted`);
    assert.ok((await page.locator('table[aria-label="recent changes"] tr[data-event]').count()) < events, 'not all drawn');
    await page.close();
    assert.deepEqual(consoleErrors, []);
  });
});
