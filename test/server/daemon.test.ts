/**
 * The daemon's life as a user sees it: `berth serve`, `berth daemon status|stop` with
 * their exit codes, the lockfile and socket made and removed, a stale lockfile (its pid
 * gone) reported and replaced, one daemon per state directory, a non-loopback --host
 * refused without --allow-remote, a token file others can read refused, and the port
 * berth leases to itself kept across restarts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { berthAsync, tempDir, type CliResult } from '../helpers/cli.js';
import { daemonEnv, freePort, request, startDaemon, waitExit, type Daemon } from './harness.js';

/** A refused `berth serve` must exit by itself well before this (a hang fails the test). */
const REFUSAL_TIMEOUT_MS = 20_000;

function serve(dir: string, state: string, args: readonly string[]): Promise<CliResult> {
  return berthAsync(['serve', ...args], { cwd: dir, env: daemonEnv(state, path.join(dir, 'berth.db')), timeoutMs: REFUSAL_TIMEOUT_MS });
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

describe('berth serve and berth daemon status|stop', () => {
  const cleanups: (() => void)[] = [];
  const daemons: Daemon[] = [];
  const fresh = (): string => {
    const t = tempDir('berth-daemon-');
    cleanups.push(t.cleanup);
    return t.dir;
  };
  const start = async (opts: Parameters<typeof startDaemon>[0]): Promise<Daemon> => {
    const d = await startDaemon(opts);
    daemons.push(d);
    return d;
  };
  after(async () => {
    for (const d of daemons) await d.stop();
    for (const c of cleanups) c();
  });

  it('status shows the running daemon; a second one on the same state dir is refused (exit 4); stop removes lockfile and socket', async () => {
    const d = await start({ dir: fresh() });
    assert.equal(mode(d.state), 0o700);
    assert.equal(mode(d.socket), 0o600);
    assert.ok(fs.statSync(d.socket).isSocket());
    assert.equal(mode(path.join(d.state, 'api-token')), 0o600);
    assert.equal(mode(path.join(d.state, 'api-token-read')), 0o600);
    assert.match(d.token, /^[0-9a-f]{64}$/, '256 bits');
    assert.match(d.output(), new RegExp(`listening on http://127\\.0\\.0\\.1:${d.port}`));

    const status = d.cli(['daemon', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const shown = JSON.parse(status.stdout);
    assert.equal(shown.pid, d.child.pid);
    assert.equal(shown.running, true);
    assert.equal(shown.url, `http://127.0.0.1:${d.port}`);
    assert.equal(shown.socket, d.socket);
    assert.equal(d.cli(['daemon', 'status']).code, 0);

    const lockBefore = fs.readFileSync(path.join(d.state, 'daemon.json'), 'utf8');
    const second = await serve(d.dir, d.state, ['--port', String(await freePort())]);
    assert.equal(second.code, 4, second.stderr);
    assert.match(second.stderr, new RegExp(`already runs .*pid ${d.child.pid}`));
    assert.equal(fs.readFileSync(path.join(d.state, 'daemon.json'), 'utf8'), lockBefore, 'the lockfile is still the first daemon’s');
    assert.equal((await request(d, { path: '/v1/health', socket: true })).status, 200, 'the first daemon still answers on its socket');

    const stop = d.cli(['daemon', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopped the berth daemon \\(pid ${d.child.pid}\\)`));
    assert.equal(await waitExit(d.child, 10_000), 0, 'a clean exit');
    assert.ok(!fs.existsSync(path.join(d.state, 'daemon.json')), 'lockfile removed');
    assert.ok(!fs.existsSync(d.socket), 'socket removed');
    assert.ok(fs.existsSync(path.join(d.state, 'api-token')), 'the token stays');
    const none = d.cli(['daemon', 'status']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no berth daemon runs/);
    assert.equal(d.cli(['daemon', 'stop']).code, 1, 'nothing to stop');
  });

  it('SIGINT stops it cleanly too', async () => {
    const d = await start({ dir: fresh() });
    d.child.kill('SIGINT');
    assert.equal(await waitExit(d.child, 10_000), 0);
    assert.ok(!fs.existsSync(path.join(d.state, 'daemon.json')));
    assert.ok(!fs.existsSync(d.socket));
  });

  it('a stale lockfile (its pid gone) and its socket are reported, then replaced', async () => {
    const dir = fresh();
    const state = path.join(dir, 'state');
    fs.mkdirSync(state, { mode: 0o700 });
    const socket = path.join(state, 'berth.sock');
    // A daemon that died hard: its socket file stays behind, its pid is gone.
    const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => dead.stdout!.once('data', resolve));
    dead.kill('SIGKILL');
    await waitExit(dead, 10_000);
    assert.ok(fs.existsSync(socket), 'the dead process left its socket');
    const stale = { pid: dead.pid, socket, url: 'http://127.0.0.1:1', port: 1, version: '0.0.1', startedAt: new Date(0).toISOString() };
    fs.writeFileSync(path.join(state, 'daemon.json'), JSON.stringify(stale), { mode: 0o600 });

    const status = await berthAsync(['daemon', 'status'], { cwd: dir, env: daemonEnv(state, path.join(dir, 'berth.db')) });
    assert.equal(status.code, 1);
    assert.match(status.stderr, new RegExp(`pid ${dead.pid}, which is gone \\(stale`));

    const d = await start({ dir });
    // The lockfile (what start waits for) is written before the note is printed: wait, bounded, for the note.
    const note = new RegExp(`replaced a stale lockfile: pid ${dead.pid}`);
    for (let i = 0; i < 100 && !note.test(d.output()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(d.output(), note);
    const lock = JSON.parse(fs.readFileSync(path.join(state, 'daemon.json'), 'utf8'));
    assert.equal(lock.pid, d.child.pid);
    assert.equal((await request(d, { path: '/v1/health', socket: true })).status, 200, 'a new socket in place of the stale one');
  });

  it('--host 0.0.0.0 is refused without --allow-remote (exit 2), and says why', async () => {
    const dir = fresh();
    const state = path.join(dir, 'state');
    const res = await serve(dir, state, ['--host', '0.0.0.0', '--port', String(await freePort())]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /not a loopback address/);
    assert.match(res.stderr, /--allow-remote/);
    assert.ok(!fs.existsSync(path.join(state, 'daemon.json')));
  });

  for (const file of ['api-token', 'api-token-read']) {
    it(`a group-readable ${file} is refused (exit 4): anyone who reads it controls the daemon`, async () => {
      const dir = fresh();
      const state = path.join(dir, 'state');
      fs.mkdirSync(state, { mode: 0o700 });
      const token = path.join(state, file);
      fs.writeFileSync(token, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
      fs.chmodSync(token, 0o640);
      const res = await serve(dir, state, ['--port', String(await freePort())]);
      assert.equal(res.code, 4, res.stderr);
      assert.match(res.stderr, new RegExp(`${file} can be read by other users .*chmod 600`));
      assert.ok(!fs.existsSync(path.join(state, 'daemon.json')), 'no daemon started');
      assert.ok(!fs.existsSync(path.join(state, 'berth.sock')));
    });
  }

  it('without --port it takes the port leased to berth/daemon, and keeps it across restarts', async () => {
    const dir = fresh();
    const first = await start({ dir, leasedPort: true });
    const leased = first.cli(['get', 'daemon', '--scope', 'berth']);
    assert.equal(leased.code, 0, leased.stderr);
    assert.equal(Number(leased.stdout.trim()), first.port);
    assert.equal((await request(first, { path: '/v1/health' })).status, 200);
    assert.equal(await first.stop(), 0);
    const second = await start({ dir, leasedPort: true });
    assert.equal(second.port, first.port);
  });

  it('when another process took its leased port meanwhile, it moves its lease to a free port and starts', async () => {
    const dir = fresh();
    const first = await start({ dir, leasedPort: true });
    assert.equal(await first.stop(), 0);
    // Another process (another state directory's daemon, say) binds the port before it can.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(first.port, '127.0.0.1', resolve));
    try {
      const second = await start({ dir, leasedPort: true });
      assert.notEqual(second.port, first.port);
      assert.equal((await request(second, { path: '/v1/health' })).status, 200);
      const leased = second.cli(['get', 'daemon', '--scope', 'berth']);
      assert.equal(Number(leased.stdout.trim()), second.port, 'the lease moved with it');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
