/**
 * A store berth cannot use as it is: a read-only file, a read-only directory, a full disk,
 * a table missing. Each command gets a message saying what happened and what to do, exit 4
 * (store problems), never `unexpected error` or a stack trace, and nothing changes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { BERTH_BIN, berth, cliEnv, storeState, tempDir, type CliResult } from '../helpers/cli.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Asserts a store failure: exit 4, the message, no stack trace, nothing on stdout. */
function assertStoreFailure(res: CliResult, message: RegExp, what: string): void {
  assert.equal(res.code, 4, `${what} -> ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, message, what);
  assert.doesNotMatch(res.stderr, /unexpected error|\n\s+at /, `${what}: no stack trace`);
  assert.equal(res.stdout, '', `${what}: nothing on stdout`);
}

/**
 * Runs the CLI as a user file permissions apply to: `nobody` when the tests run as root
 * (root writes read-only files), else the current user.
 */
function berthAsUser(args: readonly string[], db: string, cwd: string): CliResult {
  const ids = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const res = spawnSync(process.execPath, [BERTH_BIN, ...args], { cwd, env: cliEnv({ db }), encoding: 'utf8', timeout: 30_000, ...ids });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Skips the test when the user berthAsUser runs as cannot run the CLI from this checkout (e.g. a 0700 clone). */
function skipUnlessUserCanRun(t: TestContext, cwd: string): boolean {
  if (!isRoot) return false;
  const res = spawnSync(process.execPath, [BERTH_BIN, '--version'], { cwd, uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 30_000 });
  if (res.status === 0) return false;
  t.skip(`nobody cannot run ${BERTH_BIN} (${res.stderr.trim().split('\n')[0] ?? res.status}); read-only stores need a user whom permissions bind`);
  return true;
}

/** A temp directory holding a store with two leases; `storeDir` is where the store file is. */
function storeWithLeases(): { dir: string; storeDir: string; db: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('berth-failures-');
  fs.chmodSync(dir, 0o755);
  const storeDir = path.join(dir, 'state');
  fs.mkdirSync(storeDir);
  const db = path.join(storeDir, 'berth.db');
  const res = berth(['allocate', 'web', 'api', '--scope', 'shop'], { cwd: dir, db });
  assert.equal(res.code, 0, res.stderr);
  return { dir, storeDir, db, cleanup };
}

describe('store failures: clear messages, exit 4, nothing changed', () => {
  it('a read-only store file: writes say so and how to fix it; reads still work', (t) => {
    const { dir, storeDir, db, cleanup } = storeWithLeases();
    try {
      if (skipUnlessUserCanRun(t, dir)) return;
      const before = storeState(db, dir);
      fs.chmodSync(storeDir, 0o777); // SQLite may create berth.db-wal and -shm beside it
      fs.chmodSync(db, 0o444);
      assertStoreFailure(berthAsUser(['allocate', 'db', '--scope', 'shop'], db, dir), /store .*berth\.db is read-only: the file is read-only.*chmod u\+w/s, 'allocate');
      assertStoreFailure(berthAsUser(['release', 'web', '--scope', 'shop'], db, dir), /read-only.*Nothing was changed/s, 'release');
      const list = berthAsUser(['list', '--scope', 'shop', '--json'], db, dir);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((l) => l.name).sort(), ['api', 'web']);
      fs.chmodSync(db, 0o644);
      assert.equal(storeState(db, dir), before, 'the store is unchanged');
    } finally {
      cleanup();
    }
  });

  it('a read-only directory: opening says SQLite must create its -wal and -shm files there', (t) => {
    const { dir, storeDir, db, cleanup } = storeWithLeases();
    try {
      if (skipUnlessUserCanRun(t, dir)) return;
      const before = storeState(db, dir);
      fs.chmodSync(db, 0o666);
      fs.chmodSync(storeDir, 0o555);
      const message = /directory .*state is read-only.*berth\.db-wal and berth\.db-shm.*chmod u\+w/s;
      assertStoreFailure(berthAsUser(['allocate', 'db', '--scope', 'shop'], db, dir), message, 'allocate');
      assertStoreFailure(berthAsUser(['list'], db, dir), message, 'list');
      // A new store in a read-only directory: cannot be opened, for the same reason.
      assertStoreFailure(berthAsUser(['allocate', 'web', '--scope', 'shop'], path.join(storeDir, 'new.db'), dir), /cannot open the store .*new\.db: its directory .*read-only/s, 'a new store');
      fs.chmodSync(storeDir, 0o755);
      assert.equal(storeState(db, dir), before, 'the store is unchanged');
      assert.equal(fs.existsSync(path.join(storeDir, 'new.db')), false);
    } finally {
      fs.chmodSync(path.join(dir, 'state'), 0o755);
      cleanup();
    }
  });

  it('a full disk (a 200 KiB tmpfs): allocate and release say the disk is full and change nothing', (t) => {
    if (!isRoot) {
      t.skip('mounting a tmpfs needs root');
      return;
    }
    const { dir, cleanup } = tempDir('berth-full-');
    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (mount.status !== 0) {
      cleanup();
      t.skip(`mount -t tmpfs was refused (${(mount.stderr || mount.error?.message || '').trim()}); a full disk needs a small file system of its own`);
      return;
    }
    try {
      const db = path.join(mnt, 'berth.db');
      assert.equal(berth(['allocate', 'web', 'api', '--scope', 'shop'], { cwd: dir, db }).code, 0);
      const before = storeState(db, dir);
      // Fill it in 4 KiB files, then free 32 KiB: room for SQLite's shared-memory file, not for a commit.
      const fillers: string[] = [];
      for (let i = 0; ; i++) {
        const file = path.join(mnt, `fill-${i}`);
        try {
          fs.writeFileSync(file, Buffer.alloc(4096));
          fillers.push(file);
        } catch (err) {
          assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
          fs.rmSync(file, { force: true });
          break;
        }
      }
      for (const file of fillers.splice(-8)) fs.rmSync(file);
      const names = Array.from({ length: 40 }, (_, i) => `svc${i}`);
      const full = /disk holding the store .*berth\.db is full.*Free some space there/s;
      assertStoreFailure(berth(['allocate', ...names, '--scope', 'shop'], { cwd: dir, db }), full, 'allocate');
      assertStoreFailure(berth(['release', 'web', '--scope', 'shop'], { cwd: dir, db }), full, 'release');
      assertStoreFailure(berth(['release', 'web', '--scope', 'shop', '--json'], { cwd: dir, db }), /"error":"store".*is full/, 'release --json');
      for (const file of fillers) fs.rmSync(file);
      assert.equal(storeState(db, dir), before, 'nothing was changed');
      assert.equal(berth(['release', 'web', '--scope', 'shop'], { cwd: dir, db }).code, 0, 'with space again, release works');
    } finally {
      spawnSync('umount', [mnt]);
      cleanup();
    }
  });

  it('a store missing a table: every command says the store is damaged and which table is missing', () => {
    const { dir, db, cleanup } = storeWithLeases();
    try {
      const raw = new Database(db);
      raw.exec('DROP TABLE leases');
      raw.close();
      const bytes = fs.readFileSync(db);
      const damaged = /store .*berth\.db is damaged: its table leases is missing.*Move it aside/s;
      assertStoreFailure(berth(['list'], { cwd: dir, db }), damaged, 'list');
      assertStoreFailure(berth(['allocate', 'db', '--scope', 'shop'], { cwd: dir, db }), damaged, 'allocate');
      assertStoreFailure(berth(['release', 'web', '--scope', 'shop'], { cwd: dir, db }), damaged, 'release');
      assertStoreFailure(berth(['export'], { cwd: dir, db }), damaged, 'export');
      assert.deepEqual(fs.readFileSync(db), bytes, 'the file was left as it was');
    } finally {
      cleanup();
    }
  });
});
