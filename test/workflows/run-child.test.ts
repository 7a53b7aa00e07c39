import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../src/errors.js';
import { runChild } from '../../src/workflows/run-child.js';

/** Upper bound for anything a test waits on; generous, never asserted. */
const WAIT_LIMIT_MS = 20_000;
const POLL_MS = 20;
const RUN_CHILD_URL = new URL('../../src/workflows/run-child.js', import.meta.url).href;
const NODE = process.execPath;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'berth-run-'));
}

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: nothing to clean up.
  }
}

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += POLL_MS) {
    if (waited > WAIT_LIMIT_MS) throw new Error(`gave up waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not exit')), WAIT_LIMIT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test('runChild reports the exit code and the pid it gave onSpawn', async () => {
  let spawned: number | undefined;
  const outcome = await runChild(NODE, ['-e', 'process.exit(3)'], process.env, { onSpawn: (pid) => void (spawned = pid) });
  assert.equal(outcome.code, 3);
  assert.equal(outcome.signal, null);
  assert.equal(outcome.exitCode, 3);
  assert.equal(outcome.pid, spawned);
});

test('runChild: a child killed by SIGKILL gives 128 + 9', async () => {
  const outcome = await runChild(NODE, ['-e', "process.kill(process.pid, 'SIGKILL')"], process.env);
  assert.deepEqual([outcome.code, outcome.signal, outcome.exitCode], [null, 'SIGKILL', 137]);
});

test('runChild passes exactly the given environment and arguments, unsplit', async () => {
  const script = "process.exit(process.env.BERTH_X === 'a b $c' && process.env.HOME === undefined && process.argv[1] === '1 2 \"3\"' ? 0 : 1)";
  const outcome = await runChild(NODE, ['-e', script, '1 2 "3"'], { BERTH_X: 'a b $c', PATH: process.env['PATH'] });
  assert.equal(outcome.exitCode, 0);
});

test('runChild: a missing command or directory is a UsageError; signal handlers are always removed', async () => {
  const before = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
  await assert.rejects(
    runChild('berth-no-such-command-9f3a', [], process.env),
    (e: unknown) => e instanceof UsageError && /command not found: berth-no-such-command-9f3a/.test(e.message) && e.details?.['shellStatus'] === 127,
  );
  await assert.rejects(runChild(NODE, ['-e', ''], process.env, { cwd: '/no/such/dir/berth' }), (e: unknown) => e instanceof UsageError && /directory not found/.test(e.message));
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'script'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    await assert.rejects(runChild(join(dir, 'script'), [], process.env), (e: unknown) => e instanceof UsageError && e.details?.['shellStatus'] === 126);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await runChild(NODE, ['-e', ''], process.env);
  assert.deepEqual(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s)), before);
});

test('runChild: when onSpawn fails the child is stopped and the error comes back', async () => {
  let pid: number | undefined;
  try {
    await assert.rejects(
      runChild(NODE, ['-e', 'setInterval(() => {}, 1000)'], process.env, {
        onSpawn: async (p) => {
          pid = p;
          throw new Error('store is down');
        },
      }),
      /store is down/,
    );
  } finally {
    killQuietly(pid);
  }
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} sent to a process inside runChild reaches the child`, async () => {
    const dir = tempDir();
    const marker = join(dir, 'marker');
    const ready = join(dir, 'ready');
    const wrapper = join(dir, 'wrapper.mjs');
    const child = [
      "const fs = require('node:fs');",
      `process.on(${JSON.stringify(signal)}, (s) => { fs.writeFileSync(process.env.MARKER, s); process.exit(7); });`,
      'fs.writeFileSync(process.env.READY, String(process.pid));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    writeFileSync(
      wrapper,
      [
        `import { runChild } from ${JSON.stringify(RUN_CHILD_URL)};`,
        `const outcome = await runChild(process.execPath, ['-e', ${JSON.stringify(child)}], process.env);`,
        "const listeners = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));",
        'process.stdout.write(JSON.stringify({ ...outcome, listeners }));',
        'process.exitCode = outcome.exitCode;',
      ].join('\n'),
    );
    const parent = spawn(NODE, [wrapper], { env: { ...process.env, MARKER: marker, READY: ready }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = exitOf(parent);
    let childPid: number | undefined;
    try {
      await waitFor('the child to be ready', () => existsSync(ready) && readFileSync(ready, 'utf8') !== '');
      childPid = Number(readFileSync(ready, 'utf8'));
      parent.kill(signal);
      assert.equal(await exited, 7, 'the parent exits with the child status');
      assert.equal(readFileSync(marker, 'utf8'), signal);
      const report = JSON.parse(out) as { exitCode: number; code: number; pid: number; listeners: number[] };
      assert.deepEqual([report.code, report.exitCode, report.pid], [7, 7, childPid]);
      assert.deepEqual(report.listeners, [0, 0, 0], 'forwarding handlers are removed afterwards');
    } finally {
      killQuietly(childPid);
      killQuietly(parent.pid);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
