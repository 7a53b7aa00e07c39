/**
 * Logging out of the dashboard in Debian's Chromium: the "Log out" button ends the session
 * on the daemon, the page shows how to get in, and a second browser holding the same
 * cookie (another tab, a copied cookie) is refused from then on: its open event stream is
 * ended by the daemon and its reconnection refused, so it too shows how to get in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM_MISSING, launchBrowser, watchedPage, type Browser } from '../helpers/browser.js';
import { request, startDaemon, type Daemon } from '../server/harness.js';

/** Generous bound for anything the page shows after a change (the machine is shared). */
const SEEN_MS = 20_000;

describe('logging out of the dashboard in a real browser', { skip: CHROMIUM_MISSING ?? false }, () => {
  let d: Daemon;
  const browsers: Browser[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    d = await startDaemon();
    browsers.push(await launchBrowser());
    browsers.push(await browsers[0]!.another());
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await d?.stop();
  });

  const open = (b: Browser): Promise<Page> => watchedPage(b.context, consoleErrors);

  it('Log out ends the session: this page shows how to get in, the cookie is gone, and another tab with the same cookie is refused', async () => {
    const [first, second] = browsers as [Browser, Browser];
    const res = d.cli(['dashboard', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const url = (JSON.parse(res.stdout) as { url: string }).url;
    const page = await open(first);
    await page.goto(url);
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    const cookieName = `berth_session_${d.port}`;
    const cookie = (await first.context.cookies()).find((c) => c.name === cookieName);
    assert.ok(cookie, 'logged in');

    // The same cookie in a second browser: a second tab of the same login.
    await second.context.addCookies([cookie]);
    const tab = await open(second);
    await tab.goto(url.split('#')[0]!);
    await tab.waitForSelector('.live.on', { timeout: SEEN_MS });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForSelector('main.login', { timeout: SEEN_MS });
    assert.match(await page.innerText('main.login'), /You are logged out\.[\s\S]*berth dashboard/);
    assert.equal((await first.context.cookies()).find((c) => c.name === cookieName), undefined, 'the cookie is cleared');

    // The other tab's stream is ended by the daemon; reconnecting, it is refused.
    await tab.waitForSelector('main.login', { timeout: SEEN_MS });
    assert.match(await tab.innerText('main.login'), /session ended/);
    await tab.reload();
    await tab.waitForSelector('main.login', { timeout: SEEN_MS });
    const refused = await request(d, { path: '/v1/session', token: null, headers: { Cookie: `${cookieName}=${cookie.value}` } });
    assert.equal(refused.status, 401, 'the daemon forgot the session');

    // Chromium logs each refused load (the other tab's stream and session checks) as an error.
    assert.deepEqual(
      consoleErrors.filter((e) => !/status of 401/.test(e)),
      [],
    );
  });
});
