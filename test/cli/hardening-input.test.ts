/**
 * Hostile names and values through the built CLI (issue 9 items 2, 11, 12, 13): names that
 * read as ports, names that are Object.prototype members, terminal escapes in what berth
 * prints, an ephemeral lease for init, an absurdly large berth.yaml. Each is refused with
 * a message and exit 2, or handled as an ordinary value; nothing is printed raw.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, storeState, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

/** Any control character but newline: what must never reach a terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('hostile names and values', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  it('a lease name of digits alone is refused: kill and history read it as a port', () => {
    const before = storeState(db, dir);
    const res = berth(['allocate', '3000', '--scope', 'digits'], { cwd: dir, db });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /'3000'.*reads as a port.*svc-3000/);
    assert.equal(storeState(db, dir), before);
    const proj = path.join(dir, 'digits');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), 'services:\n  "8080":\n    purpose: x\n');
    const cfg = berth(['allocate'], { cwd: proj, db });
    assert.equal(cfg.code, 2, cfg.stderr);
    assert.match(cfg.stderr, /berth\.yaml: services\.8080: '8080' is digits alone/);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), 'pools:\n  p:\n    ports: { "5000": 27800 }\n');
    assert.match(berth(['reserve'], { cwd: proj, db }).stderr, /pools\.p\.ports\.5000: '5000' is digits alone/);
  });

  it('names that are Object.prototype members are ordinary names, in berth.yaml and on the command line', () => {
    const cli = json<Lease[]>(berth(['allocate', 'constructor', 'toString', 'hasOwnProperty', '--scope', 'proto', '--range', '27810-27819', '--json'], { cwd: dir, db }));
    assert.deepEqual(cli.map((l) => [l.name, l.port]), [['constructor', 27810], ['toString', 27811], ['hasOwnProperty', 27812]]);
    const proj = path.join(dir, 'proto-yaml');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), 'base: 27820\nservices:\n  constructor:\n  valueOf:\n    purpose: v\n  toString: 27829\n');
    const cfg = json<Lease[]>(berth(['allocate', '--json'], { cwd: proj, db }));
    assert.deepEqual(cfg.map((l) => [l.name, l.port, l.purpose]), [['constructor', 27820, null], ['valueOf', 27821, 'v'], ['toString', 27829, null]]);
    for (const category of ['__proto__', 'constructor', 'toString']) {
      const res = berth(['allocate', 'x', '--category', category, '--scope', 'proto'], { cwd: dir, db });
      assert.equal(res.code, 2, `${category}: ${res.stderr}`);
      assert.match(res.stderr, /unknown category/);
    }
  });

  it('terminal escapes in purposes and names never reach the terminal; --json keeps the exact value', () => {
    const purpose = '\u001b]0;pwned\u0007\u001b[2J\u009b31mred\r\nnext';
    assert.equal(berth(['allocate', 'web', '--purpose', purpose, '--scope', 'esc', '--range', '27830-27839'], { cwd: dir, db }).code, 0);
    for (const args of [['list', '--scope', 'esc'], ['status', '--scope', 'esc'], ['history', '--scope', 'esc'], ['allocate', 'web', '--scope', 'esc']]) {
      const out = berth(args, { cwd: dir, db });
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stdout, CONTROL, `${args[0]} printed a control character`);
      assert.doesNotMatch(out.stderr, CONTROL);
    }
    assert.match(berth(['list', '--scope', 'esc'], { cwd: dir, db }).stdout, /\?\]0;pwned\?\?\[2J\?31mred next/);
    const [lease] = json<Lease[]>(berth(['list', '--scope', 'esc', '--json'], { cwd: dir, db }));
    assert.equal(lease!.purpose, purpose);
    // An error message naming hostile input prints it tamed too.
    const bad = berth(['get', 'x\u001b[2Jy', '--scope', 'esc'], { cwd: dir, db });
    assert.equal(bad.code, 2);
    assert.doesNotMatch(bad.stderr, CONTROL);
  });

  it('an ephemeral lease for pid 1 is refused: init never exits, the lease would never be reclaimed', () => {
    const res = berth(['allocate', 'x', '--ephemeral', '--pid', '1', '--scope', 'init'], { cwd: dir, db });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /pid 1 \(init\) never exits/);
  });

  it('a berth.yaml with 50,000 services is refused at once with the limit, not parsed for minutes', () => {
    const proj = path.join(dir, 'huge');
    fs.mkdirSync(proj);
    const lines = ['services:'];
    for (let i = 0; i < 50_000; i++) lines.push(`  s${i}:`);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), `${lines.join('\n')}\n`);
    const res = berth(['allocate'], { cwd: proj, db, timeoutMs: 60_000 });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /services: 50000 entries; berth reads at most 2000/);
  });
});
