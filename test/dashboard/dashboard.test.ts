/**
 * The dashboard as a user drives it, in Debian's Chromium (playwright-core): a real
 * daemon (`berth serve --port P`, its own state directory), `berth dashboard` for the
 * login link, a lease allocated by a separate `berth allocate` appearing live, a stranger
 * on a leased port killed from the page after confirming, a stack started by `berth up -d`
 * going from starting to healthy with its logs, one of its services stopped from the page,
 * a read-only login offering no actions and refused by the API, and no console errors. Screenshots of every view, light
 * and dark, go to build/screenshots/ for review (printed by the test).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM_MISSING, launchBrowser, watchedPage, type Browser } from '../helpers/browser.js';
import { loginUrl as dashboardLink } from './login.js';
import { berthAsync, ROOT, tempDir } from '../helpers/cli.js';
import { fixture, portFree } from '../launch/harness.js';
import { spawn } from 'node:child_process';
import { daemonEnv, freePort, killQuietly, listener, startDaemon, waitExit, type Daemon } from '../server/harness.js';

/** Where the screenshots go (build/ is rebuilt by every `npm run build`, never committed). */
const SHOTS = path.join(ROOT, 'build', 'screenshots');
/** Generous bound for anything the page shows after a change (the machine is shared). */
const SEEN_MS = 20_000;
const VIEWS = ['ports', 'leases', 'pools', 'services', 'stacks', 'conflicts', 'history', 'usage'];
/** The project `berth up -d` runs in the daemon (its own directory, the daemon's state). */
const STACK = tempDir('berth-dash-stack-');
const STACK_SCOPE = 'dash-stack';
/** A service of that stack that prints 1,200 lines, then one line per request on its port. */
const CHATTY = (port: number): string =>
  `  chatty:\n    port: ${port}\n    command: [${JSON.stringify(process.execPath)}, "-e", "for (let i = 0; i < 1200; i++) console.log('chatty line ' + i); require('http').createServer((q, r) => { console.log('hit ' + q.url); r.end('ok'); }).listen(Number(process.env.PORT), '127.0.0.1')"]\n`;

