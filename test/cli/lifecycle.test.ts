/**
 * The life of leases through the built CLI: list, get, release, reassign, export/import,
 * ephemeral leases and gc, reset; global options before or after the command.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

describe('lease lifecycle', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  it('global options work before or after the command; BERTH_SCOPE sets the scope', () => {
    assert.equal(berth(['--scope', 'g1', 'allocate', 'web', '--port', '27301'], { cwd: dir, db }).code, 0);
    assert.equal(berth(['get', 'web', '--scope', 'g1'], { cwd: dir, db }).stdout, '27301\n');
    assert.equal(berth(['--json', '--scope', 'g1', 'get', 'web'], { cwd: dir, db }).stdout.includes('"port": 27301'), true);
    assert.equal(berth(['get', 'web'], { cwd: dir, db, env: { BERTH_SCOPE: 'g1' } }).stdout, '27301\n');
  });

  it('the scope defaults to the directory holding berth.yaml, else .git, else cwd', () => {
    const proj = path.join(dir, 'my-proj');
    fs.mkdirSync(path.join(proj, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(proj, 'berth.yaml'), 'base: 27400\n');
    const [l] = json<Lease[]>(berth(['allocate', 'web', '--json'], { cwd: path.join(proj, 'sub', 'deeper'), db }));
    assert.equal(l!.scope, 'my-proj');
    assert.equal(l!.port, 27400);
    const repo = path.join(dir, 'a-repo');
    fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'src'));
    const [r] = json<Lease[]>(berth(['allocate', 'web', '--json', '--range', '27410-27419'], { cwd: path.join(repo, 'src'), db }));
    assert.equal(r!.scope, 'a-repo');
  });

  it('list shows every scope as a table, or one scope; release frees ports for reuse', () => {
    const table = berth(['list'], { cwd: dir, db }).stdout;
    assert.match(table, /^SCOPE\s+NAME\s+PORT\s+PROTO\s+STRATEGY\s+POOL\s+OWNER\s+PURPOSE/);
    assert.match(table, /g1\s+web\s+27301\s+tcp\s+[a-z]+\s/, "each row says the strategy that chose its port");
    assert.match(table, /my-proj\s+web\s+27400/);
    const only = json<Lease[]>(berth(['list', '--scope', 'my-proj', '--json'], { cwd: dir, db }));
    assert.deepEqual(only.map((l) => l.scope), ['my-proj']);

    const released = json<Lease[]>(berth(['release', 'web', '--scope', 'g1', '--json'], { cwd: dir, db }));
    assert.deepEqual(released.map((l) => l.port), [27301]);
    assert.equal(berth(['get', 'web', '--scope', 'g1'], { cwd: dir, db }).code, 1);
    assert.equal(berth(['allocate', 'again', '--port', '27301', '--scope', 'g2'], { cwd: dir, db }).code, 0, 'the port is free for others');
  });

  it('release with no names releases the whole scope, pool slot included', () => {
    const proj = path.join(dir, 'whole');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), 'pools:\n  p:\n    ports: { a: 27501, b: 27601 }\n');
    assert.equal(berth(['reserve'], { cwd: proj, db }).code, 0);
    assert.equal(berth(['allocate', 'web', '--range', '27700-27799'], { cwd: proj, db }).code, 0);
    const gone = json<Lease[]>(berth(['release', '--json'], { cwd: proj, db }));
    assert.deepEqual(gone.map((l) => l.name).sort(), ['a', 'b', 'web']);
    assert.deepEqual(json<Lease[]>(berth(['list', '--scope', 'whole', '--json'], { cwd: proj, db })), []);
  });

  it('reassign moves a lease to a free port and refuses one another lease holds', () => {
    berth(['allocate', 'a', '--port', '27801', '--scope', 'r'], { cwd: dir, db });
    berth(['allocate', 'b', '--port', '27802', '--scope', 'r'], { cwd: dir, db });
    const moved = json<Lease>(berth(['reassign', 'a', '27810', '--scope', 'r', '--json'], { cwd: dir, db }));
    assert.equal(moved.port, 27810);
    const clash = berth(['reassign', 'a', '27802', '--scope', 'r'], { cwd: dir, db });
    assert.equal(clash.code, 4);
    assert.match(clash.stderr, /27802 is leased to r\/b/);
  });

  it('reassign refuses a port a real process listens on, unless --force', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      berth(['allocate', 'svc', '--port', '27901', '--scope', 'busy'], { cwd: dir, db });
      const res = berth(['reassign', 'svc', String(port), '--scope', 'busy'], { cwd: dir, db });
      assert.equal(res.code, 4);
      assert.match(res.stderr, /in use by another process.*berth who/);
      assert.equal(berth(['reassign', 'svc', String(port), '--scope', 'busy', '--force'], { cwd: dir, db }).code, 0);
    } finally {
      server.close();
    }
  });

  it('export and import round-trip; import refuses conflicting rows and changes nothing', () => {
    const snapFile = path.join(dir, 'snap.json');
    assert.equal(berth(['export', '-o', snapFile], { cwd: dir, db }).code, 0);
    const snap = JSON.parse(fs.readFileSync(snapFile, 'utf8')) as { format: string; version: number; leases: Lease[] };
    assert.equal(snap.format, 'berth-snapshot');
    assert.equal(snap.version, 1);
    const fresh = path.join(dir, 'fresh.db');
    const imported = json<{ imported: number }>(berth(['import', snapFile, '--json'], { cwd: dir, db: fresh }));
    assert.equal(imported.imported, snap.leases.length);
    const again = json<{ imported: number; unchanged: number }>(berth(['import', snapFile, '--json'], { cwd: dir, db: fresh }));
    assert.deepEqual([again.imported, again.unchanged], [0, snap.leases.length], 'importing twice is harmless');

    // A conflicting store: another scope holds one of the snapshot's ports.
    const other = path.join(dir, 'other.db');
    const taken = snap.leases[0]!;
    berth(['allocate', 'intruder', '--port', String(taken.port), '--scope', 'zzz', '--protocol', taken.protocol], { cwd: dir, db: other });
    const refused = berth(['import', snapFile], { cwd: dir, db: other });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, new RegExp(`port ${taken.port}/${taken.protocol}: snapshot gives it to ${taken.scope}/${taken.name}, the store to zzz/intruder`));
    assert.equal(json<Lease[]>(berth(['list', '--json'], { cwd: dir, db: other })).length, 1, 'nothing imported');
    // --replace makes the store exactly the snapshot.
    assert.equal(berth(['import', snapFile, '--replace'], { cwd: dir, db: other }).code, 0);
    const after = json<Lease[]>(berth(['list', '--json'], { cwd: dir, db: other }));
    assert.deepEqual(after.map((l) => `${l.scope}/${l.name}:${l.port}`).sort(), snap.leases.map((l) => `${l.scope}/${l.name}:${l.port}`).sort());
  });

  it('gc reclaims ephemeral leases of dead pids and scopes whose directory is gone', async () => {
    const gcDb = path.join(dir, 'gc.db');
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    // The owner must be alive when the lease is made; it dies afterwards.
    const doomedOwner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const live = berth(['allocate', 'alive', '--ephemeral', '--pid', String(sleeper.pid), '--range', '28001-28099', '--scope', 'eph'], { cwd: dir, db: gcDb });
      assert.equal(live.code, 0, live.stderr);
      assert.equal(berth(['allocate', 'gone', '--ephemeral', '--pid', String(doomedOwner.pid), '--range', '28001-28099', '--scope', 'eph'], { cwd: dir, db: gcDb }).code, 0);
      doomedOwner.kill('SIGKILL');
      await new Promise((r) => doomedOwner.on('exit', r));
      const proj = path.join(dir, 'doomed');
      fs.mkdirSync(proj);
      fs.writeFileSync(path.join(proj, 'berth.yaml'), 'services:\n  web: 28200\n');
      assert.equal(berth(['allocate'], { cwd: proj, db: gcDb }).code, 0);
      fs.rmSync(proj, { recursive: true });

      const dry = json<{ deadLeases: Lease[]; goneScopes: { scope: string }[] }>(berth(['gc', '--dry-run', '--json'], { cwd: dir, db: gcDb }));
      assert.deepEqual(dry.deadLeases.map((l) => l.name), ['gone']);
      assert.deepEqual(dry.goneScopes.map((s) => s.scope), ['doomed']);
      assert.equal(json<Lease[]>(berth(['list', '--json'], { cwd: dir, db: gcDb })).length, 3, 'dry run changes nothing');

      const text = berth(['gc'], { cwd: dir, db: gcDb });
      assert.match(text.stdout, /released scope doomed/);
      assert.match(text.stdout, /released 1 ephemeral lease/);
      assert.deepEqual(json<Lease[]>(berth(['list', '--json'], { cwd: dir, db: gcDb })).map((l) => l.name), ['alive']);
    } finally {
      sleeper.kill('SIGKILL');
      doomedOwner.kill('SIGKILL');
    }
  });

  it('reset --yes forgets everything', () => {
    const resetDb = path.join(dir, 'reset.db');
    berth(['allocate', 'a', '--scope', 's', '--range', '28300-28399'], { cwd: dir, db: resetDb });
    assert.equal(berth(['reset', '--yes'], { cwd: dir, db: resetDb }).code, 0);
    assert.equal(berth(['list'], { cwd: dir, db: resetDb }).stdout, 'no leases\n');
  });

  it('--help lists every command', () => {
    const help = berth(['--help'], { cwd: dir, db });
    assert.equal(help.code, 0);
    for (const cmd of ['allocate', 'get', 'release', 'list', 'reserve', 'pools', 'reassign', 'export', 'import', 'gc', 'reset']) assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
  });
});
