/**
 * Files berth writes, through the built CLI as a user types it (`env --write`,
 * `compose-override --write`, `export -o`): a FIFO, a socket, a device node or a
 * directory is refused with exit 2, naming what it is, and stays what it was; a link
 * planted by another user (`nobody`) in a sticky shared directory is not followed, even
 * dangling; the user's own link is followed. Every run has a time limit, so a missing fix
 * fails (a killed run has no exit code) instead of hanging the suite.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir, type CliResult } from '../helpers/cli.js';

const RUN_LIMIT_MS = 15_000;
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const NEEDS_ROOT = !IS_ROOT && 'needs root (device nodes, links owned by nobody)';
const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n';

let dir: string;
let cleanup: () => void;
let db: string;

function cli(args: readonly string[]): CliResult {
  return berth(args, { cwd: dir, db, timeoutMs: RUN_LIMIT_MS });
}

/** Every way to write FILE: the four env formats, the compose override and export. */
function writes(file: string): string[][] {
  return [
    ['env', '--write', file],
    ['env', '--format', 'shell', '--write', file],
    ['env', '--format', 'compose', '--write', file],
    ['env', '--format', 'json', '--write', file],
    ['compose-override', '--write', file],
    ['export', '-o', file],
  ];
}

/** A refused write: exit 2 (not killed by the time limit), the message, no stack, nothing on stdout. */
function assertRefused(args: readonly string[], message: RegExp): void {
  const res = cli(args);
  const what = `berth ${args.join(' ')}`;
  assert.equal(res.code, 2, `${what} -> exit ${res.code} (null: killed after ${RUN_LIMIT_MS} ms)\n${res.stderr}`);
  assert.match(res.stderr, message, what);
  assert.doesNotMatch(res.stderr, /unexpected error|\n\s+at /, `${what}: no stack trace`);
  assert.equal(res.stdout, '', what);
}

function noTempFiles(where: string): void {
  assert.deepEqual(fs.readdirSync(where).filter((f) => f.endsWith('.berth-tmp')), [], `no temp file left in ${where}`);
}

