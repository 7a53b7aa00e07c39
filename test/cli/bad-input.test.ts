/**
 * Bad input of every kind: a clear message that says what to do, the documented exit
 * code, and no change to stored data.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir, storeState as sharedStoreState } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;
let snapshotBefore: string;

/** The store's leases and scopes, without the export time. */
function storeState(): string {
  return sharedStoreState(db, dir);
}

function expectFailure(args: string[], code: number, message: RegExp, cwd = dir): void {
  const res = berth(args, { cwd, db });
  assert.equal(res.code, code, `berth ${args.join(' ')} -> ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, message);
  assert.equal(res.stdout, '', 'nothing on stdout');
  assert.equal(storeState(), snapshotBefore, 'the store is unchanged');
}

describe('bad input', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), 'project: bad\npools:\n  p:\n    ports: { a: 27001 }\n');
    assert.equal(berth(['allocate', 'web', '--port', '27100'], { cwd: dir, db }).code, 0);
    snapshotBefore = storeState();
  });
  after(() => cleanup());

  for (const port of ['0', '65536', 'abc', '-1', '80.5']) {
    it(`port ${port} is refused with exit 2`, () => {
      expectFailure(['allocate', 'x', '--port', port], 2, /a port is a whole number from 1 to 65535/);
      expectFailure(['allocate', 'x', '--prefer', port], 2, /invalid --prefer/);
      expectFailure(['reassign', 'web', port], 2, /invalid port/);
    });
  }

  it('a range with start above end', () => {
    expectFailure(['allocate', 'x', '--range', '5000-4000'], 2, /start is above the end/);
    expectFailure(['allocate', 'x', '--range', 'lots'], 2, /START-END/);
  });

  it('unknown strategy, protocol, category and pool', () => {
    expectFailure(['allocate', 'x', '--strategy', 'random'], 2, /unknown strategy 'random'.*fixed, preferred/);
    expectFailure(['allocate', 'x', '--protocol', 'sctp'], 2, /use tcp or udp/);
    expectFailure(['allocate', 'x', '--category', 'nosuch'], 2, /unknown category 'nosuch'.*database/);
    expectFailure(['reserve', '--pool', 'nosuch'], 2, /unknown pool 'nosuch'.*Pools in .*berth.yaml: p/);
    expectFailure(['list', '--pool', 'nosuch'], 2, /unknown pool/);
  });

  it('invalid names and scopes', () => {
    expectFailure(['allocate', 'bad name'], 2, /invalid name 'bad name'/);
    expectFailure(['allocate', 'x', '--scope', 'has space'], 2, /invalid scope/);
  });

  it('unknown commands and options are usage errors', () => {
    expectFailure(['frobnicate'], 2, /unknown command/);
    expectFailure(['allocate', '--bogus'], 2, /unknown option/);
  });

  it('asking about what is absent exits 1', () => {
    expectFailure(['get', 'nothing'], 1, /no lease 'nothing' in scope bad.*berth allocate nothing/);
    expectFailure(['release', 'web', 'nothing'], 1, /no lease 'nothing'.*nothing was released/);
    expectFailure(['reassign', 'nothing', '27200'], 1, /no lease 'nothing'/);
  });

  it('reset refuses without --yes', () => {
    expectFailure(['reset'], 4, /--yes/);
  });

  it('--json errors are JSON on stderr with the same exit code', () => {
    const res = berth(['get', 'nothing', '--json'], { cwd: dir, db });
    assert.equal(res.code, 1);
    const err = JSON.parse(res.stderr) as { error: string; exitCode: number; message: string };
    assert.equal(err.error, 'not-found');
    assert.equal(err.exitCode, 1);
  });

  describe('malformed berth.yaml', () => {
    const cases: [string, string, RegExp][] = [
      ['not YAML', 'services: [unclosed\n', /berth\.yaml: not valid YAML at line \d+/],
      ['unknown top-level key', 'servces:\n  web: 1\n', /berth\.yaml: servces: unknown key\. Allowed here: project, base/],
      ['invalid service port', 'services:\n  web:\n    port: 70000\n', /berth\.yaml: services\.web\.port: invalid port 70000/],
      ['port given as text', 'services:\n  web:\n    port: abc\n', /services\.web\.port: invalid port "abc"/],
      ['reversed range', 'ranges:\n  db: 6000-5000\n', /ranges\.db: invalid range 6000-5000/],
      ['unknown service key', 'services:\n  web:\n    prot: 1\n', /services\.web\.prot: unknown key/],
      ['pool with both shapes', 'pools:\n  p:\n    ports: {a: 1}\n    sets: [{a: 2}]\n', /pools\.p: give either ports/],
      ['pool url naming no role', 'pools:\n  p:\n    ports: {a: 3000}\n    urls: ["http://x:${b}/"]\n', /pools\.p\.urls\[0\]: \$\{b\} names no role/],
      ['duplicate key', 'services:\n  web: 1\n  web: 2\n', /not valid YAML.*[Mm]ap keys must be unique/],
    ];
    for (const [title, yaml, message] of cases) {
      it(title, () => {
        const p = path.join(dir, title.replace(/\W+/g, '-'));
        fs.mkdirSync(p, { recursive: true });
        fs.writeFileSync(path.join(p, 'berth.yaml'), yaml);
        expectFailure(['allocate', 'x'], 2, message, p);
      });
    }

    it('a missing --config file', () => {
      expectFailure(['allocate', 'x', '--config', 'nope.yaml'], 2, /nope\.yaml: cannot read the config file \(ENOENT\)/);
    });
  });

  it('a store file that is not a database: exit 4, file untouched', () => {
    const bogus = path.join(dir, 'bogus.db');
    fs.writeFileSync(bogus, 'definitely not sqlite\n');
    const res = berth(['list'], { cwd: dir, db: bogus });
    assert.equal(res.code, 4);
    assert.match(res.stderr, /bogus\.db is not a berth database.*untouched.*--db PATH/);
    assert.equal(fs.readFileSync(bogus, 'utf8'), 'definitely not sqlite\n');
    assert.ok(!fs.existsSync(`${bogus}-wal`));
  });

  it('a snapshot that is not one: exit 2, store unchanged', () => {
    const file = path.join(dir, 'snap.json');
    fs.writeFileSync(file, '{"format":"something-else"}');
    expectFailure(['import', file], 2, /not a berth snapshot.*berth export/);
    fs.writeFileSync(file, '{not json');
    expectFailure(['import', file], 2, /not valid JSON/);
    expectFailure(['import', path.join(dir, 'missing.json')], 2, /cannot read/);
  });
});
