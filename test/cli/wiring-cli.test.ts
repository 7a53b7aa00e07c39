/**
 * The wiring commands through the built CLI, run as a user runs them: `berth env`,
 * `berth compose-override`, `berth urls` and `berth run`, each in a temp project with its
 * own store. Real files, real shells, real child processes and sockets on loopback; every
 * wait is bounded and no timing is asserted.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { isSeq, parseDocument, type YAMLSeq, type Scalar } from 'yaml';
import type { Lease } from '../../src/types.js';
import { COMPOSE_YAML_TAGS } from '../../src/wiring/compose-ports.js';
import { BERTH_BIN, berth, berthAsync, cliEnv, json, tempDir, type CliResult } from '../helpers/cli.js';

/** Upper bound for anything a test waits on; generous, never asserted. */
const WAIT_LIMIT_MS = 20_000;
const POLL_MS = 25;
const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

/**
 * A base port per test file run, below the OS ephemeral range, so that concurrent test
 * files (whose stores are separate) rarely pick the same free port and then race to
 * listen on it.
 */
const BASE = 28_000 + Math.floor(Math.random() * 20) * 200;

/** A temp project: a directory holding berth.yaml (and more files), and its own store. */
interface Project {
  readonly dir: string;
  readonly db: string;
  cli(args: readonly string[], env?: NodeJS.ProcessEnv): CliResult;
  file(name: string): string;
  cleanup(): void;
}

let projects = 0;

function project(yaml: string, files: Record<string, string> = {}): Project {
  const { dir: root, cleanup } = tempDir('berth-wiring-');
  projects += 1;
  // A fresh base per project keeps one file's projects apart too.
  const dir = path.join(root, `proj${projects}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'berth.yaml'), `base: ${BASE + projects * 10}\n${yaml}`);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const db = path.join(root, 'berth.db');
  return {
    dir,
    db,
    cli: (args, env) => berth(args, { cwd: dir, db, env }),
    file: (name) => path.join(dir, name),
    cleanup,
  };
}

function ok(res: CliResult): CliResult {
  assert.equal(res.code, 0, `exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  return res;
}

async function waitFor<T>(what: string, check: () => T | undefined | null | false): Promise<T> {
  for (let waited = 0; ; waited += POLL_MS) {
    const value = check();
    if (value) return value;
    if (waited > WAIT_LIMIT_MS) throw new Error(`gave up waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: gone (our own test processes, so never EPERM).
    return false;
  }
}

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: nothing to clean up.
  }
}

/** A long-running `berth ...` with its output collected. */
interface Running {
  readonly child: ChildProcess;
  /** Resolves once berth has exited and its output is complete (its pipes are closed). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once berth has exited, even while an orphaned child still holds its pipes. */
  readonly exited: Promise<void>;
  stdout(): string;
  stderr(): string;
}

function start(p: Project, args: readonly string[]): Running {
  const child = spawn(process.execPath, [BERTH_BIN, ...args], { cwd: p.dir, env: cliEnv({ db: p.db }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')} did not exit\nstderr: ${err}`));
    }, WAIT_LIMIT_MS * 2);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  // A rejected exit that nobody awaits (the test failed earlier) must not crash the run.
  exit.catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exit, exited, stdout: () => out, stderr: () => err };
}

/**
 * A server that listens on $PORT (loopback), answers with its pid and what it was given,
 * writes ready.json once listening, and on SIGTERM writes got-signal and exits 42.
 */
const SERVER_JS = `
const fs = require('node:fs');
const http = require('node:http');
const port = Number(process.env.PORT);
const server = http.createServer((req, res) => res.end(JSON.stringify({ pid: process.pid, port, web: process.env.WEB_PORT, url: process.env.WEB_URL })));
process.on('SIGTERM', () => { fs.writeFileSync('got-signal', 'SIGTERM'); process.exit(42); });
server.listen(port, '127.0.0.1', () => {
  fs.writeFileSync('ready.tmp', JSON.stringify({ pid: process.pid, port }));
  fs.renameSync('ready.tmp', 'ready.json');
});
`;