describe('files berth writes', () => {
  before(() => {
    ({ dir, cleanup } = tempDir('berth-files-write-'));
    db = path.join(dir, 'berth.db');
    const base = 29_000 + Math.floor(Math.random() * 40) * 20;
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `base: ${base}\nservices:\n  web: {}\n`);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), COMPOSE);
    const res = cli(['allocate', 'web']);
    assert.equal(res.code, 0, res.stderr);
  });
  after(() => cleanup());

  it('an empty path is named as such (was "no such directory ..")', () => {
    assertRefused(['env', '--write', ''], /cannot write to an empty path\. Name a file/);
    assertRefused(['env', '--format', 'json', '--write', ''], /empty path/);
    assertRefused(['export', '-o', ''], /empty path/);
  });

  it('a FIFO is refused at once and stays a FIFO', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // compose-override reads its target in compose-build.ts before writing; that read is
    // not yet safe-read's (see the next test), so it is left out here.
    for (const args of writes('fifo').filter((a) => a[0] !== 'compose-override')) {
      assertRefused(args, /cannot write fifo: it is a FIFO \(named pipe\), not a regular file/);
    }
    assert.ok(fs.lstatSync(fifo).isFIFO());
    noTempFiles(dir);
  });

  it('compose-override --write FIFO is refused', () => {
    const fifo = path.join(dir, 'fifo-compose');
    execFileSync('mkfifo', [fifo]);
    assertRefused(['compose-override', '--write', 'fifo-compose'], /it is a FIFO/);
  });

  it('a socket is refused (exit 2, not a system error)', async () => {
    const sock = path.join(dir, 'sock');
    const server = net.createServer().listen(sock);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      for (const args of writes('sock').filter((a) => a[0] !== 'compose-override')) assertRefused(args, /cannot write sock: it is a socket/);
      assert.ok(fs.lstatSync(sock).isSocket());
    } finally {
      server.close();
    }
  });

  it('a device node (a copy of /dev/null) is refused even as root, and stays a device', { skip: NEEDS_ROOT }, () => {
    const node = path.join(dir, 'null');
    execFileSync('mknod', [node, 'c', '1', '3']);
    for (const args of writes('null')) assertRefused(args, /cannot write (\S*\/)?null: it is a character device, not a regular file/);
    assert.ok(fs.lstatSync(node).isCharacterDevice());
    noTempFiles(dir);
  });

  describe("a link planted by another user in a sticky shared directory", { skip: NEEDS_ROOT }, () => {
    let shared: string;
    let victim: string;
    before(() => {
      shared = path.join(dir, 'shared-tmp');
      fs.mkdirSync(shared);
      fs.chmodSync(shared, 0o1777);
      victim = path.join(dir, 'root-only.conf');
      fs.writeFileSync(victim, 'root only\n', { mode: 0o600 });
    });

    function plant(name: string, to: string): string {
      const link = path.join(shared, name);
      fs.symlinkSync(to, link);
      fs.lchownSync(link, NOBODY, NOBODY);
      return link;
    }

    it("is not followed: root's file is not modified, the link stays", () => {
      const link = plant('out', victim);
      for (const args of writes(link)) assertRefused(args, /shared-tmp\/out is a symbolic link owned by another user \(uid 65534\)/);
      assert.equal(fs.readFileSync(victim, 'utf8'), 'root only\n');
      assert.equal(fs.statSync(victim).mode & 0o777, 0o600);
      assert.equal(fs.readlinkSync(link), victim);
      assert.deepEqual(fs.readdirSync(shared), ['out']);
    });

    it('dangling, it is neither replaced nor followed', () => {
      const wanted = path.join(dir, 'created-through-link');
      const link = plant('dangling', wanted);
      for (const args of writes(link)) assertRefused(args, /symbolic link owned by another user/);
      assert.equal(fs.existsSync(wanted), false, 'nothing was created where the link points');
      assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link was not replaced');
      assert.deepEqual(fs.readdirSync(shared).sort(), ['dangling', 'out']);
    });
  });

  it('env --write in a whole-file format never replaces a file berth did not write, unless --force', () => {
    const file = path.join(dir, 'mine.sh');
    fs.writeFileSync(file, '#!/bin/sh\necho my own script\n');
    for (const format of ['shell', 'compose', 'json']) {
      const refused = cli(['env', '--format', format, '--write', 'mine.sh']);
      assert.equal(refused.code, 2, `${format}: ${refused.stderr}`);
      assert.match(refused.stderr, /berth did not write it.*--force/);
      assert.equal(fs.readFileSync(file, 'utf8'), '#!/bin/sh\necho my own script\n', `${format}: the file is as it was`);
    }
    assert.equal(cli(['env', '--format', 'shell', '--write', 'mine.sh', '--force']).code, 0);
    assert.match(fs.readFileSync(file, 'utf8'), /^export WEB_PORT=/m);
    // Now it is berth's own file: written again without --force.
    assert.equal(cli(['env', '--format', 'shell', '--write', 'mine.sh']).code, 0);
  });

  it("the user's own link is followed: its target is updated, keeps its mode, the link stays", () => {
    const target = path.join(dir, 'shared.env');
    fs.writeFileSync(target, '# mine\nWEB_PORT=1\n', { mode: 0o640 });
    fs.chmodSync(target, 0o640);
    fs.symlinkSync('shared.env', path.join(dir, '.env'));
    const res = cli(['env', '--write', '.env']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(fs.lstatSync(path.join(dir, '.env')).isSymbolicLink());
    assert.match(fs.readFileSync(target, 'utf8'), /^# mine\nWEB_PORT=\d{4,5}\n$/);
    assert.equal(fs.statSync(target).mode & 0o777, 0o640);
  });
});
