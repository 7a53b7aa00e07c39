/**
 * The uDOS seed (shared/seeds/003) as its users type it (issue 10 item 19): `check NAME`
 * becomes `berth status NAME` (port, purpose, state, holder, URL, conflicts; exit 1 and
 * "did you mean" for an unknown name), `available 9000` becomes `berth free 9000`, and a
 * holder with a very long command line does not push `who`'s other columns off screen.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;
let holder: ChildProcess | undefined;
const WIZARD = 29765;

describe('uDOS: status NAME, did you mean, free FROM, who with long commands', () => {
  before(async () => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `project: udos\nservices:\n  wizard:\n    port: ${WIZARD}\n    purpose: Wizard Server - Production always-on service\n  goblin:\n    port: ${WIZARD + 2}\n`);
    assert.equal(berth(['allocate'], { cwd: dir, db }).code, 0);
    // The wizard runs, with a command line far longer than a terminal is wide.
    const padding = 'x'.repeat(400);
    holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${WIZARD}, '127.0.0.1', () => console.log('up'))`, padding], { stdio: ['ignore', 'pipe', 'ignore'] });
    await once(holder.stdout!, 'data');
  });
  after(async () => {
    if (holder && holder.exitCode === null) {
      holder.kill();
      await once(holder, 'exit');
    }
    cleanup();
  });

  it('status NAME shows the service in detail; an unknown name exits 1 with a suggestion', () => {
    const res = berth(['status', 'wizard'], { cwd: dir, db });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^wizard: listening \(node \(pid \d+\)\)$/m);
    assert.match(res.stdout, new RegExp(`port: ${WIZARD}/tcp`));
    assert.match(res.stdout, /purpose: Wizard Server - Production always-on service/);
    assert.match(res.stdout, /conflicts: none/);
    const typo = berth(['status', 'wizrd'], { cwd: dir, db });
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /no lease 'wizrd' in scope udos\. Did you mean 'wizard'\?/);
    assert.match(berth(['get', 'gobln'], { cwd: dir, db }).stderr, /Did you mean 'goblin'\?/);
  });

  it('free 9000 means --from 9000', () => {
    const a = berth(['free', '29500', '--count', '3'], { cwd: dir, db });
    const b = berth(['free', '--from', '29500', '--count', '3'], { cwd: dir, db });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(berth(['free', '29500', '--from', '29600'], { cwd: dir, db }).code, 2);
  });

  it("who cuts a long command line so the table's other columns stay readable; --json keeps it whole", () => {
    const res = berth(['who', String(WIZARD)], { cwd: dir, db });
    assert.equal(res.code, 0, res.stderr);
    const row = res.stdout.split('\n').find((l) => /^\d+\s+node/.test(l))!;
    assert.ok(row.length < 200, `row of ${row.length} characters`);
    assert.match(row, /…x+$/);
    const full = JSON.parse(berth(['who', String(WIZARD), '--json'], { cwd: dir, db }).stdout) as { holders: { command: string }[] };
    assert.ok(full.holders[0]!.command.includes('x'.repeat(400)));
  });
});
