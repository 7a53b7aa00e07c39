/**
 * `berth history` through the built CLI: every kind of write is recorded with its actor,
 * a released lease stays answerable by its port, and the filters narrow as they say.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RegistryEvent } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const res = berth(args, { cwd: dir, db, env });
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};
const history = (args: string[] = []) => json<RegistryEvent[]>(run(['history', '--json', '--limit', '1000', ...args]));

describe('berth history', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      ['project: hist', 'base: 27600', 'pools:', '  agents:', '    ports: { backend: 27650, frontend: 27660 }', '    slots: 2', ''].join('\n'),
    );
  });
  after(() => cleanup());

  it('records every kind of write with its action, change and actor', () => {
    run(['allocate', 'web', 'api']);
    run(['reassign', 'web', '27620']);
    run(['release', 'api']);
    run(['reserve', '--scope', 'agent-1']);
    run(['release', '--scope', 'agent-1']);
    const snapshot = path.join(dir, 'snap.json');
    run(['export', '-o', snapshot, '--scope', 'hist']);
    run(['reset', '--yes']);
    run(['import', snapshot]);

    const events = history();
    const kinds = new Set(events.map((e) => `${e.action}/${e.change}`));
    for (const kind of ['allocate/created', 'reassign/moved', 'release/deleted', 'reserve/created', 'reset/deleted', 'import/created']) {
      assert.ok(kinds.has(kind), `history has ${kind}: ${[...kinds].join(', ')}`);
    }
    const moved = events.find((e) => e.action === 'reassign')!;
    assert.equal(moved.oldPort, 27600);
    assert.equal(moved.port, 27620);
    assert.equal(moved.scope, 'hist');
    assert.equal(moved.name, 'web');
    // The actor is the berth process that made the change: a pid, a user, its command line.
    assert.ok(Number.isInteger(moved.actor.pid) && moved.actor.pid > 0);
    assert.notEqual(moved.actor.pid, process.pid);
    assert.match(moved.actor.command ?? '', /reassign web 27620/);
    assert.ok(events.some((e) => e.pool === 'agents' && e.slot === 0 && e.name === 'backend' && e.action === 'reserve'));
    // Newest first, ids increasing with time.
    const ids = events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  });

  it('gc and an ephemeral hand-over are recorded too', async () => {
    const owner = berth(['run', 'job', '--ephemeral', '--scope', 'runner', '--', process.execPath, '-e', ''], { cwd: dir, db });
    assert.equal(owner.code, 0, owner.stderr);
    const runner = history(['job', '--scope', 'runner']);
    assert.ok(runner.some((e) => e.action === 'handover' && e.change === 'updated' && e.ownerPid !== null), JSON.stringify(runner));
    assert.ok(runner.some((e) => e.action === 'release' && e.change === 'deleted'));

    // An ephemeral lease whose owner then dies: gc collects it, and says so in the history.
    const owner2 = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      run(['allocate', 'orphan', '--ephemeral', '--pid', String(owner2.pid), '--scope', 'gc-me']);
    } finally {
      owner2.kill('SIGKILL');
      await once(owner2, 'exit');
    }
    run(['gc']);
    const collected = history(['orphan', '--scope', 'gc-me']);
    assert.deepEqual(collected.map((e) => `${e.action}/${e.change}`), ['gc/deleted', 'allocate/created']);
    assert.equal(collected[1]!.ownerPid, owner2.pid);
  });

  it('answers by port after the lease is gone, and --since / --scope / NAME narrow it', () => {
    run(['allocate', 'short', '--port', '27690', '--scope', 'brief']);
    run(['release', 'short', '--scope', 'brief']);
    assert.equal(berth(['get', 'short', '--scope', 'brief'], { cwd: dir, db }).code, 1);
    const byPort = history([':27690']);
    assert.deepEqual(byPort.map((e) => `${e.action}:${e.scope}/${e.name}`), ['release:brief/short', 'allocate:brief/short']);
    assert.deepEqual(history(['27690']).map((e) => e.id), byPort.map((e) => e.id));
    assert.deepEqual(history(['short', '--scope', 'brief']).map((e) => e.id), byPort.map((e) => e.id));
    assert.equal(history(['--scope', 'nobody-here']).length, 0);
    assert.ok(history(['--since', '1h']).length > 0);
    assert.equal(history(['--since', '2999-01-01']).length, 0);
    assert.equal(history(['--limit', '1']).length, 1);

    const text = run(['history', ':27690']).stdout;
    assert.match(text, /^TIME\s+ACTION\s+CHANGE\s+SCOPE\s+NAME\s+PORT/m);
    assert.match(text, /release\s+deleted\s+brief\s+short\s+27690\/tcp/);
  });

  it('bad input: exit 2 with a message, nothing written', () => {
    for (const args of [['history', '--since', 'yesterday-ish'], ['history', ':99999'], ['history', '--limit', '0']]) {
      const res = berth(args, { cwd: dir, db });
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /^berth: invalid/);
    }
  });

  it('is kept within BERTH_HISTORY_EVENTS; a retention that is not a number is bad input', () => {
    const own = path.join(dir, 'kept.db');
    const env = { BERTH_HISTORY_EVENTS: '2' };
    for (let i = 0; i < 6; i++) {
      const res = berth(['allocate', `k${i}`, '--scope', 'kept'], { cwd: dir, db: own, env });
      assert.equal(res.code, 0, res.stderr);
    }
    // Each process prunes on its first write, before recording its own change.
    const kept = json<RegistryEvent[]>(berth(['history', '--json'], { cwd: dir, db: own, env }));
    assert.ok(kept.length <= 3, `kept ${kept.length} events`);
    assert.equal(kept[0]!.name, 'k5');
    const bad = berth(['allocate', 'x', '--scope', 'kept'], { cwd: dir, db: own, env: { BERTH_HISTORY_DAYS: 'forever' } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /BERTH_HISTORY_DAYS/);
  });
});
