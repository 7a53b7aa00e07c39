/**
 * The dashboard's serving and logins against a real daemon (`berth serve --port P`),
 * over HTTP as a browser would send it: the page's headers, `berth dashboard` links that
 * work once, the session cookie's attributes, what a cookie may do (read, stream,
 * change only from the page itself, nothing with a read-only login), and the `ports`
 * events of `?reality=true`. The browser itself: test/dashboard/.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { exportState, freePort, killQuietly, lastEventId, listener, openStream, problemOf, request, startDaemon, type Daemon, type Req, type Res } from './harness.js';

describe('the dashboard page and its sessions on a real daemon', () => {
  let d: Daemon;
  const children: ChildProcess[] = [];
  before(async () => {
    d = await startDaemon();
    assert.equal(d.cli(['allocate', 'web', '--scope', 'shop']).code, 0);
  });
  after(async () => {
    for (const c of children) killQuietly(c);
    await d?.stop();
  });

  const own = (): string => `http://127.0.0.1:${d.port}`;
  /** `berth dashboard --json` (optionally read-only): the link's secret. */
  const link = (readOnly = false): string => {
    const res = d.cli(['dashboard', '--json', ...(readOnly ? ['--read-only'] : [])]);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { url: string; access: string; daemon: { pid: number; started: boolean } };
    assert.equal(out.daemon.pid, d.child.pid, 'the running daemon, not a new one');
    assert.equal(out.daemon.started, false);
    assert.equal(out.access, readOnly ? 'read' : 'write');
    assert.ok(out.url.startsWith(`${own()}/#login=`), out.url);
    return out.url.split('#login=')[1]!;
  };
  const login = async (secret: string): Promise<Res> => request(d, { method: 'POST', path: '/v1/session', body: { secret }, token: null, headers: { Origin: own() } });
  const session = async (readOnly = false): Promise<string> => {
    const res = await login(link(readOnly));
    assert.equal(res.status, 200, res.text);
    return String(res.headers['set-cookie']).split(';')[0]!;
  };
  /** A change as the page sends it, with `cookie` and overrides. */
  const change = (cookie: string, headers: Record<string, string> = {}): Req => ({ method: 'POST', path: '/v1/leases/shop/release', body: { names: ['web'] }, token: null, headers: { Cookie: cookie, Origin: own(), 'X-Berth-Request': 'dashboard', ...headers } });

  it('serves the page at / with its CSP and no-sniff, no-referrer headers; no session needed to load it', async () => {
    for (const p of ['/', '/dashboard/app.js', '/dashboard/app.css']) {
      const res = await request(d, { path: p, token: null });
      assert.equal(res.status, 200, p);
      assert.equal(res.headers['content-security-policy'], "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'", p);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
    const page = await request(d, { path: '/', token: null });
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.doesNotMatch(page.text, /<script>|<style>|\sstyle=|\son\w+=/i, 'no inline script, style or handler');
    assert.doesNotMatch(page.text, /https?:\/\//, 'nothing loaded from elsewhere');
    const rebinding = await request(d, { path: '/', token: null, headers: { Host: 'evil.example:80' } });
    assert.equal(rebinding.status, 403, 'the Host check guards the page too');
  });

  it("answers that are not the page (API JSON, a 404 of an asset, an error) forbid everything a browser could do with them: no script, no frame, no cross-origin embedding", async () => {
    // A page on another localhost port is same-site: the browser sends it the session
    // cookie, so nothing but these headers stops it embedding an answer (<script src>, <img>).
    const cookie = await session();
    for (const p of ['/dashboard/missing.js', '/v1/leases', '/v1/nope', '/api/ports/status']) {
      const res = await request(d, { path: p, token: null, headers: { Cookie: cookie } });
      assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", `${p} (${res.status})`);
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin', p);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', p);
    }
  });

  it('dashboard --open never puts the secret on a command line (any local user can read those): the browser is sent to a 0600 page that forwards to the link', { skip: process.platform !== 'linux' && 'xdg-open is the opener on Linux' }, async () => {
    // A stand-in for xdg-open that records what it was given.
    const bin = mkdtempSync(path.join(tmpdir(), 'berth-opener-'));
    try {
      writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${bin}/args.tmp" && mv "${bin}/args.tmp" "${bin}/args"\n`, { mode: 0o755 });
      const res = d.cli(['dashboard', '--open', '--json'], { env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
      assert.equal(res.code, 0, res.stderr);
      const { url } = JSON.parse(res.stdout) as { url: string };
      const secret = url.split('#login=')[1]!;
      const argsFile = path.join(bin, 'args');
      for (let i = 0; i < 200 && !existsSync(argsFile); i++) await new Promise((r) => setTimeout(r, 50));
      const args = readFileSync(argsFile, 'utf8');
      assert.ok(!args.includes(secret), `the opener's arguments hold the secret: ${args}`);
      const page = fileURLToPath(args.trim());
      assert.equal(statSync(page).mode & 0o777, 0o600, 'only the user can read the page');
      assert.ok(readFileSync(page, 'utf8').includes(url), 'the page forwards to the link');
      assert.equal((await login(secret)).status, 200, 'the link is still unused');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('a link works once; the cookie is HttpOnly and SameSite=Strict; unknown secrets and cookies are refused', async () => {
    const secret = link();
    const first = await login(secret);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json, { access: 'write' });
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, new RegExp(`^berth_session_${d.port}=[\\w-]{40,}; Path=/; HttpOnly; SameSite=Strict$`), "named for the daemon's port: cookies are per host, not per port");
    const again = await login(secret);
    assert.equal(again.status, 401);
    assert.match(problemOf(again).message, /berth dashboard/);
    assert.equal((await login('x'.repeat(43))).status, 401);
    const stranger = await request(d, { path: '/v1/leases', token: null, headers: { Cookie: `berth_session_${d.port}=nope` } });
    assert.equal(stranger.status, 401);
    assert.match(problemOf(stranger).message, /berth dashboard/);
    // A session cannot mint further links: only the token can.
    const minted = await request(d, { method: 'POST', path: '/v1/session/links', body: {}, token: null, headers: { Cookie: cookie.split(';')[0]!, Origin: own(), 'X-Berth-Request': 'dashboard' } });
    assert.equal(minted.status, 403);
  });

  it('a session reads, streams with listeners, and changes only from its own page (Origin and header)', async () => {
    const cookie = await session();
    const read = await request(d, { path: '/v1/leases', token: null, headers: { Cookie: cookie } });
    assert.equal(read.status, 200);
    const before = exportState(d);
    const last = await lastEventId(d);
    const forged: [string, Record<string, string>][] = [
      ['no CSRF header', { 'X-Berth-Request': '' }],
      ['no Origin', { Origin: '' }],
      ['a foreign Origin', { Origin: 'http://evil.example' }],
      ['cross-site fetch metadata', { 'Sec-Fetch-Site': 'cross-site' }],
    ];
    for (const [label, headers] of forged) {
      const res = await request(d, change(cookie, headers));
      assert.equal(res.status, 403, `${label}: ${res.text}`);
    }
    const form = await request(d, { ...change(cookie), body: undefined, raw: 'names=web', headers: { ...change(cookie).headers, 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    assert.equal(exportState(d), before, 'nothing changed');
    assert.equal(await lastEventId(d), last);

    const port = await freePort();
    const child = await listener(port);
    children.push(child);
    const stream = await openStream({ ...d, token: '' }, { Authorization: '', Cookie: cookie }, '/v1/events?reality=true');
    try {
      assert.equal(stream.status, 200);
      await stream.next((e) => e.event === 'snapshot', 10_000);
      const ports = await stream.next((e) => e.event === 'ports' && e.data.some((l: { port: number; pid: number }) => l.port === port && l.pid === child.pid), 15_000);
      assert.equal(ports.id, null, 'ports events carry no id (Last-Event-ID stays the registry\'s)');
      killQuietly(child);
      await stream.next((e) => e.event === 'ports' && !e.data.some((l: { port: number }) => l.port === port), 15_000);
    } finally {
      stream.close();
    }
    const ok = await request(d, change(cookie));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(d.cli(['allocate', 'web', '--scope', 'shop']).code, 0);
  });

  it('a read-only login reads everything and changes nothing, whatever it sends', async () => {
    const cookie = await session(true);
    assert.deepEqual((await request(d, { path: '/v1/session', token: null, headers: { Cookie: cookie } })).json, { access: 'read', via: 'session' });
    const before = exportState(d);
    const res = await request(d, change(cookie));
    assert.equal(res.status, 403);
    assert.equal(problemOf(res).code, 'forbidden');
    assert.match(problemOf(res).message, /read-only/);
    const kill = await request(d, { ...change(cookie), path: `/v1/ports/${d.port}/kill`, body: {} });
    assert.equal(kill.status, 403);
    assert.equal(exportState(d), before);
    assert.equal(d.child.exitCode, null, 'the daemon still runs');
  });

  it('log out ends the session on the daemon (its cookie is refused after), also for a read-only login; another site cannot log anyone out', async () => {
    for (const readOnly of [false, true]) {
      const cookie = await session(readOnly);
      const other = await session(readOnly);
      const logout = (c: string, headers: Record<string, string> = {}): Promise<Res> => request(d, { method: 'DELETE', path: '/v1/session', body: {}, token: null, headers: { Cookie: c, Origin: own(), 'X-Berth-Request': 'dashboard', ...headers } });
      const forged = await logout(cookie, { Origin: 'http://evil.example' });
      assert.equal(forged.status, 403, forged.text);
      assert.equal((await request(d, { path: '/v1/session', token: null, headers: { Cookie: cookie } })).status, 200, 'a refused logout ends nothing');
      const res = await logout(cookie);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { ended: true });
      assert.match(String(res.headers['set-cookie']), new RegExp(`^berth_session_${d.port}=; .*Max-Age=0`), 'the cookie is cleared');
      const after = await request(d, { path: '/v1/session', token: null, headers: { Cookie: cookie } });
      assert.equal(after.status, 401, 'the same cookie (another tab) is refused');
      assert.match(problemOf(after).message, /berth dashboard/);
      assert.deepEqual((await logout(cookie)).json, { ended: false }, 'a second logout is harmless');
      assert.equal((await request(d, { path: '/v1/session', token: null, headers: { Cookie: other } })).status, 200, 'other logins go on');
    }
  });
});