async function ready(p: Project): Promise<{ pid: number; port: number }> {
  const file = p.file('ready.json');
  return waitFor('the server to listen', () => fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; port: number }));
}

function get(port: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: WAIT_LIMIT_MS }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

function leases(p: Project): Lease[] {
  return json<Lease[]>(ok(p.cli(['--json', 'list'])));
}

/** The store's scopes and leases, without the export time. */
function storeState(p: Project): string {
  const snap = JSON.parse(ok(p.cli(['export'])).stdout) as Record<string, unknown>;
  delete snap['exportedAt'];
  return JSON.stringify(snap);
}

describe('berth env', () => {
  it('--write .env changes only berth’s key; comments, blank lines, other keys and order stay byte for byte', () => {
    const p = project('services:\n  web: {}\n');
    try {
      const port = json<Lease[]>(ok(p.cli(['--json', 'allocate', 'web'])))[0]!.port;
      const before = [
        '# Local settings — edited by hand',
        '',
        'DATABASE_URL="postgres://me:s3cret@localhost/app"   # keep quoted',
        'export SECRET_KEY=abc',
        '',
        '   # indented comment',
        'WEB_PORT=1111 # berth owns this one',
        "GREETING='hello world'",
        'EMPTY=',
        '',
        '# trailing comment without newline at the end',
      ].join('\n');
      fs.writeFileSync(p.file('.env'), before);
      const res = ok(p.cli(['env', '--write', '.env']));
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /wrote .*\.env \(WEB_PORT\)/);
      assert.equal(fs.readFileSync(p.file('.env'), 'utf8'), before.replace('WEB_PORT=1111 #', `WEB_PORT=${port} #`));

      const mtime = fs.statSync(p.file('.env')).mtimeMs;
      assert.match(ok(p.cli(['env', '--write', '.env'])).stderr, /unchanged/);
      assert.equal(fs.statSync(p.file('.env')).mtimeMs, mtime, 'an up-to-date file is not rewritten');
    } finally {
      p.cleanup();
    }
  });

  it('--write adds missing keys at the end; --json reports what was written; other formats replace the file (with --force when berth did not write it)', () => {
    const p = project('services:\n  web: {}\n  api:\n    env: API_LISTEN_PORT\n');
    try {
      const [web, api] = json<Lease[]>(ok(p.cli(['--json', 'allocate'])));
      fs.writeFileSync(p.file('.env'), '# mine\nFOO=1\n');
      const summary = json<{ changed: boolean; variables: Record<string, string> }>(ok(p.cli(['--json', 'env', '--write', '.env', '--urls'])));
      assert.equal(summary.changed, true);
      const expected = { WEB_PORT: String(web!.port), WEB_URL: `http://localhost:${web!.port}`, API_LISTEN_PORT: String(api!.port), API_URL: `http://localhost:${api!.port}` };
      assert.deepEqual(summary.variables, expected);
      const lines = Object.entries(expected).map(([k, v]) => `${k}=${v}\n`).join('');
      assert.equal(fs.readFileSync(p.file('.env'), 'utf8'), `# mine\nFOO=1\n${lines}`);

      // Other formats replace the whole file: one berth did not write only with --force.
      fs.writeFileSync(p.file('ports.sh'), 'echo stale\n');
      assert.equal(p.cli(['env', '--format', 'shell', '--write', 'ports.sh']).code, 2);
      assert.equal(fs.readFileSync(p.file('ports.sh'), 'utf8'), 'echo stale\n');
      ok(p.cli(['env', '--format', 'shell', '--write', 'ports.sh', '--force']));
      assert.equal(fs.readFileSync(p.file('ports.sh'), 'utf8'), `export WEB_PORT='${web!.port}'\nexport API_LISTEN_PORT='${api!.port}'\n`);
    } finally {
      p.cleanup();
    }
  });

  it('prints dotenv by default, compose env-file, and JSON with --json or --format json', () => {
    const p = project('services:\n  web: {}\n  postgres:\n    env: PGPORT\n');
    try {
      const [web, pg] = json<Lease[]>(ok(p.cli(['--json', 'allocate'])));
      // Variables come in berth.yaml's order (issue 10 item 22), whatever the ports.
      const lines = [`WEB_PORT=${web!.port}`, `PGPORT=${pg!.port}`];
      assert.equal(ok(p.cli(['env'])).stdout, `${lines.join('\n')}\n`);
      const compose = ok(p.cli(['env', '--format', 'compose'])).stdout.split('\n');
      assert.match(compose[0]!, /^# /);
      assert.equal(compose.slice(1).join('\n'), `${lines.join('\n')}\n`);
      const asJson = { WEB_PORT: String(web!.port), WEB_URL: `http://127.0.0.1:${web!.port}`, PGPORT: String(pg!.port) };
      assert.deepEqual(json(ok(p.cli(['--json', 'env', '--urls', '--host', '127.0.0.1']))), asJson);
      assert.deepEqual(json(ok(p.cli(['env', '--format', 'json', '--urls'], { BERTH_HOST: '127.0.0.1' }))), asJson);
    } finally {
      p.cleanup();
    }
  });

  it('eval "$(berth env --format shell)" sets the variables in bash and sh; hostile values stay values', () => {
    const p = project('services:\n  web: {}\n  api: {}\n');
    try {
      const purpose = `it's "quoted" $(touch PWNED1) \`touch PWNED2\``;
      const [web, api] = json<Lease[]>(ok(p.cli(['--json', 'allocate', 'web', 'api', '--purpose', purpose])));
      const host = `a b'c"d $(touch PWNED3) \`touch PWNED4\` ; touch PWNED5 #`;
      const berthCmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BERTH_BIN)}`;
      const script = `eval "$(${berthCmd} env --format shell --urls)" || exit 9; printf '%s\\n' "$WEB_PORT" "$WEB_URL" "$API_PORT" "$API_URL"`;
      for (const shell of ['bash', 'sh']) {
        const out = execFileSync(shell, ['-c', script], { cwd: p.dir, env: cliEnv({ db: p.db, env: { BERTH_HOST: host } }), encoding: 'utf8', timeout: WAIT_LIMIT_MS });
        assert.deepEqual(out.split('\n').slice(0, 4), [String(web!.port), `http://${host}:${web!.port}`, String(api!.port), `http://${host}:${api!.port}`]);
      }
      assert.deepEqual(fs.readdirSync(p.dir).filter((f) => f.startsWith('PWNED')), [], 'nothing in a value was run');
    } finally {
      p.cleanup();
    }
  });
});

