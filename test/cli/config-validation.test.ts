/**
 * Config files berth refuses through the built CLI: pools whose slots share ports or run
 * past 65535, and YAML that does not parse (berth.yaml and compose files). Each is exit 2
 * with one line naming the file and the key, and leaves the store unchanged.
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

/** A fresh project directory named after `title` holding `files`. */
function project(title: string, files: Record<string, string>): string {
  const p = path.join(dir, title.replace(/\W+/g, '-'));
  fs.mkdirSync(p, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(p, name), text);
  return p;
}

/** Runs `args` in `cwd`: exit 2, one line on stderr matching `message`, store unchanged. */
function expectConfigError(args: string[], cwd: string, message: RegExp): void {
  const res = berth(args, { cwd, db });
  assert.equal(res.code, 2, `berth ${args.join(' ')} -> ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, message);
  assert.equal(res.stderr.trimEnd().split('\n').length, 1, `one line:\n${res.stderr}`);
  assert.equal(res.stdout, '', 'nothing on stdout');
  assert.equal(storeState(), snapshotBefore, 'the store is unchanged');
}

describe('config validation', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    assert.equal(berth(['allocate', 'web', '--port', '27150', '--scope', 'keep'], { cwd: dir, db }).code, 0);
    snapshotBefore = storeState();
  });
  after(() => cleanup());

  describe('pools whose slots share a port or pass 65535', () => {
    const cases: [string, string, RegExp][] = [
      [
        'a set repeating a port',
        'pools:\n  p:\n    sets:\n      - {a: 5100, b: 5100}\n      - {a: 5101, b: 5102}\n',
        /berth\.yaml: pools\.p\.sets\[0\]\.b: port 5100 is also role a's in this set: each role of a slot needs its own port\./,
      ],
      [
        'two sets sharing a port',
        'pools:\n  p:\n    sets:\n      - {a: 5100, b: 5101}\n      - {a: 5102, b: 5103}\n      - {a: 5104, b: 5101}\n',
        /berth\.yaml: pools\.p\.sets\[2\]\.b: port 5101 is already pools\.p\.sets\[0\]\.b, so slots 0 and 2 could never be held at once/,
      ],
      [
        'series roles with equal bases',
        'pools:\n  p:\n    ports: {a: 5000, b: 5002, c: 5002}\n',
        /berth\.yaml: pools\.p\.ports\.c: base port 5002 is also role b's: every slot would give b and c the same port/,
      ],
      [
        'bounded series whose roles overlap across slots',
        'pools:\n  p:\n    ports: {a: 5000, b: 5002}\n    step: 1\n    slots: 5\n',
        /berth\.yaml: pools\.p\.ports: slot 0's b and slot 2's a are both port 5002, so slots 0 and 2 could never be held at once\. .*at least slots × step = 5 apart, or lower slots: to 2\./,
      ],
      [
        'overlap across slots with a step',
        'pools:\n  p:\n    ports: {web: 8006, api: 8000}\n    step: 2\n    slots: 4\n',
        /pools\.p\.ports: slot 0's web and slot 3's api are both port 8006/,
      ],
      [
        'bounded series past 65535',
        'pools:\n  p:\n    ports: {a: 65000, b: 65500}\n    step: 10\n    slots: 5\n',
        /berth\.yaml: pools\.p\.slots: 5 slots need ports up to 65540 \(b: 65500 \+ 4 × 10\), above 65535; only 4 slots fit\./,
      ],
    ];
    for (const [title, yaml, message] of cases) {
      it(title, () => {
        const p = project(title, { 'berth.yaml': yaml });
        expectConfigError(['allocate', 'x'], p, message);
        expectConfigError(['reserve'], p, message);
      });
    }

    const fine: [string, string][] = [
      ['overlap only past the last slot', 'pools:\n  p:\n    ports: {a: 5000, b: 5002}\n    step: 1\n    slots: 2\n'],
      ['bases apart by no multiple of the step', 'pools:\n  p:\n    ports: {a: 5000, b: 5003}\n    step: 2\n    slots: 10\n'],
      ['last slot exactly at 65535', 'pools:\n  p:\n    ports: {a: 65520, b: 65530}\n    step: 1\n    slots: 6\n'],
      ['open-ended series (slots past an overlap are skipped, not configured)', 'pools:\n  p:\n    ports: {a: 5000, b: 5002}\n'],
      ['sets with distinct ports', 'pools:\n  p:\n    sets:\n      - {a: 5100, b: 5101}\n      - {a: 5102, b: 5103}\n'],
    ];
    for (const [title, yaml] of fine) {
      it(`accepted: ${title}`, () => {
        const res = berth(['pools', '--json'], { cwd: project(title, { 'berth.yaml': yaml }), db });
        assert.equal(res.code, 0, res.stderr);
      });
    }
  });

  describe('YAML that does not parse: one line, no code frame', () => {
    /** `FILE: not valid YAML at line L, column C: REASON. Fix the file and try again.` */
    const oneLine = (file: string, where: string, reason: string) =>
      new RegExp(`^berth: \\S*${file.replace('.', '\\.')}: not valid YAML${where}: ${reason}(?:[^\\n]*[^.:\\s])?\\. Fix the file and try again\\.\\n$`);

    it('berth.yaml: the reason ends in one full stop, not "column 1:."', () => {
      const p = project('bad berth yaml', { 'berth.yaml': 'services: [unclosed\n' });
      expectConfigError(['allocate', 'x'], p, oneLine('berth.yaml', ' at line 2, column 1', 'Flow sequence'));
      const res = berth(['allocate', 'x'], { cwd: p, db });
      assert.doesNotMatch(res.stderr, /column \d+:\./);
    });

    it('berth.yaml: a duplicate key names its line and column', () => {
      const p = project('dup key', { 'berth.yaml': 'services:\n  web: 1\n  web: 2\n' });
      expectConfigError(['allocate', 'x'], p, oneLine('berth.yaml', ' at line 3, column 3', 'Map keys must be unique'));
    });

    it('berth.yaml: an alias with no anchor is a config error, not a crash', () => {
      const p = project('alias', { 'berth.yaml': 'services:\n  web: *nope\n' });
      expectConfigError(['allocate', 'x'], p, oneLine('berth.yaml', '', 'Unresolved alias'));
    });

    it('a compose file: the same one line', () => {
      const p = project('bad compose', { 'berth.yaml': 'services:\n  db: {}\n', 'compose.yaml': 'services:\n  db:\n    ports: [unclosed\n' });
      expectConfigError(['compose-override'], p, oneLine('compose.yaml', ' at line 4, column 1', 'Flow sequence'));
    });

    it('a compose file: an alias with no anchor', () => {
      const p = project('compose alias', { 'berth.yaml': 'services:\n  db: {}\n', 'compose.yaml': 'services:\n  db: *nope\n' });
      expectConfigError(['compose-override'], p, oneLine('compose.yaml', '', 'Unresolved alias'));
    });
  });
});
