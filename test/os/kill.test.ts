import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { isAlive, killProcesses, killTree, processInfo } from '../../src/os/index.js';
import { osLayerAsNobody, startNode, stopNode, type Helper } from './helpers.js';

/** Short grace for tests: long enough for a node child to handle SIGTERM, short enough to keep tests quick. */
const TEST_GRACE_MS = 500;

const SLEEPER = `console.log('ready'); setInterval(() => {}, 1 << 30);`;
const STUBBORN = `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1 << 30);`;

test('a normal process exits on SIGTERM and is reported by name and command', async () => {
  let helper: Helper | undefined;
  try {
    helper = await startNode(SLEEPER, ['marker-sleeper']);
    const [result] = await killProcesses([helper.pid], { graceMs: TEST_GRACE_MS });
    assert.equal(result!.pid, helper.pid);
    assert.equal(result!.name, 'node');
    assert.ok(result!.command?.endsWith('marker-sleeper'), result!.command ?? 'no command');
    assert.deepEqual(result!.signals, ['SIGTERM']);
    assert.equal(result!.exited, true);
    assert.equal(result!.error, null);
    assert.equal(isAlive(helper.pid), false);
  } finally {
    await stopNode(helper);
  }
});

test('a process that ignores SIGTERM gets SIGKILL after the grace period and is reported exited', async () => {
  let helper: Helper | undefined;
  try {
    helper = await startNode(STUBBORN);
    const [result] = await killProcesses([helper.pid], { graceMs: TEST_GRACE_MS });
    assert.deepEqual(result!.signals, ['SIGTERM', 'SIGKILL']);
    assert.equal(result!.exited, true);
    assert.equal(result!.error, null);
  } finally {
    await stopNode(helper);
  }
});

test('several pids at once, one already gone: each gets its own honest result', async () => {
  const helpers: Helper[] = [];
  try {
    helpers.push(await startNode(SLEEPER), await startNode(STUBBORN), await startNode(SLEEPER));
    const gone = helpers[2]!;
    await stopNode(gone);
    const results = await killProcesses(
      helpers.map((h) => h.pid),
      { graceMs: TEST_GRACE_MS },
    );
    assert.deepEqual(
      results.map((r) => [r.pid, r.signals, r.exited]),
      [
        [helpers[0]!.pid, ['SIGTERM'], true],
        [helpers[1]!.pid, ['SIGTERM', 'SIGKILL'], true],
        [gone.pid, [], true],
      ],
    );
  } finally {
    for (const helper of helpers) await stopNode(helper);
  }
});

test('killTree kills a child and its grandchild', async () => {
  let helper: Helper | undefined;
  let grandchild: number | undefined;
  try {
    // The child spawns a grandchild that ignores SIGTERM, waits until the grandchild has
    // installed that handler, and prints the grandchild's pid.
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', "process.on('SIGTERM',()=>{}); console.log('ready'); setInterval(()=>{}, 1<<30)"], { stdio: ['ignore', 'pipe', 'ignore'] });
      g.stdout.once('data', () => console.log(g.pid));
      setInterval(() => {}, 1 << 30);`;
    helper = await startNode(script);
    grandchild = Number(helper.firstLine);
    assert.equal(processInfo(grandchild)?.ppid, helper.pid);
    const results = await killTree(helper.pid, { graceMs: TEST_GRACE_MS });
    assert.deepEqual(
      results.map((r) => r.pid),
      [helper.pid, grandchild],
    );
    assert.ok(results.every((r) => r.exited), JSON.stringify(results));
    assert.deepEqual(results[1]!.signals, ['SIGTERM', 'SIGKILL']);
    assert.equal(isAlive(grandchild), false);
  } finally {
    await stopNode(helper);
    if (grandchild !== undefined && isAlive(grandchild)) process.kill(grandchild, 'SIGKILL');
  }
});

test("another user's process: alive (EPERM), and a kill is refused with the reason, not escalated", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root, to run the kill as nobody against a root-owned process');
    return;
  }
  let helper: Helper | undefined;
  try {
    helper = await startNode(SLEEPER);
    const stdout = await osLayerAsNobody(`{
      alive: os.isAlive(${helper.pid}),
      results: await os.killProcesses([${helper.pid}], { graceMs: 100 }),
    }`);
    const seen = JSON.parse(stdout) as { alive: boolean; results: unknown[] };
    assert.equal(seen.alive, true);
    assert.deepEqual(seen.results, [
      { pid: helper.pid, name: 'node', command: `${process.execPath} -e ${SLEEPER}`, signals: [], exited: false, error: 'EPERM' },
    ]);
    assert.equal(isAlive(helper.pid), true, 'still running');
  } finally {
    await stopNode(helper);
  }
});

test('processInfo and isAlive describe this very process', () => {
  const me = processInfo(process.pid);
  assert.equal(me?.pid, process.pid);
  assert.equal(me?.ppid, process.ppid);
  assert.equal(me?.name, 'node');
  assert.equal(me?.uid, process.geteuid?.());
  assert.ok(me?.command?.includes('node'));
  assert.equal(isAlive(process.pid), true);
  assert.equal(isAlive(0), false);
  assert.equal(isAlive(-1), false);
  assert.equal(processInfo(2 ** 22 + 1), null, 'beyond pid_max');
});

test('invalid pids are usage errors', async () => {
  await assert.rejects(killProcesses([0]), UsageError);
  await assert.rejects(killProcesses([1.5]), UsageError);
  await assert.rejects(killTree(-3), UsageError);
});