describe('berth compose-override', () => {
  const BASE_COMPOSE = [
    'services:',
    '  db:',
    '    image: postgres:16',
    '    ports:',
    '      - "5432:5432"',
    '  web:',
    '    image: nginx',
    '    ports:',
    '      - "8080:80"',
    '    depends_on: [db]',
    '',
  ].join('\n');

  /** service → its `ports:` node, kept with its tag. */
  function parseOverride(text: string): Map<string, YAMLSeq<Scalar<string>>> {
    const doc = parseDocument(text, { customTags: COMPOSE_YAML_TAGS });
    assert.deepEqual(doc.errors, []);
    const out = new Map<string, YAMLSeq<Scalar<string>>>();
    for (const name of ['db', 'web', 'cache']) {
      const node = doc.getIn(['services', name, 'ports'], true);
      if (node === undefined) continue;
      assert.ok(isSeq(node), `services.${name}.ports is a list`);
      out.set(name, node as YAMLSeq<Scalar<string>>);
    }
    return out;
  }

  it('maps the leased host ports to container ports 5432 and 80 with ports: !override', () => {
    const p = project('services:\n  db: {}\n  frontend:\n    compose: web\n    compose_port: 80\n', { 'docker-compose.yml': BASE_COMPOSE });
    try {
      const [db, frontend] = json<Lease[]>(ok(p.cli(['--json', 'allocate'])));
      const printed = ok(p.cli(['compose-override'])).stdout;
      const res = ok(p.cli(['compose-override', '--write', 'compose.berth.yaml']));
      assert.match(res.stderr, /docker compose -f .*docker-compose\.yml -f .*compose\.berth\.yaml up/);
      const written = fs.readFileSync(p.file('compose.berth.yaml'), 'utf8');
      assert.equal(written, printed);
      const ports = parseOverride(written);
      assert.deepEqual([...ports.keys()], ['db', 'web']);
      for (const seq of ports.values()) assert.equal(seq.tag, '!override');
      assert.deepEqual(ports.get('db')!.items.map((i) => i.value), [`${db!.port}:5432`]);
      assert.deepEqual(ports.get('web')!.items.map((i) => i.value), [`${frontend!.port}:80`]);
      assert.equal(fs.readFileSync(p.file('docker-compose.yml'), 'utf8'), BASE_COMPOSE, 'the base file is untouched');
    } finally {
      p.cleanup();
    }
  });

  it('--allocate leases ports nobody leases, all or none; without it they are named on stderr and kept', async () => {
    const compose = `${BASE_COMPOSE}  cache:\n    image: redis\n    ports:\n      - "6379:6379"\n`;
    const p = project('services:\n  db: {}\n', { 'compose.yaml': compose });
    try {
      ok(p.cli(['allocate', 'db']));
      const plain = ok(p.cli(['compose-override']));
      assert.match(plain.stderr, /web publishes tcp 80 on host port 8080, which berth does not lease.*--allocate/);
      assert.match(plain.stderr, /cache publishes tcp 6379/);
      assert.deepEqual([...parseOverride(plain.stdout).keys()], ['db']);
      assert.deepEqual(leases(p).map((l) => l.name), ['db']);

      // Two at once in the same scope: one transaction each, so both see the same leases.
      const [a, b] = await Promise.all([berthAsync(['compose-override', '--allocate'], { cwd: p.dir, db: p.db }), berthAsync(['compose-override', '--allocate'], { cwd: p.dir, db: p.db })]);
      ok(a);
      ok(b);
      assert.equal(a.stdout, b.stdout);
      const byName = new Map(leases(p).map((l) => [l.name, l.port]));
      assert.deepEqual([...byName.keys()].sort(), ['cache', 'db', 'web']);
      const ports = parseOverride(a.stdout);
      assert.deepEqual(ports.get('web')!.items.map((i) => i.value), [`${byName.get('web')}:80`]);
      assert.deepEqual(ports.get('cache')!.items.map((i) => i.value), [`${byName.get('cache')}:6379`]);
      for (const seq of ports.values()) assert.equal(seq.tag, '!override');
    } finally {
      p.cleanup();
    }
  });

  it('--allocate is all or none: when one port cannot be had, none is leased', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const compose = 'services:\n  blk:\n    ports: ["7000:7000"]\n  other:\n    ports: ["7001:7001"]\n';
    const p = project(`services:\n  blk:\n    port: ${taken}\n`, { 'compose.yaml': compose });
    try {
      const before = storeState(p);
      const res = p.cli(['compose-override', '--allocate', '--write', 'o.yaml']);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, new RegExp(`port ${taken}`));
      assert.equal(storeState(p), before, 'no lease was created');
      assert.equal(fs.existsSync(p.file('o.yaml')), false);
    } finally {
      blocker.close();
      p.cleanup();
    }
  });
});

