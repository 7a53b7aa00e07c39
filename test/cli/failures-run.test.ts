/**
 * `berth run` of a command that cannot run: an empty command is bad input (exit 2) before
 * any lease is made; a command that cannot start releases the leases the run created for
 * it, and keeps the ones that were there before. Never `unexpected error` or a stack trace.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, storeState, tempDir, type CliResult } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

/** Asserts bad input: exit 2, the message, no stack trace. */
function assertBadInput(res: CliResult, message: RegExp, what: string): void {
  assert.equal(res.code, 2, `${what} -> ${res.code}\n${res.stderr}`);
  assert.match(res.stderr, message, what);
  assert.doesNotMatch(res.stderr, /unexpected error|\n\s+at /, `${what}: no stack trace`);
}

/** The names of scope `scope`'s leases. */
function names(scope: string): string[] {
  return json<{ name: string }[]>(berth(['list', '--scope', scope, '--json'], { cwd: dir, db }))
    .map((l) => l.name)
    .sort();
}

describe('berth run: a command that cannot run', () => {
  before(() => {
    ({ dir, cleanup } = tempDir('berth-run-failures-'));
    db = path.join(dir, 'berth.db');
    assert.equal(berth(['allocate', 'kept', '--scope', 'runs'], { cwd: dir, db }).code, 0);
  });
  after(() => cleanup());

  it("an empty command (`berth run -- ''`) is bad input, and no lease is made", () => {
    const state = storeState(db, dir);
    assertBadInput(berth(['run', '--scope', 'runs', '--', ''], { cwd: dir, db }), /command to run is empty.*berth run \[NAME\.\.\.\] -- CMD/, "run -- ''");
    assertBadInput(berth(['run', 'web', '--scope', 'runs', '--', '  '], { cwd: dir, db }), /command to run is empty/, "run web -- '  '");
    assertBadInput(berth(['run', 'web', '--scope', 'runs', '--json', '--', ''], { cwd: dir, db }), /command to run is empty/, "run web --json -- ''");
    assert.equal(storeState(db, dir), state, 'nothing was allocated');
  });

  it('a command that is not found releases the lease the run created, and keeps the one that was there', () => {
    const res = berth(['run', 'web', 'kept', '--scope', 'runs', '--', path.join(dir, 'no-such-command')], { cwd: dir, db });
    assertBadInput(res, /command not found: .*no-such-command/, 'run web kept -- no-such-command');
    assert.deepEqual(names('runs'), ['kept'], 'web, made for the run, is released; kept stays');
    const history = json<{ name: string; change: string }[]>(berth(['history', '--scope', 'runs', '--json'], { cwd: dir, db }));
    assert.deepEqual(
      history.filter((e) => e.name === 'web').map((e) => e.change),
      ['deleted', 'created'],
      'the history shows the lease made and released',
    );
  });

  it('a file that is not executable releases the lease too (sticky or ephemeral)', () => {
    const script = path.join(dir, 'not-executable.sh');
    fs.writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    assertBadInput(berth(['run', 'api', '--scope', 'runs', '--', script], { cwd: dir, db }), /not executable: /, 'run api -- not-executable');
    assertBadInput(berth(['run', 'api', '--ephemeral', '--scope', 'runs', '--', script], { cwd: dir, db }), /not executable: /, 'run api --ephemeral');
    assert.deepEqual(names('runs'), ['kept']);
  });

  it('a command that starts and fails keeps its sticky lease (only a start failure releases)', () => {
    const res = berth(['run', 'worker', '--scope', 'runs', '--', process.execPath, '-e', 'process.exit(3)'], { cwd: dir, db });
    assert.equal(res.code, 3, res.stderr);
    assert.deepEqual(names('runs'), ['kept', 'worker']);
  });
});