describe('the dashboard in a real browser', { skip: CHROMIUM_MISSING ?? false }, () => {
  let d: Daemon;
  let browser: Browser | undefined;
  const children: ChildProcess[] = [];
  const consoleErrors: string[] = [];
  /** The chatty service's port (the stack is written by the first Services test). */
  let chattyPort = 0;

  before(async () => {
    d = await startDaemon();
    fs.writeFileSync(path.join(d.dir, 'berth.yaml'), 'project: demo\npools:\n  agents:\n    ports: { web: 47100, api: 47200 }\n    step: 10\n    slots: 3\n');
    browser = await launchBrowser();
  });
  after(async () => {
    for (const c of children) killQuietly(c);
    // The stack's processes go with `berth down` (and with the daemon's stop, if that fails).
    if (d !== undefined) d.cli(['down'], { cwd: STACK.dir });
    await browser?.close();
    await d?.stop();
    STACK.cleanup();
  });

  /** `berth dashboard --json` run as a user runs it: the login URL. */
  const loginUrl = (readOnly = false): string => dashboardLink(d, readOnly);
  /** A page that records console errors and uncaught exceptions. */
  const open = (b: Browser): Promise<Page> => watchedPage(b.context, consoleErrors);
  const view = async (page: Page, id: string): Promise<void> => {
    await page.click(`#tab-${id}`);
    await page.waitForSelector(`#view[data-view="${id}"]`);
  };

  it('opens from the login link, drops the secret from the address bar, and shows a lease another process allocates', async () => {
    const page = await open(browser!);
    const url = loginUrl();
    await page.goto(url);
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    assert.doesNotMatch(page.url(), /login=/, 'the secret is gone from the address bar');
    const cookie = (await browser!.context.cookies()).find((c) => c.name === `berth_session_${d.port}`);
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    await view(page, 'leases');
    const allocation = berthAsync(['allocate', 'web', '--port', String(await freePort()), '--scope', 'demo/ws-1', '--purpose', 'the demo app'], { cwd: d.dir, env: daemonEnv(d.state, d.db) });
    await page.waitForSelector('tr[data-lease="demo/ws-1/web"]', { timeout: SEEN_MS });
    assert.equal((await allocation).code, 0);
    // The details the event does not carry (purpose, strategy) follow from the page's own refetch.
    await page.waitForFunction(() => document.querySelector('tr[data-lease="demo/ws-1/web"]')?.textContent?.includes('the demo app'), undefined, { timeout: SEEN_MS });
    // --port chose the port: the fixed strategy, shown beside the purpose.
    await page.waitForSelector('tr[data-lease="demo/ws-1/web"] td[data-strategy="fixed"]', { timeout: SEEN_MS });
    assert.equal((await page.goto(url.split('#')[0]!)) !== null, true);
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    await page.close();
  });

  it('kills a stranger on a leased port from the page, after showing who it is and a confirmation', async () => {
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    // An ephemeral lease expects its owner (or the owner's children) on its port: anyone
    // else listening there is a stranger.
    const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(owner);
    const port = await freePort();
    const res = d.cli(['allocate', 'agent', '--port', String(port), '--scope', 'demo/ws-1', '--ephemeral', '--pid', String(owner.pid)]);
    assert.equal(res.code, 0, res.stderr);
    const web = { port };
    const stranger = await listener(web.port);
    children.push(stranger);
    await view(page, 'ports');
    const row = `tr.stranger[data-port="${web.port}"][data-pid="${stranger.pid}"]`;
    await page.waitForSelector(row, { timeout: SEEN_MS });
    await page.click(`${row} button`);
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    const text = await dialog.innerText();
    assert.match(text, new RegExp(`\\b${stranger.pid}\\b`), 'the dialog names the pid');
    assert.match(text, /node/, 'and the process');
    assert.equal(stranger.exitCode, null, 'nothing is killed before the confirmation');
    await dialog.getByRole('button', { name: 'Kill' }).click();
    await page.waitForSelector(row, { state: 'detached', timeout: SEEN_MS });
    assert.notEqual(await waitExit(stranger, SEEN_MS), undefined, 'the stranger is gone');
    await page.waitForSelector('ul.status li.done', { timeout: SEEN_MS });
    await page.close();
  });

  it('fixes and actions: release a dead ephemeral lease, reassign, reserve a slot; a refusal shows its message', async () => {
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    // The keyboard focus survives a redraw from the stream, and ←/→ move between views.
    await view(page, 'leases');
    await page.focus('#tab-leases');
    assert.equal(d.cli(['allocate', 'focus', '--port', String(await freePort()), '--scope', 'demo/ws-1']).code, 0);
    await page.waitForSelector('tr[data-lease="demo/ws-1/focus"]', { timeout: SEEN_MS });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-leases');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#view[data-view="pools"]');
    await page.waitForFunction(() => document.activeElement?.id === 'tab-pools', undefined, { timeout: SEEN_MS });
    // A click survives changes arriving between its press and its release (the stream can
    // bring many a second): the page draws them after the release, and the click lands.
    await page.evaluate(() => {
      const w = window as unknown as { leaseEvents: number; counter: EventSource };
      w.leaseEvents = 0;
      w.counter = new EventSource('/v1/events');
      w.counter.addEventListener('change', () => (w.leaseEvents += 1));
    });
    const box = (await page.locator('#tab-history').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    assert.equal(d.cli(['allocate', 'mid-click', '--port', String(await freePort()), '--scope', 'demo/ws-1']).code, 0);
    await page.waitForFunction(() => (window as unknown as { leaseEvents: number }).leaseEvents > 0, undefined, { timeout: SEEN_MS });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.mouse.up();
    await page.waitForSelector('#view[data-view="history"]', { timeout: SEEN_MS });
    await page.waitForFunction(() => document.getElementById('view')?.textContent?.includes('mid-click'), undefined, { timeout: SEEN_MS });
    await page.evaluate(() => (window as unknown as { counter: EventSource }).counter.close());

    // A dead owner: an ephemeral lease whose pid is gone.
    const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(owner);
    assert.equal(d.cli(['allocate', 'gone', '--port', String(await freePort()), '--scope', 'demo/ws-1', '--ephemeral', '--pid', String(owner.pid)]).code, 0);
    killQuietly(owner);
    await waitExit(owner, SEEN_MS);
    await view(page, 'conflicts');
    const fix = page.getByRole('button', { name: 'release the dead lease demo/ws-1/gone' });
    await fix.waitFor({ timeout: SEEN_MS });
    await fix.click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Release' }).click();
    await page.waitForSelector('ul.status li.done', { timeout: SEEN_MS });
    assert.notEqual(d.cli(['get', 'gone', '--scope', 'demo/ws-1']).code, 0, 'the dead lease is released');

    // Reassign, with the keyboard: filter (/), then the row's button, then type the port.
    await view(page, 'leases');
    await page.keyboard.press('/');
    await page.keyboard.type('ws-1/web');
    const target = await freePort();
    await page.getByRole('button', { name: 'reassign demo/ws-1/web' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.locator('input[name="port"]').fill(String(target));
    await page.keyboard.press('Enter');
    await page.waitForFunction((p) => document.querySelector('tr[data-lease="demo/ws-1/web"]')?.textContent?.includes(String(p)), target, { timeout: SEEN_MS });
    assert.equal(JSON.parse(d.cli(['get', 'web', '--scope', 'demo/ws-1', '--json']).stdout).port, target);
    await page.fill('#search', '');

    // Reserve a slot for a new scope.
    await view(page, 'pools');
    await page.getByRole('button', { name: 'reserve a slot of agents' }).click();
    await page.locator('dialog[open] input[name="scope"]').fill('demo/ws-3');
    await page.locator('dialog[open]').getByRole('button', { name: 'Reserve' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-slot]')].some((r) => r.textContent?.includes('demo/ws-3')), undefined, { timeout: SEEN_MS });

    // Refused: berth never kills itself; the page says so with berth's message.
    await view(page, 'ports');
    const own = `tr[data-port="${d.port}"][data-pid="${d.child.pid}"] button`;
    await page.waitForSelector(own, { timeout: SEEN_MS });
    await page.click(own);
    await page.locator('dialog[open]').getByRole('button', { name: 'Kill' }).click();
    const refusal = page.locator('ul.status li.refused');
    await refusal.waitFor({ timeout: SEEN_MS });
    assert.match(await refusal.innerText(), /refused/);
    assert.equal(d.child.exitCode, null, 'the daemon still runs');
    // Esc cancels a dialog, and nothing happens.
    await page.click(own);
    await page.locator('dialog[open]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('dialog').waitFor({ state: 'detached' });
    // The refusal was an answer of the API (409), which Chromium logs as a failed load.
    for (let i = consoleErrors.length - 1; i >= 0; i--) if (/status of 409/.test(consoleErrors[i]!)) consoleErrors.splice(i, 1);
    await page.close();
  });

  it('shows a stack started by berth up -d going from starting to healthy, its logs, and stops a service from the page', async () => {
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    await view(page, 'services');
    const row = `tr[data-service="${STACK_SCOPE}/web"]`;
    // Every state the row shows, in order (rows are drawn anew, so watch the whole view).
    await page.evaluate((sel) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const state = document.querySelector(sel)?.getAttribute('data-state');
        if (state && seen[seen.length - 1] !== state) seen.push(state);
      }).observe(document.getElementById('view')!, { subtree: true, childList: true, attributes: true });
    }, row);
    const port = await freePort();
    // Slow to listen, so "starting" lasts long enough to be drawn.
    fs.writeFileSync(
      path.join(STACK.dir, 'berth.yaml'),
      `project: ${STACK_SCOPE}\nservices:\n${fixture('db', await freePort(), 'health: {http: /, start_period: 30s}')}${fixture('web', port, 'depends_on: [db]\nhealth: {http: /, start_period: 30s}', { FX_READY_DELAY_MS: 2000 })}${CHATTY((chattyPort = await freePort()))}`,
    );
    const up = berthAsync(['up', '-d', '--json'], { cwd: STACK.dir, env: daemonEnv(d.state, d.db) });
    await page.waitForSelector(`${row}[data-state="healthy"]`, { timeout: SEEN_MS * 3 });
    const res = await up;
    assert.equal(res.code, 0, res.stderr);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    assert.ok(seen.indexOf('starting') >= 0 && seen.indexOf('starting') < seen.indexOf('healthy'), `starting, then healthy: ${seen.join(' → ')}`);
    assert.match(await page.innerText(row), new RegExp(`\\b${port}\\b`), 'its port');
    // Dependency order: db starts first, and web says what it waits for.
    assert.deepEqual(await page.$$eval('tr[data-service]', (rows) => rows.map((r) => r.getAttribute('data-service'))), [`${STACK_SCOPE}/db`, `${STACK_SCOPE}/web`, `${STACK_SCOPE}/chatty`]);
    assert.match(await page.innerText(row), /after db/);
    // Its health history: refused while it was slow to listen, then a pass; each mark is
    // reached with Tab and says what it found.
    await page.waitForSelector(`${row} ol.checks li.ok`, { timeout: SEEN_MS });
    assert.ok((await page.locator(`${row} ol.checks li.fail`).count()) >= 1, 'the failed checks of its slow start');
    await page.locator(`${row} ol.checks li`).first().focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.closest('ol.checks') !== null ? document.activeElement?.getAttribute('aria-label') : null);
    assert.match(focused ?? '', /^(pass|fail) at .*(GET http:\/\/127\.0\.0\.1:\d+\/|ECONNREFUSED).*\(\d+ ms\)$/, 'Tab moves to the next mark, which names its check');
    await page.locator(`${row} ol.checks li.ok`).last().focus();
    assert.match((await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) ?? '', new RegExp(`^pass at .*: GET http://127\\.0\\.0\\.1:${port}/ → 200 \\(\\d+ ms\\)$`));

    // A long log: the last 1,000 lines, the newest in view.
    await page.click(`button[aria-label="logs of ${STACK_SCOPE}/chatty"]`);
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent?.includes('chatty line 1199'), undefined, { timeout: SEEN_MS });
    assert.match(await page.innerText('section.logs h3'), /1000 of 1000 lines/);
    await page.waitForFunction(() => {
      const pre = document.getElementById('log-lines')!;
      return pre.scrollTop > 0 && pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    }, undefined, { timeout: SEEN_MS });

    // Its logs: what the service printed, filtered in place.
    await page.click(`button[aria-label="logs of ${STACK_SCOPE}/web"]`);
    await page.waitForFunction((p) => document.getElementById('log-lines')?.textContent?.includes(`listening on ${p}`), port, { timeout: SEEN_MS });
    // (Waited for, not read at once: a followed pane may be redrawing its tail when the filter changes.)
    await page.fill('#log-filter', 'no line says this');
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent === '', undefined, { timeout: SEEN_MS });
    await page.fill('#log-filter', 'listening');
    await page.waitForFunction((p) => document.getElementById('log-lines')?.textContent?.includes(`listening on ${p}`), port, { timeout: SEEN_MS });
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'services-logs-light.png') });

    // Stop it from the page: a confirmation, progress, then the stream shows it stopped.
    await page.click(`button[aria-label="stop ${STACK_SCOPE}/web"]`);
    await page.locator('dialog[open]').getByRole('button', { name: 'Stop' }).click();
    await page.waitForSelector(`${row}[data-state="stopped"]`, { timeout: SEEN_MS });
    await page.waitForFunction(() => [...document.querySelectorAll('ul.status li.done')].some((li) => li.textContent?.includes('stop ')), undefined, { timeout: SEEN_MS });
    assert.ok(await portFree(port), 'its port is free');
    const ps = JSON.parse(d.cli(['ps', '--json'], { cwd: STACK.dir }).stdout) as { name: string; state: string }[];
    assert.equal(ps.find((s) => s.name === 'web')?.state, 'stopped', 'berth ps agrees');

    // Start it again: the stream's events bring the lines of its new process (no reload).
    const listening = async (): Promise<number> => ((await page.textContent('#log-lines')) ?? '').split('\n').filter((l) => l.includes(`listening on ${port}`)).length;
    assert.equal(await listening(), 1);
    await page.click(`button[aria-label="start ${STACK_SCOPE}/web"]`);
    await page.waitForSelector(`${row}[data-state="healthy"]`, { timeout: SEEN_MS * 3 });
    await page.waitForFunction((p) => (document.getElementById('log-lines')?.textContent ?? '').split('listening on ' + p).length - 1 >= 2, port, { timeout: SEEN_MS });
    assert.equal(await listening(), 2, 'the new process\'s line, by the filter still typed');
    await page.close();
  });

  it('the log pane follows the chosen service: a line it prints appears without any state change', async () => {
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    await view(page, 'services');
    const row = `tr[data-service="${STACK_SCOPE}/chatty"]`;
    await page.waitForSelector(row, { timeout: SEEN_MS });
    const state = await page.getAttribute(row, 'data-state');
    await page.click(`button[aria-label="logs of ${STACK_SCOPE}/chatty"]`);
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent?.includes('chatty line 1199'), undefined, { timeout: SEEN_MS });
    // The page counts the service events it gets from here: a line must come without one.
    await page.evaluate(() => {
      (window as unknown as { serviceEvents: number }).serviceEvents = 0;
      const s = new EventSource('/v1/events');
      s.addEventListener('service', () => ((window as unknown as { serviceEvents: number }).serviceEvents += 1));
      (window as unknown as { counter: EventSource }).counter = s;
    });
    const got = await new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port: chattyPort, path: '/from-the-test' }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
    assert.equal(got, 200);
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent?.includes('hit /from-the-test'), undefined, { timeout: SEEN_MS });
    assert.equal(await page.evaluate(() => (window as unknown as { serviceEvents: number }).serviceEvents), 0, 'no state change brought it');
    assert.equal(await page.getAttribute(row, 'data-state'), state);
    assert.match(await page.innerText('section.logs h3'), /1000 of 1000 lines/, 'the last 1,000 lines are kept as new ones come');
    await page.evaluate(() => (window as unknown as { counter: EventSource }).counter.close());

    // A line arriving redraws the page while the reader is typing in the pane's filter: the
    // field, what they typed (case, spaces) and what they selected of it stay, so typing on
    // replaces it.
    const hitChatty = (at: string): Promise<number> => new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port: chattyPort, path: at }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
    await page.fill('#log-filter', 'Hit /From ');
    await page.evaluate(() => {
      const w = window as unknown as { before: Element; drawn: boolean };
      const field = document.getElementById('log-filter') as HTMLInputElement;
      field.setSelectionRange(0, field.value.length);
      w.before = field;
      // The page draws the view anew (its first part) when the line comes.
      w.drawn = false;
      new MutationObserver(() => (w.drawn = true)).observe(document.getElementById('view')!.firstElementChild!, { childList: true });
    });
    assert.equal(await hitChatty('/again'), 200);
    await page.waitForFunction(() => (window as unknown as { drawn: boolean }).drawn, undefined, { timeout: SEEN_MS });
    assert.deepEqual(
      await page.evaluate(() => {
        const field = document.getElementById('log-filter') as HTMLInputElement;
        return [field === (window as unknown as { before: Element }).before, field.value, field.selectionStart, field.selectionEnd, document.activeElement === field];
      }),
      [true, 'Hit /From ', 0, 10, true],
    );
    await page.keyboard.type('hit /again');
    assert.equal(await page.inputValue('#log-filter'), 'hit /again');
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent?.includes('hit /again') && !document.getElementById('log-lines')?.textContent?.includes('hit /from-the-test'), undefined, { timeout: SEEN_MS });

    // Text the reader selected in the lines stays selected as new lines come.
    await page.fill('#log-filter', '');
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent?.includes('hit /from-the-test'), undefined, { timeout: SEEN_MS });
    const selected = await page.evaluate(() => {
      const line = [...document.getElementById('log-lines')!.childNodes].find((n) => n.textContent?.includes('hit /from-the-test'))!;
      const range = document.createRange();
      range.selectNodeContents(line);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
      return getSelection()!.toString();
    });
    assert.match(selected, /hit \/from-the-test/);
    assert.equal(await hitChatty('/third'), 200);
    await page.waitForFunction(() => document.getElementById('log-lines')?.textContent?.includes('hit /third'), undefined, { timeout: SEEN_MS });
    assert.equal(await page.evaluate(() => getSelection()!.toString()), selected);
    await page.close();
  });

  it('saves screenshots of every view, light and dark', async (t) => {
    fs.mkdirSync(SHOTS, { recursive: true });
    assert.equal(d.cli(['reserve', '--scope', 'demo/ws-2'], { cwd: d.dir }).code, 0, 'a pool slot to show');
    const keep = await listener(0);
    children.push(keep);
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const id of VIEWS) {
        await view(page, id);
        await page.screenshot({ path: path.join(SHOTS, `${id}-${scheme}.png`), fullPage: false });
      }
    }
    t.diagnostic(`screenshots in ${SHOTS}`);
    await page.close();
  });

  it('a page opened without a link shows only how to get in', async () => {
    const other = await browser!.another();
    try {
      const page = await open(other);
      await page.goto(`http://127.0.0.1:${d.port}/`);
      await page.waitForSelector('main.login');
      assert.match(await page.innerText('body'), /berth dashboard/);
      assert.equal(await page.locator('nav, table').count(), 0, 'nothing else');
      // The page asked who it is and was told 401: Chromium logs that failed load as an error.
      const expected = consoleErrors.findIndex((e) => /401/.test(e));
      if (expected >= 0) consoleErrors.splice(expected, 1);
    } finally {
      await other.close();
    }
  });

  it('a read-only login shows everything, offers no action, and its session cannot change anything', async () => {
    const other = await browser!.another();
    try {
      const page = await open(other);
      await page.goto(loginUrl(true));
      await page.waitForSelector('.live.on', { timeout: SEEN_MS });
      assert.match(await page.innerText('header'), /read-only/);
      for (const id of VIEWS) {
        await view(page, id);
        // Choosing a service's logs (data-select) changes nothing; every other button would.
        assert.equal(await page.locator('#view button:not([data-select])').count(), 0, `no action buttons in ${id}`);
      }
      await view(page, 'services');
      await page.waitForSelector(`tr[data-service="${STACK_SCOPE}/web"] button[data-select]`);
      assert.equal(await page.locator(`tr[data-service="${STACK_SCOPE}/web"] button`).count(), 1, 'only its logs, no start/stop');
      await view(page, 'leases');
      await page.waitForSelector('tr[data-lease="demo/ws-1/web"]');
      const res = await other.context.request.post(`http://127.0.0.1:${d.port}/v1/leases/demo%2Fws-1/release`, {
        headers: { Origin: `http://127.0.0.1:${d.port}`, 'X-Berth-Request': 'dashboard', 'Content-Type': 'application/json' },
        data: { names: ['web'] },
      });
      assert.equal(res.status(), 403);
      assert.match(((await res.json()) as { message: string }).message, /read-only/);
      assert.equal(d.cli(['get', 'web', '--scope', 'demo/ws-1']).code, 0, 'the lease is still there');
    } finally {
      await other.close();
    }
  });

  it('restarts a service, then stops the whole stack from the page, each after a confirmation', async () => {
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    await view(page, 'services');
    const row = `tr[data-service="${STACK_SCOPE}/web"]`;
    await page.waitForSelector(`${row}[data-state="healthy"]`, { timeout: SEEN_MS });
    const pidOf = async (): Promise<string> => (await page.innerText(`${row} td:nth-child(5)`)).trim();
    const before = await pidOf();
    await page.click(`button[aria-label="restart ${STACK_SCOPE}/web"]`);
    await page.locator('dialog[open]').getByRole('button', { name: 'Restart' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('ul.status li.done')].some((li) => li.textContent?.includes('restart ')), undefined, { timeout: SEEN_MS * 3 });
    await page.waitForSelector(`${row}[data-state="healthy"]`, { timeout: SEEN_MS });
    assert.notEqual(await pidOf(), before, 'a new process');

    await page.click(`button[aria-label="stack down ${STACK_SCOPE}"]`);
    await page.locator('dialog[open]').getByRole('button', { name: 'Stop the stack' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('ul.status li.done')].some((li) => li.textContent?.includes('stack down')), undefined, { timeout: SEEN_MS });
    // The daemon runs the stack no more: it leaves the list once the page asks again.
    await page.waitForSelector(row, { state: 'detached', timeout: SEEN_MS });
    await page.close();
  });

  it('a stack started and stopped from the CLI comes, keeps its health history live, and goes, by the stream\'s stack events', async () => {
    const page = await open(browser!);
    await page.goto(loginUrl());
    await page.waitForSelector('.live.on', { timeout: SEEN_MS });
    await view(page, 'services');
    fs.writeFileSync(path.join(STACK.dir, 'berth.yaml'), `project: ${STACK_SCOPE}\nservices:\n${fixture('solo', await freePort(), 'health: {tcp: true}')}`);
    const row = `tr[data-service="${STACK_SCOPE}/solo"]`;
    const up = await berthAsync(['up', '-d'], { cwd: STACK.dir, env: daemonEnv(d.state, d.db) });
    assert.equal(up.code, 0, up.stderr);
    await page.waitForSelector(`${row}[data-state="healthy"]`, { timeout: SEEN_MS });
    // From here the page's own asking for the services list goes unanswered: only the
    // stream's `stack` event can tell it the stack is gone.
    await page.route(/\/v1\/services(\?|$)/, () => undefined);
    // Its health history goes on arriving with the stack's events (a check a second, no state change).
    const passes = await page.locator(`${row} ol.checks li.ok`).count();
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(`${sel} ol.checks li.ok`).length > Number(n), [row, passes] as const, { timeout: SEEN_MS });
    assert.equal(await page.getAttribute(row, 'data-state'), 'healthy');
    const down = d.cli(['down'], { cwd: STACK.dir });
    assert.equal(down.code, 0, down.stderr);
    // Stopped, then forgotten: the row goes, without a reload.
    await page.waitForSelector(row, { state: 'detached', timeout: SEEN_MS });
    await page.waitForSelector('#view p.empty', { timeout: SEEN_MS });
    await page.close();
  });

  it('no console errors on any page', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