describe('berth urls', () => {
  const POOLS = [
    'pools:',
    '  stack:',
    '    ports: { postgres: 15433, mcp: 18081, admin: 18002 }',
    '    step: 2',
    '    slots: 10',
    "    urls: ['http://localhost:${admin}/oauth/callback']",
    '  open:',
    '    ports: { ui: 19000 }',
    "    urls: ['http://localhost:${ui}/cb']",
    '',
  ].join('\n');

  it('--pool on a 10-slot pool lists its 10 URLs in slot order', () => {
    const p = project(POOLS);
    try {
      const res = ok(p.cli(['urls', '--pool', 'stack']));
      assert.deepEqual(res.stdout.trimEnd().split('\n'), Array.from({ length: 10 }, (_, k) => `http://localhost:${18002 + 2 * k}/oauth/callback`));
      const data = json<{ slot: number; url: string; heldBy: string | null }[]>(ok(p.cli(['--json', 'urls', '--pool', 'stack'])));
      assert.deepEqual(data.map((u) => u.slot), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      p.cleanup();
    }
  });

  it('--pool on an open-ended pool lists the held slots, in slot order', () => {
    const p = project(POOLS);
    try {
      assert.equal(ok(p.cli(['urls', '--pool', 'open'])).stdout, '');
      ok(p.cli(['--scope', 'ws-a', 'reserve', '--pool', 'open']));
      ok(p.cli(['--scope', 'ws-b', 'reserve', '--pool', 'open']));
      const data = json<{ slot: number; url: string; heldBy: string }[]>(ok(p.cli(['--json', 'urls', '--pool', 'open'])));
      assert.deepEqual(data.map((u) => [u.slot, u.heldBy]), [[0, 'ws-a'], [1, 'ws-b']]);
      assert.deepEqual(data.map((u) => u.url), data.map((u) => `http://localhost:${19000 + u.slot}/cb`));
    } finally {
      p.cleanup();
    }
  });

  it("without --pool: the scope's HTTP services and its pool slot's URLs", () => {
    const p = project(`services:\n  web: {}\n  redis: {}\n${POOLS}`);
    try {
      const [web] = json<Lease[]>(ok(p.cli(['--json', 'allocate', 'web', 'redis'])));
      const slot = json<Lease[]>(ok(p.cli(['--json', 'reserve', '--pool', 'stack'])));
      const admin = slot.find((l) => l.name === 'admin')!;
      // Each URL says whose it is: the service, or the pool slot whose template gave it (issue 10 item 22).
      const lines = ok(p.cli(['urls'])).stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^NAME\s+URL$/);
      assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)).sort(), [['web', `http://localhost:${web!.port}`], [`pool stack slot ${admin.slot}`, `http://localhost:${admin.port}/oauth/callback`]].sort());
      assert.match(ok(p.cli(['urls', '--host', '127.0.0.1'])).stdout, new RegExp(`^web\\s+http://127\\.0\\.0\\.1:${web!.port}$`, 'm'));
    } finally {
      p.cleanup();
    }
  });
});

