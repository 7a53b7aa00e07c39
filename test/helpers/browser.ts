/**
 * Debian's Chromium driven by playwright-core, for the dashboard's tests and bench: never
 * a downloaded browser, a fresh profile per launch, and no traffic of its own (no sync,
 * updates, QUIC or background requests). Tests skip with CHROMIUM_MISSING when the
 * browser is not installed (`apt-get install chromium`; .ci/run does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian installs Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. */
export const CHROMIUM_MISSING: string | null = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium); the browser tests need Debian's Chromium`;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A running browser with its own profile directory; close() ends it and removes the profile. */
export interface Browser {
  readonly context: BrowserContext;
  /** A second, separate context (its own cookies): a new profile of its own. */
  another(): Promise<Browser>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh --user-data-dir (playwright passes it as the profile). */
export async function launchBrowser(opts: { readonly colorScheme?: 'light' | 'dark' } = {}): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      colorScheme: opts.colorScheme ?? 'light',
      viewport: { width: 1280, height: 860 },
      timeout: 60_000,
    });
  } catch (error) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    another: () => launchBrowser(opts),
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page of `context` whose console errors and uncaught exceptions go to `errors` (a test asserts it ends empty). */
export async function watchedPage(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return page;
}
