/**
 * Bad files and paths given to the CLI: snapshots with invalid fields, output paths that
 * cannot be written, stores that are directories, other applications' databases, or
 * cannot be created. Each gets a clear message and its documented exit code, never a
 * stack trace, and no stored data changes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { applySnapshot } from '../../src/core/snapshot.js';
import type { Snapshot } from '../../src/engine/index.js';
import { UsageError } from '../../src/errors.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { BERTH_BIN, berth, cliEnv, tempDir, type CliResult, storeState as sharedStoreState } from '../helpers/cli.js';
import { lease } from '../helpers/fixtures.js';

let dir: string;
let cleanup: () => void;
let db: string;
let stateBefore: string;

/** The store's leases and scopes, without the export time. */
function storeState(file = db): string {
  return sharedStoreState(file, dir);
}

/** Asserts a failed run: exit code, message, no stack trace, nothing on stdout. */
function assertFailed(res: CliResult, code: number, message: RegExp, what: string): void {
  assert.equal(res.code, code, `${what} -> ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, message, what);
  assert.doesNotMatch(res.stderr, /unexpected error|\n\s+at /, `${what}: no stack trace`);
  assert.equal(res.stdout, '', `${what}: nothing on stdout`);
}

/** Runs berth against the test store and asserts it failed and changed nothing. */
function expectFailure(args: string[], code: number, message: RegExp): void {
  assertFailed(berth(args, { cwd: dir, db }), code, message, `berth ${args.join(' ')}`);
  assert.equal(storeState(), stateBefore, 'the store is unchanged');
}

/** A valid one-lease snapshot, with `leaseFields` and `scope` fields merged into its rows. */
function snapshot(leaseFields: Record<string, unknown> = {}, scope: Record<string, unknown> = {}): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    format: 'berth-snapshot',
    version: 1,
    exportedAt: now,
    scopes: [{ host: 'local', name: 'imported', directory: null, createdAt: now, ...scope }],
    leases: [{ ...lease('api', 27301, { scope: 'imported', createdAt: now, updatedAt: now }), ...leaseFields }],
  };
}

describe('bad files and paths', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), 'project: files\n');
    assert.equal(berth(['allocate', 'web', '--port', '27300'], { cwd: dir, db }).code, 0);
    stateBefore = storeState();
  });
  after(() => cleanup());

  describe('import refuses invalid fields with exit 2, naming each, and changes nothing', () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      ['purpose is an object', { purpose: {} }, {}, /leases\[0\]\.purpose: must be a string or null, got \{\}/],
      ['port 0', { port: 0 }, {}, /leases\[0\]\.port: must be a port from 1 to 65535, got 0/],
      ['port as text', { port: '27301' }, {}, /leases\[0\]\.port: must be a port/],
      ['protocol sctp', { protocol: 'sctp' }, {}, /leases\[0\]\.protocol: must be "tcp" or "udp"/],
      ['scope with a space', { scope: 'has space' }, {}, /leases\[0\]\.scope: invalid scope 'has space'/],
      ['name with a slash', { name: 'a/b' }, {}, /leases\[0\]\.name: invalid name 'a\/b'/],
      ['name a number', { name: 7 }, {}, /leases\[0\]\.name: must be a string, got 7/],
      ['pool a number', { pool: 5 }, {}, /leases\[0\]\.pool: must be a string or null, got 5/],
      ['slot negative', { slot: -1 }, {}, /leases\[0\]\.slot: must be a whole number from 0/],
      ['slot fractional', { slot: 1.5 }, {}, /leases\[0\]\.slot: must be a whole number from 0/],
      ['ephemeral as text', { ephemeral: 'yes' }, {}, /leases\[0\]\.ephemeral: must be true or false, got "yes"/],
      ['pid 0', { pid: 0 }, {}, /leases\[0\]\.pid: must be a positive whole number/],
      ['pid as text', { pid: '12' }, {}, /leases\[0\]\.pid: must be a positive whole number/],
      ['createdAt a number', { createdAt: 5 }, {}, /leases\[0\]\.createdAt: must be a timestamp string/],
      ['updatedAt null', { updatedAt: null }, {}, /leases\[0\]\.updatedAt: must be a timestamp string/],
      ['host empty', { host: '' }, {}, /leases\[0\]\.host: must be a non-empty string/],
      ['scope name invalid', {}, { name: '-x' }, /scopes\[0\]\.name: invalid scope '-x'/],
      ['scope directory relative', {}, { directory: 'some/dir' }, /scopes\[0\]\.directory: must be an absolute path or null/],
      ['scope directory a number', {}, { directory: 3 }, /scopes\[0\]\.directory: must be an absolute path or null/],
    ];
    for (const [title, fields, scope, message] of cases) {
      it(title, () => {
        const file = path.join(dir, 'bad-snapshot.json');
        fs.writeFileSync(file, JSON.stringify(snapshot(fields, scope)));
        expectFailure(['import', file], 2, message);
        expectFailure(['import', file, '--replace'], 2, message);
      });
    }

    it('every problem is named at once, and a row that is not an object too', () => {
      const snap = snapshot({ purpose: {}, port: 70000 });
      (snap.leases as unknown[]).push(5);
      const file = path.join(dir, 'bad-snapshot.json');
      fs.writeFileSync(file, JSON.stringify(snap));
      expectFailure(['import', file], 2, /3 problem\(s\):\n {2}leases\[0\]\.port: .*\n {2}leases\[0\]\.purpose: .*\n {2}leases\[1\]: must be an object, got 5/);
    });

    it('rows of another host are refused, saying so', () => {
      const file = path.join(dir, 'other-host.json');
      fs.writeFileSync(file, JSON.stringify(snapshot({ host: 'build-box' })));
      expectFailure(['import', file], 2, /holds rows of another host than this store's \("local"\).*\n {2}leases\[0\]\.host: is "build-box", not "local"/s);
      expectFailure(['import', file, '--replace'], 2, /another host/);
      fs.writeFileSync(file, JSON.stringify(snapshot({}, { host: 'build-box' })));
      expectFailure(['import', file], 2, /scopes\[0\]\.host: is "build-box"/);
    });

    it('the same snapshot, fixed, imports (the checks accept what export writes)', () => {
      const { dir: other, cleanup: done } = tempDir();
      try {
        const fresh = path.join(other, 'fresh.db');
        const file = path.join(other, 'good.json');
        // Pool p's definition goes with its lease: import refuses pools it does not know.
        const pools = [{ kind: 'sets', name: 'p', roles: ['api'], urls: [], protocol: 'tcp', sets: [{ api: 27301 }] }];
        fs.writeFileSync(file, JSON.stringify({ ...snapshot({ purpose: 'api', pool: 'p', slot: 0, ephemeral: true, pid: 4242 }, { directory: other }), pools }));
        const res = berth(['import', file], { cwd: dir, db: fresh });
        assert.equal(res.code, 0, res.stderr);
        const exported = path.join(other, 'exported.json');
        assert.equal(berth(['export', '-o', exported], { cwd: dir, db: fresh }).code, 0);
        assert.equal(berth(['import', exported], { cwd: dir, db: fresh }).code, 0, 'an export re-imports');
      } finally {
        done();
      }
    });

    it('applySnapshot (the library path) checks fields and host before --replace forgets anything', async () => {
      const { dir: other, cleanup: done } = tempDir();
      const store = openSqliteStore(path.join(other, 'lib.db'));
      try {
        await store.transaction('write', (tx) => applySnapshot(tx, snapshot({ name: 'keep', port: 27320 }) as unknown as Snapshot, false, store.host));
        const bad: [Record<string, unknown>, RegExp][] = [
          [{ purpose: {} }, /leases\[0\]\.purpose/],
          [{ host: 'elsewhere' }, /leases\[0\]\.host: is "elsewhere", not "local"/],
        ];
        for (const [fields, message] of bad) {
          await assert.rejects(
            store.transaction('write', (tx) => applySnapshot(tx, snapshot(fields) as unknown as Snapshot, true, store.host)),
            (err) => err instanceof UsageError && message.test(err.message),
          );
          const leases = await store.transaction('read', (tx) => tx.listLeases());
          assert.deepEqual(leases.map((l) => l.name), ['keep'], 'nothing was forgotten');
        }
      } finally {
        await store.close();
        done();
      }
    });
  });

  describe('output paths that cannot be written: exit 2, no stack trace, nothing created', () => {
    it('env --write to a directory', () => {
      expectFailure(['env', '--write', dir], 2, /cannot write .*: it is a directory/);
      expectFailure(['env', '--format', 'json', '--write', dir], 2, /cannot write .*: it is a directory/);
    });

    it('env --write into a missing directory', () => {
      const missing = path.join(dir, 'no-such-dir');
      expectFailure(['env', '--write', path.join(missing, '.env')], 2, /cannot write .*no-such-dir\/\.env: no such directory .*no-such-dir\b/);
      expectFailure(['env', '--format', 'shell', '--write', path.join(missing, 'ports.sh')], 2, /cannot write .*ports\.sh: no such directory/);
      assert.equal(fs.existsSync(missing), false);
    });

    it('env --write below a file', () => {
      const file = path.join(dir, 'berth.yaml');
      expectFailure(['env', '--write', path.join(file, '.env')], 2, /cannot write .*berth\.yaml\/\.env: .*not a directory/);
    });

    it('export -o into a missing directory or onto a directory', () => {
      expectFailure(['export', '-o', path.join(dir, 'no-such-dir', 'x.json')], 2, /cannot write .*x\.json: no such directory/);
      expectFailure(['export', '-o', dir], 2, /cannot write .*: it is a directory/);
      assert.equal(fs.existsSync(path.join(dir, 'no-such-dir')), false);
    });
  });

  describe('stores that cannot be used: exit 4, left untouched', () => {
    it('--db pointing at a directory', () => {
      const storeDir = path.join(dir, 'a-directory');
      fs.mkdirSync(storeDir);
      assertFailed(berth(['list'], { cwd: dir, db: storeDir }), 4, /the store .*a-directory is a directory, not a berth database.*--db PATH/, 'list');
      assertFailed(berth(['allocate', 'x'], { cwd: dir, db: storeDir }), 4, /is a directory/, 'allocate');
      assert.deepEqual(fs.readdirSync(storeDir), []);
    });

    it("another application's SQLite file is refused and stays byte-identical", () => {
      const foreign = path.join(dir, 'app.sqlite');
      const other = new Database(foreign);
      other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');");
      other.close();
      const bytes = fs.readFileSync(foreign);
      for (const args of [['list'], ['allocate', 'x', '--port', '27310'], ['import', path.join(dir, 'none.json')]]) {
        if (args[0] === 'import') fs.writeFileSync(args[1]!, JSON.stringify(snapshot()));
        assertFailed(
          berth(args, { cwd: dir, db: foreign }),
          4,
          /the store .*app\.sqlite is an SQLite database but not berth's \(it holds tables users.*\)\. It was left untouched\..*--db PATH/,
          args[0]!,
        );
        assert.ok(fs.readFileSync(foreign).equals(bytes), `${args[0]}: byte-identical`);
      }
      assert.ok(!fs.existsSync(`${foreign}-wal`) && !fs.existsSync(`${foreign}-shm`) && !fs.existsSync(`${foreign}-journal`));
    });

    it('an SQLite file without tables is initialised', () => {
      const empty = path.join(dir, 'empty.sqlite');
      const blank = new Database(empty);
      blank.exec('CREATE TABLE t (x); DROP TABLE t;');
      blank.close();
      assert.ok(fs.statSync(empty).size > 0, 'a real SQLite file, not an empty one');
      const res = berth(['allocate', 'x', '--port', '27311'], { cwd: dir, db: empty });
      assert.equal(res.code, 0, res.stderr);
    });

    it('a store whose directory cannot be created fails fast (no hang under /proc)', { skip: !fs.existsSync('/proc/self') && 'no /proc here' }, () => {
      for (const db of ['/proc/nope/x.db', '/proc/nope/deeper/still/x.db']) {
        const res = spawnSync(process.execPath, [BERTH_BIN, 'list'], { cwd: dir, env: cliEnv({ db }), encoding: 'utf8', timeout: 20_000 });
        assert.equal(res.signal, null, `${db}: berth list did not finish (killed by ${res.signal})`);
        assertFailed({ code: res.status, stdout: res.stdout, stderr: res.stderr }, 4, /cannot create the directory for the store .*x\.db.*--db PATH/, db);
      }
    });

    it('a store below a file fails with exit 4', () => {
      const res = berth(['list'], { cwd: dir, db: path.join(dir, 'berth.yaml', 'sub', 'x.db') });
      assertFailed(res, 4, /cannot create the directory for the store .*berth\.yaml\/sub\/x\.db: .*berth\.yaml is not a directory/, 'list');
    });
  });
});