describe('berth run', () => {
  it('runs the command with its lease in PORT; SIGTERM to berth reaches it; its exit code is passed through', async () => {
    const p = project('services:\n  web: {}\n', { 'server.js': SERVER_JS });
    const run = start(p, ['run', '--', 'node', 'server.js']);
    let server: { pid: number; port: number } | undefined;
    try {
      server = await ready(p);
      const lease = json<Lease>(ok(p.cli(['--json', 'get', 'web'])));
      assert.equal(server.port, lease.port);
      const answer = await get(lease.port);
      assert.deepEqual(answer, { pid: server.pid, port: lease.port, web: String(lease.port), url: `http://localhost:${lease.port}` });
      run.child.kill('SIGTERM');
      const { code } = await run.exit;
      assert.equal(code, 42, run.stderr());
      assert.equal(fs.readFileSync(p.file('got-signal'), 'utf8'), 'SIGTERM');
      assert.match(run.stderr(), /node exited with status 42/);
      assert.equal(leases(p).length, 1, 'a sticky lease stays');
    } finally {
      killQuietly(server?.pid);
      killQuietly(run.child.pid);
      p.cleanup();
    }
  });

  it('exit codes: 0, the command’s own, and 128 + signal', () => {
    const p = project('');
    try {
      const zero = p.cli(['run', '--', 'node', '-e', 'process.stdout.write(process.env.PORT + " " + process.env.APP_PORT)']);
      assert.equal(zero.code, 0);
      const [port, appPort] = zero.stdout.split(' ');
      assert.equal(port, appPort, 'with no services in berth.yaml the lease is called app');
      assert.equal(ok(p.cli(['get', 'app'])).stdout.trim(), port);
      assert.equal(zero.stderr, '');
      assert.equal(p.cli(['run', '--', 'node', '-e', 'process.exit(7)']).code, 7);
      const killed = p.cli(['run', '--', 'node', '-e', "process.kill(process.pid, 'SIGKILL')"]);
      assert.equal(killed.code, 137);
      assert.match(killed.stderr, /SIGKILL \(exit status 137\)/);
      // --json after `--` is the child's argument: berth's own error stays a line for people.
      const childJson = p.cli(['run', '--', 'node', '-e', 'process.exit(3)', '--', '--json']);
      assert.equal(childJson.code, 3);
      assert.match(childJson.stderr, /^berth: node exited with status 3\n$/);
      const ownJson = p.cli(['--json', 'run', '--', 'node', '-e', 'process.exit(3)']);
      assert.equal(JSON.parse(ownJson.stderr).error, 'child-exit');
    } finally {
      p.cleanup();
    }
  });

  it('NAMEs choose the leases: PORT is the first, every variable of the scope is set', () => {
    const p = project('services:\n  web: {}\n  api:\n    env: API_LISTEN_PORT\n');
    try {
      const script = 'process.stdout.write(JSON.stringify([process.env.PORT, process.env.API_LISTEN_PORT, process.env.API_URL, process.env.WEB_PORT]))';
      const out = JSON.parse(ok(p.cli(['run', 'api', '--host', '127.0.0.1', '--', 'node', '-e', script])).stdout) as (string | undefined)[];
      const api = ok(p.cli(['get', 'api'])).stdout.trim();
      assert.deepEqual(out, [api, api, `http://127.0.0.1:${api}`, null], 'WEB_PORT is unset: web was never leased');
      const all = JSON.parse(ok(p.cli(['run', '--', 'node', '-e', script])).stdout) as string[];
      assert.equal(all[0], all[3], 'by default every service, PORT the first one (web)');
    } finally {
      p.cleanup();
    }
  });

  it('--ephemeral: the lease belongs to the child while it runs and is gone after it exits', async () => {
    const p = project('services:\n  web: {}\n', { 'server.js': SERVER_JS });
    const run = start(p, ['run', '--ephemeral', 'web', '--', 'node', 'server.js']);
    let server: { pid: number; port: number } | undefined;
    try {
      server = await ready(p);
      const [lease] = leases(p);
      assert.deepEqual([lease!.name, lease!.ephemeral, lease!.pid, lease!.port], ['web', true, server.pid, server.port]);
      run.child.kill('SIGTERM');
      assert.equal((await run.exit).code, 42);
      assert.deepEqual(leases(p), []);
    } finally {
      killQuietly(server?.pid);
      killQuietly(run.child.pid);
      p.cleanup();
    }
  });

  it('--ephemeral: the lease is gone also when the child is SIGKILLed', async () => {
    const p = project('services:\n  web: {}\n', { 'server.js': SERVER_JS });
    const run = start(p, ['run', '--ephemeral', '--', 'node', 'server.js']);
    let server: { pid: number; port: number } | undefined;
    try {
      server = await ready(p);
      assert.equal(leases(p)[0]!.pid, server.pid);
      process.kill(server.pid, 'SIGKILL');
      assert.equal((await run.exit).code, 137);
      assert.deepEqual(leases(p), []);
    } finally {
      killQuietly(server?.pid);
      killQuietly(run.child.pid);
      p.cleanup();
    }
  });

  it('--ephemeral: if berth itself is killed, the child keeps the lease and gc reclaims it once the child is gone', async () => {
    const p = project('services:\n  web: {}\n', { 'server.js': SERVER_JS });
    const run = start(p, ['run', '--ephemeral', '--', 'node', 'server.js']);
    let server: { pid: number; port: number } | undefined;
    try {
      server = await ready(p);
      run.child.kill('SIGKILL');
      await run.exited;
      assert.equal(leases(p)[0]!.pid, server.pid);
      assert.match(ok(p.cli(['gc'])).stdout, /nothing to collect/);
      process.kill(server.pid, 'SIGKILL');
      const pid = server.pid;
      await waitFor('the orphaned server to die', () => !alive(pid));
      assert.match(ok(p.cli(['gc'])).stdout, /released 1 ephemeral lease/);
      assert.deepEqual(leases(p), []);
    } finally {
      killQuietly(server?.pid);
      killQuietly(run.child.pid);
      p.cleanup();
    }
  });

  it('says on stderr when the child listens on a port that is not its lease', async () => {
    const p = project('services:\n  web: {}\n');
    const script = "require('node:net').createServer().listen(0, '127.0.0.1'); setInterval(() => {}, 1000);";
    const run = start(p, ['run', '--', 'node', '-e', script]);
    try {
      await waitFor('the warning', () => /node \(pid \d+\) listens on tcp port \d+, which is not one of its leases \(web=\d+\)/.test(run.stderr()));
      run.child.kill('SIGTERM');
      assert.equal((await run.exit).code, 143, 'a child ended by SIGTERM gives 128 + 15');
    } finally {
      killQuietly(run.child.pid);
      p.cleanup();
    }
  });

  it('says on stderr when its lease port is held by another process', async () => {
    const p = project('services:\n  web: {}\n');
    const port = json<Lease[]>(ok(p.cli(['--json', 'allocate', 'web'])))[0]!.port;
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    const run = start(p, ['run', '--', 'node', '-e', 'setInterval(() => {}, 1000)']);
    try {
      await waitFor('the warning', () => new RegExp(`port ${port} \\(lease web\\) is held by pid ${process.pid}\\b`).test(run.stderr()));
      run.child.kill('SIGTERM');
      await run.exit;
    } finally {
      killQuietly(run.child.pid);
      squatter.close();
      p.cleanup();
    }
  });
});

