/**
 * killProcesses never signals the wrong process: a pid whose recorded identity no longer
 * matches is reported gone and left alone, and a pid that no longer holds the port it
 * was chosen for is left alone. Real child processes; the identity is made stale by
 * recording a start time the process does not have, which is what a reused pid looks like.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { isAlive, killProcesses, NOT_HOLDING, processIdentity } from '../../src/os/index.js';
import { startNode, stopNode, TCP_LISTENER, type Helper } from './helpers.js';

const TEST_GRACE_MS = 500;
const SLEEPER = `console.log('ready'); setInterval(() => {}, 1 << 30);`;
/** Listens on loopback, prints the port, and closes the listener (staying alive) on SIGUSR2. */
const CLOSES_ON_USR2 = `
const server = require('node:net').createServer();
process.on('SIGUSR2', () => server.close(() => console.log('closed')));
setInterval(() => {}, 1 << 30);
server.listen({ host: '127.0.0.1', port: 0 }, () => console.log(server.address().port));
`;
const LINUX_ONLY = process.platform !== 'linux' && 'identities (pid + start time) are read from /proc';

/** The identity `pid` would have if it had started one clock tick earlier: another process on the same pid. */
function staleIdentity(pid: number): string {
  const identity = processIdentity(pid);
  assert.ok(identity !== null, `pid ${pid} has an identity`);
  const start = Number(identity.slice(identity.indexOf('@') + 1));
  return `${pid}@${start - 1}`;
}

test('a recorded identity that no longer matches: never signalled, reported gone', { skip: LINUX_ONLY }, async () => {
  let helper: Helper | undefined;
  try {
    helper = await startNode(SLEEPER);
    const expect = new Map([[helper.pid, staleIdentity(helper.pid)]]);
    const [result] = await killProcesses([helper.pid], { graceMs: TEST_GRACE_MS, expect });
    assert.deepEqual(result, { pid: helper.pid, name: null, command: null, signals: [], exited: true, error: null });
    assert.equal(isAlive(helper.pid), true, 'the process on the pid was not signalled');
    assert.equal(helper.child.signalCode, null);
  } finally {
    await stopNode(helper);
  }
});

test('a matching identity is killed as before; stale and current ones in one call each get their own result', { skip: LINUX_ONLY }, async () => {
  const helpers: Helper[] = [];
  try {
    helpers.push(await startNode(SLEEPER), await startNode(SLEEPER));
    const [meant, reused] = helpers as [Helper, Helper];
    const expect = new Map([
      [meant.pid, processIdentity(meant.pid)!],
      [reused.pid, staleIdentity(reused.pid)],
    ]);
    const results = await killProcesses([meant.pid, reused.pid], { graceMs: TEST_GRACE_MS, expect });
    assert.deepEqual(
      results.map((r) => [r.pid, r.signals, r.exited]),
      [
        [meant.pid, ['SIGTERM'], true],
        [reused.pid, [], true],
      ],
    );
    assert.equal(isAlive(reused.pid), true);
  } finally {
    for (const helper of helpers) await stopNode(helper);
  }
});

test('holding: a pid that closed its listener is not signalled; one that still listens is', { skip: process.platform !== 'linux' && 'lsof path untested here' }, async () => {
  const helpers: Helper[] = [];
  try {
    const closer = await startNode(CLOSES_ON_USR2);
    helpers.push(closer);
    const port = Number(closer.firstLine);
    const closed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the helper did not close its listener within 10 s')), 10_000);
      closer.child.stdout!.on('data', (d: Buffer) => {
        if (!d.toString().includes('closed')) return;
        clearTimeout(timer);
        resolve();
      });
    });
    closer.child.kill('SIGUSR2');
    await closed;
    const keeper = await startNode(TCP_LISTENER, ['127.0.0.1', String(port)]);
    helpers.push(keeper);

    const results = await killProcesses([closer.pid, keeper.pid], { graceMs: TEST_GRACE_MS, holding: { port, protocol: 'tcp' } });
    assert.deepEqual(
      results.map((r) => [r.pid, r.signals, r.exited, r.error]),
      [
        [closer.pid, [], false, NOT_HOLDING],
        [keeper.pid, ['SIGTERM'], true, null],
      ],
    );
    assert.equal(isAlive(closer.pid), true, 'no longer a holder: left alone');
    // The exit may have been reported while killProcesses waited: once() would then wait forever.
    if (keeper.child.exitCode === null && keeper.child.signalCode === null) await once(keeper.child, 'exit');
  } finally {
    for (const helper of helpers) await stopNode(helper);
  }
});
