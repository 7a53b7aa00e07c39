import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Listener } from '../../src/types.js';
import { watchChildPorts, type PortWatchSources } from '../../src/workflows/port-watch.js';
import { lease } from '../helpers/fixtures.js';

const WAIT_LIMIT_MS = 10_000;

function listener(port: number, pid: number | null, extra: Partial<Listener> = {}): Listener {
  return { protocol: 'tcp', address: '127.0.0.1', port, pid, process: pid === null ? null : `p${pid}`, command: null, user: null, container: null, ...extra };
}

/** A fake OS: pid 100 is the child, 101 its child, 200 a stranger. */
function sources(listeners: Listener[], polls: { count: number }): PortWatchSources {
  const parents = new Map([[100, 1], [101, 100], [200, 1]]);
  return {
    listListeners: async () => {
      polls.count += 1;
      return listeners;
    },
    parentOf: (pid) => parents.get(pid) ?? null,
  };
}

async function watch(listeners: Listener[], polls = 2): Promise<string[]> {
  const warnings: string[] = [];
  const seen = { count: 0 };
  const stop = watchChildPorts({
    pid: 100,
    command: 'node',
    leases: [lease('web', 3000)],
    scopeLeases: [lease('web', 3000), lease('db', 5432)],
    warn: (m) => warnings.push(m),
    delaysMs: Array.from({ length: polls }, () => 1),
    sources: sources(listeners, seen),
  });
  try {
    for (let waited = 0; seen.count < polls; waited += 5) {
      if (waited > WAIT_LIMIT_MS) throw new Error('the watcher did not poll');
      await sleep(5);
    }
    await sleep(5);
  } finally {
    stop();
  }
  return warnings;
}

test('no warning when the child (or its descendant) listens on its lease or another lease of the scope', async () => {
  assert.deepEqual(await watch([listener(3000, 101), listener(5432, 100), listener(9999, 200)]), []);
});

test('a child listening on a port that is not a lease is reported once', async () => {
  const warnings = await watch([listener(3000, 100), listener(41234, 101)], 3);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /node \(pid 101\) listens on tcp port 41234, which is not one of its leases \(web=3000\)/);
});

test('a lease port held by another process is reported; unattributable sockets are not', async () => {
  const warnings = await watch([listener(3000, 200)]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /port 3000 \(lease web\) is held by pid 200 \(p200\), not by node/);
  assert.deepEqual(await watch([listener(3000, null)]), []);
  assert.deepEqual(await watch([listener(3000, 300, { process: 'docker-proxy' })]), []);
});

test('an OS error ends the check quietly', async () => {
  const warnings: string[] = [];
  let calls = 0;
  const stop = watchChildPorts({
    pid: 100,
    command: 'node',
    leases: [lease('web', 3000)],
    scopeLeases: [],
    warn: (m) => warnings.push(m),
    delaysMs: [1, 1, 1],
    sources: {
      listListeners: async () => {
        calls += 1;
        throw new Error('no /proc');
      },
      parentOf: () => null,
    },
  });
  try {
    for (let waited = 0; calls < 1; waited += 5) {
      if (waited > WAIT_LIMIT_MS) throw new Error('the watcher did not poll');
      await sleep(5);
    }
    await sleep(20);
    assert.equal(calls, 1);
    assert.deepEqual(warnings, []);
  } finally {
    stop();
  }
});
