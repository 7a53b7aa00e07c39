/**
 * Opening the dashboard as a user does: `berth dashboard --json` for the login link, then
 * the page until its event stream is live.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Daemon } from '../server/harness.js';

/** The login URL `berth dashboard` prints (read-only with `--read-only`). */
export function loginUrl(d: Daemon, readOnly = false): string {
  const res = d.cli(['dashboard', '--json', ...(readOnly ? ['--read-only'] : [])]);
  assert.equal(res.code, 0, res.stderr);
  return (JSON.parse(res.stdout) as { url: string }).url;
}

/** Goes to a fresh login link on `page` and waits until the page is live. */
export async function logIn(page: Page, d: Daemon, timeoutMs: number, readOnly = false): Promise<Page> {
  await page.goto(loginUrl(d, readOnly));
  await page.waitForSelector('.live.on', { timeout: timeoutMs });
  return page;
}