describe('wiring bad input: clear message, exit 2, nothing changed', () => {
  function expectUsage(p: Project, args: string[], message: RegExp): CliResult {
    const before = storeState(p);
    const files = fs.readdirSync(p.dir).sort();
    const res = p.cli(args);
    assert.equal(res.code, 2, `berth ${args.join(' ')} -> ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, message);
    assert.equal(res.stdout, '');
    assert.equal(storeState(p), before, 'the store is unchanged');
    assert.deepEqual(fs.readdirSync(p.dir).sort(), files, 'no file was created');
    return res;
  }

  it('an unknown --format, also with --write, leaves the file alone', () => {
    const p = project('services:\n  web: {}\n');
    try {
      ok(p.cli(['allocate']));
      fs.writeFileSync(p.file('.env'), 'WEB_PORT=1\n');
      expectUsage(p, ['env', '--format', 'yaml', '--write', '.env'], /unknown format 'yaml'\. Use one of: dotenv, shell, compose, json\./);
      expectUsage(p, ['env', '--format', 'xml'], /unknown format 'xml'/);
      expectUsage(p, ['--json', 'env', '--format', 'shell'], /--json .* cannot be combined with --format shell/);
      assert.equal(fs.readFileSync(p.file('.env'), 'utf8'), 'WEB_PORT=1\n');
    } finally {
      p.cleanup();
    }
  });

  it('an unknown pool', () => {
    const p = project("pools:\n  stack:\n    ports: { admin: 18002 }\n    slots: 2\n    urls: ['http://localhost:${admin}/']\n");
    try {
      expectUsage(p, ['urls', '--pool', 'nope'], /unknown pool 'nope'\. Pools in .*berth\.yaml: stack\./);
    } finally {
      p.cleanup();
    }
  });

  it('a missing compose file names every name tried', () => {
    const p = project('services:\n  web: {}\n');
    try {
      ok(p.cli(['allocate']));
      const res = expectUsage(p, ['compose-override', '--allocate', '--write', 'override.yaml'], /no compose file found/);
      for (const name of COMPOSE_NAMES) assert.ok(res.stderr.includes(name), `mentions ${name}`);
      expectUsage(p, ['compose-override', '--file', 'missing.yml'], /cannot read compose file .*missing\.yml \(ENOENT\)/);
    } finally {
      p.cleanup();
    }
  });

  it('run: no command, or a command that does not exist (127-style message, exit 2)', () => {
    const p = project('services:\n  web: {}\n');
    try {
      ok(p.cli(['allocate']));
      expectUsage(p, ['run', 'web'], /name the command to run after --/);
      expectUsage(p, ['run', '--', 'berth-no-such-command-7c1'], /command not found: berth-no-such-command-7c1/);
      expectUsage(p, ['run', '--ephemeral', 'tmp', '--', 'berth-no-such-command-7c1'], /command not found/);
    } finally {
      p.cleanup();
    }
  });
});
