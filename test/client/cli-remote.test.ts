/**
 * The CLI through a daemon, as a user runs both: `berth serve --port P` started with its
 * own state directory and store, then `berth --url http://127.0.0.1:P ...` (and BERTH_URL,
 * `unix:`) give the same output and exit codes as the same commands run locally on the
 * daemon's store, workflows (run, env --write, compose-override) included. SIGTERM stops
 * the daemon, which removes its lockfile and socket.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH_BIN, berth, cliEnv, json, tempDir, type CliResult } from '../helpers/cli.js';

/** Upper bound for the daemon to start or stop; generous, never asserted. */
const WAIT_LIMIT_MS = 20_000;
const POLL_MS = 25;

const BERTH_YAML = [
  'project: shop',
  `base: ${21_000 + Math.floor(Math.random() * 40) * 100}`,
  'services:',
  '  web:',
  '    http: true',
  '  api: {}',
  '  db: {}',
  '',
].join('\n');

const COMPOSE_YAML = ['services:', '  db:', '    image: postgres:16', '    ports:', '      - "5432:5432"', ''].join('\n');

/** A TCP port nobody listens on now (the OS picks it, then lets go). */
async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_LIMIT_MS} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const show = (r: CliResult): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('berth --url: the CLI through a daemon started with berth serve', () => {
  const { dir: root, cleanup } = tempDir('berth-cli-remote-');
  const state = path.join(root, 'state');
  const db = path.join(state, 'berth.db');
  const proj = path.join(root, 'shop');
  const env = { BERTH_STATE_DIR: state, BERTH_DB: db };
  let daemon: ChildProcess;
  let daemonLog = '';
  let url = '';

  /** The command run locally, on the daemon's store. */
  const local = (args: readonly string[], extra: NodeJS.ProcessEnv = {}): CliResult => berth(args, { cwd: proj, env: { ...env, ...extra } });
  /** The command run through the daemon. */
  const remote = (args: readonly string[], extra: NodeJS.ProcessEnv = {}): CliResult => berth(['--url', url, ...args], { cwd: proj, env: { ...env, ...extra } });
  /** Runs `args` through the daemon, then locally; asserts the same exit code and output, and returns it. */
  const same = (args: readonly string[], code = 0): CliResult => {
    const r = remote(args);
    const l = local(args);
    assert.equal(r.code, code, `berth --url ${args.join(' ')}\n${show(r)}`);
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: l.code, stdout: l.stdout, stderr: l.stderr }, `through the daemon as locally: ${args.join(' ')}`);
    return r;
  };

  before(async () => {
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), BERTH_YAML);
    fs.writeFileSync(path.join(proj, 'compose.yaml'), COMPOSE_YAML);
    const port = await unusedPort();
    daemon = spawn(process.execPath, [BERTH_BIN, 'serve', '--port', String(port)], { cwd: root, env: cliEnv({ env }), stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.on('data', (d) => (daemonLog += d));
    daemon.stderr!.on('data', (d) => (daemonLog += d));
    await waitFor('the daemon’s lockfile', () => {
      if (daemon.exitCode !== null) throw new Error(`berth serve exited ${daemon.exitCode}: ${daemonLog}`);
      return fs.existsSync(path.join(state, 'daemon.json'));
    });
    const lock = JSON.parse(fs.readFileSync(path.join(state, 'daemon.json'), 'utf8')) as { url: string; pid: number };
    assert.equal(lock.pid, daemon.pid);
    url = lock.url;
    assert.equal(url, `http://127.0.0.1:${port}`);
  });

  after(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await once(daemon, 'exit');
    }
    cleanup();
  });

  it('allocate, get, list, env, urls and status print what they print locally', () => {
    const [web, api] = json<{ name: string; port: number }[]>(remote(['--json', 'allocate', 'web', 'api']));
    assert.deepEqual([web!.name, api!.name], ['web', 'api']);
    same(['allocate', 'web', 'api']);
    same(['--json', 'allocate', 'web', 'api']);
    assert.equal(same(['get', 'web']).stdout.trim(), String(web!.port));
    same(['list']);
    same(['--json', 'list']);
    same(['env']);
    same(['env', '--urls', '--format', 'shell']);
    same(['urls']);
    same(['--json', 'history', 'web']);
  });

  it('--base, --dir, env --prefix --base-vars and url NAME act through the daemon as locally (issue 10 items 3, 11, 22)', () => {
    const [seq] = json<{ port: number }[]>(same(['--json', '--base', '27100', 'allocate', 'seq-remote', '--strategy', 'sequential']));
    assert.ok(seq!.port >= 27100, `--base did not reach the daemon: ${seq!.port}`);
    assert.match(same(['env', '--prefix', 'SHOP_', '--base-vars']).stdout, /^SHOP_BASE_PORT=\d+\nSHOP_NEXT_PORT=\d+\n/);
    assert.match(same(['url', 'web']).stdout, /^http:\/\/localhost:\d+\n$/);
    const ws = path.join(root, 'ws-remote');
    fs.mkdirSync(ws);
    json(remote(['--json', '--scope', 'tied-remote', '--dir', ws, 'allocate', 'web']));
    fs.rmSync(ws, { recursive: true });
    assert.match(local(['gc']).stdout, /released scope tied-remote/);
  });

  it('the lease the daemon made is in the store: berth list run locally shows it', () => {
    const [made] = json<{ port: number }[]>(remote(['--json', 'allocate', 'db']));
    const port = made!.port;
    const listed = json<{ scope: string; name: string; port: number }[]>(local(['--json', 'list']));
    assert.ok(listed.some((l) => l.scope === 'shop' && l.name === 'db' && l.port === port), JSON.stringify(listed));
  });

  it('errors keep their exit codes and messages: absent 1, bad input 2, refused 4', () => {
    assert.match(same(['get', 'nope'], 1).stderr, /no lease 'nope' in scope shop/);
    assert.match(same(['--scope', 'a b', 'get', 'web'], 2).stderr, /invalid scope 'a b'/);
    assert.match(same(['--json', '--scope', '', 'list'], 2).stderr, /"error":"usage"/);
    const webPort = local(['get', 'web']).stdout.trim();
    assert.match(same(['--scope', 'other', 'allocate', 'web', '--port', webPort], 4).stderr, new RegExp(`port ${webPort}.*shop/web`));
    assert.match(same(['--json', '--scope', 'other', 'allocate', 'web', '--port', webPort], 4).stderr, /"error":"conflict"/);
    assert.equal(local(['--json', 'list', '--scope', 'other']).stdout.trim(), '[]', 'nothing was written');
  });

  it('run: the command gets the lease in PORT, and its exit status is berth’s', () => {
    const port = local(['get', 'web']).stdout.trim();
    const r = remote(['run', 'web', '--', process.execPath, '-e', 'console.log(process.env.PORT, process.env.WEB_PORT)']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trim(), `${port} ${port}`);
    assert.equal(remote(['run', 'web', '--', process.execPath, '-e', 'process.exit(3)']).code, 3);
  });

  it('run --ephemeral: the lease is the command’s, and gone when it exits', () => {
    const r = remote(['--scope', 'eph', 'run', 'job', '--ephemeral', '--', process.execPath, '-e', 'console.log(process.env.PORT)']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout.trim(), /^\d+$/);
    assert.equal(local(['--json', 'list', '--scope', 'eph']).stdout.trim(), '[]', 'released when the command ended');
    assert.ok(json<{ action: string }[]>(local(['--json', '--scope', 'eph', 'history', 'job'])).some((ev) => ev.action === 'handover'), 'handed to the command first');
  });

  it('env --write and compose-override write what they write locally', () => {
    const start = '# kept\nOTHER=1\nWEB_PORT=1\n';
    for (const name of ['remote.env', 'local.env']) fs.writeFileSync(path.join(proj, name), start);
    assert.equal(remote(['env', '--write', 'remote.env']).code, 0);
    assert.equal(local(['env', '--write', 'local.env']).code, 0);
    const written = fs.readFileSync(path.join(proj, 'remote.env'), 'utf8');
    assert.equal(written, fs.readFileSync(path.join(proj, 'local.env'), 'utf8'));
    assert.match(written, /^# kept\nOTHER=1\nWEB_PORT=\d+\n/);
    const override = same(['compose-override']).stdout;
    assert.match(override, /db:[\s\S]*ports: !override/);
  });

  it('BERTH_URL and unix: work as --url; a wrong token, an absent daemon and --url with --db are refused', () => {
    const viaEnv = berth(['list'], { cwd: proj, env: { ...env, BERTH_URL: 'unix:' } });
    assert.deepEqual([viaEnv.code, viaEnv.stdout], [0, local(['list']).stdout]);
    const viaSocket = berth(['--url', `unix:${path.join(state, 'berth.sock')}`, 'get', 'web'], { cwd: proj, env });
    assert.deepEqual([viaSocket.code, viaSocket.stdout], [0, local(['get', 'web']).stdout]);
    const badToken = remote(['list'], { BERTH_TOKEN: 'f'.repeat(64) });
    assert.equal(badToken.code, 4, show(badToken));
    assert.match(badToken.stderr, /token is not valid.*BERTH_TOKEN/s);
    assert.equal(JSON.parse(remote(['--json', 'list'], { BERTH_TOKEN: 'f'.repeat(64) }).stderr).error, 'refused', 'an HTTP-layer refusal keeps a kind of berth\'s own');
    // The read-only token reads, and a change through it is refused, with the kind and exit code of a refusal.
    const readToken = fs.readFileSync(path.join(state, 'api-token-read'), 'utf8').trim();
    assert.equal(remote(['list'], { BERTH_TOKEN: readToken }).code, 0);
    const readOnly = remote(['--json', 'allocate', 'ro-probe'], { BERTH_TOKEN: readToken });
    assert.equal(readOnly.code, 4, show(readOnly));
    assert.equal(JSON.parse(readOnly.stderr).error, 'refused');
    assert.equal(local(['get', 'ro-probe']).code, 1, 'nothing was allocated through the read-only token');
    const gone = berth(['--url', 'http://127.0.0.1:1', 'list'], { cwd: proj, env });
    assert.equal(gone.code, 4, show(gone));
    assert.match(gone.stderr, /not running.*berth serve/);
    const both = remote(['--db', db, 'list']);
    assert.equal(both.code, 2, show(both));
    assert.match(both.stderr, /--url and --db/);
    const bad = berth(['--url', 'ftp://x', 'list'], { cwd: proj, env });
    assert.equal(bad.code, 2, show(bad));
  });

  it('history records the client, not the daemon, as the one who made a change through it', () => {
    assert.equal(remote(['allocate', 'actor-probe']).code, 0);
    const [event] = json<{ action: string; actor: { pid: number; user: string | null; command: string | null } }[]>(local(['--json', 'history', 'actor-probe']));
    assert.equal(event?.action, 'allocate');
    assert.notEqual(event?.actor.pid, daemon.pid, 'the actor is the client process');
    assert.match(String(event?.actor.command), /allocate actor-probe.*\(through the berth daemon\)$/);
  });

  it('SIGTERM stops the daemon, which removes its lockfile and socket', async () => {
    const exited = once(daemon, 'exit');
    daemon.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.deepEqual([code, signal], [0, null], daemonLog);
    assert.equal(fs.existsSync(path.join(state, 'daemon.json')), false, 'the lockfile is gone');
    assert.equal(fs.existsSync(path.join(state, 'berth.sock')), false, 'the socket is gone');
    const after = remote(['list']);
    assert.equal(after.code, 4);
    assert.match(after.stderr, /not running/);
  });
});
