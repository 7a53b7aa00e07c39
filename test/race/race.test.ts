/**
 * Real concurrent processes on one store file: the race the popular tools lose, and a
 * crash in the middle of a burst.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers/cli.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');
/** Below the kernel's default ephemeral range, so leases and bind probes are real. */
const RANGE = '21000-23999';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startWorker(db: string, scope: string, count: number, perCall: number, cwd: string) {
  const child = spawn(process.execPath, [WORKER, db, scope, String(count), String(perCall), RANGE], { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, progress: () => stdout.split('\n').filter((l) => l.startsWith('ok ')).length };
}

describe('concurrent processes on one store', () => {
  it('8 processes x 100 allocations: zero duplicate ports, zero errors, every lease readable', async () => {
    const { dir, cleanup } = tempDir();
    const workers: ReturnType<typeof startWorker>[] = [];
    try {
      const db = path.join(dir, 'race.db');
      for (let w = 0; w < 8; w++) workers.push(startWorker(db, `ws-${w}`, 100, 1, dir));
      const runs = await Promise.all(workers.map((w) => w.done));
      runs.forEach((r, i) => {
        assert.equal(r.stderr, '', `worker ${i} reported errors`);
        assert.equal(r.code, 0, `worker ${i} exit code`);
      });
      const store = openSqliteStore(db);
      try {
        const leases = await store.transaction('read', (tx) => tx.listLeases());
        assert.equal(leases.length, 800);
        assert.equal(new Set(leases.map((l) => l.port)).size, 800, 'no port handed out twice');
        for (let w = 0; w < 8; w++) assert.equal(leases.filter((l) => l.scope === `ws-${w}`).length, 100);
        for (const l of leases) assert.ok(l.port >= 21000 && l.port <= 23999 && l.protocol === 'tcp' && l.createdAt);
      } finally {
        await store.close();
      }
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      cleanup();
    }
  });

  it('a process SIGKILLed in a burst leaves an intact store with no half-written allocation', async () => {
    const { dir, cleanup } = tempDir();
    const db = path.join(dir, 'crash.db');
    // Three names per call: each call is all-or-none, so a kill must never leave 1 or 2.
    const victim = startWorker(db, 'victim', 5000, 3, dir);
    const bystander = startWorker(db, 'bystander', 200, 1, dir);
    try {
      const deadline = Date.now() + 30_000;
      while (victim.progress() < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(victim.progress() >= 40, 'the victim made progress before the kill');
      victim.child.kill('SIGKILL');
      const killed = await victim.done;
      assert.equal(killed.signal, 'SIGKILL');
      const other = await bystander.done;
      assert.equal(other.code, 0, `the other process carried on: ${other.stderr}`);

      const raw = new Database(db);
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
      raw.close();
      const store = openSqliteStore(db);
      try {
        const leases = await store.transaction('read', (tx) => tx.listLeases({ scope: 'victim' }));
        const calls = new Map<string, number>();
        for (const l of leases) {
          assert.ok(l.port >= 21000 && l.port <= 23999 && l.createdAt && l.updatedAt, 'every field written');
          const call = l.name.split('-')[0]!;
          calls.set(call, (calls.get(call) ?? 0) + 1);
        }
        for (const [call, n] of calls) assert.equal(n, 3, `allocation ${call} is complete`);
        assert.ok(calls.size >= 40);
        assert.equal((await store.transaction('read', (tx) => tx.listLeases({ scope: 'bystander' }))).length, 200);
        const all = await store.transaction('read', (tx) => tx.listLeases());
        assert.equal(new Set(all.map((l) => l.port)).size, all.length, 'no duplicates');
      } finally {
        await store.close();
      }
    } finally {
      victim.child.kill('SIGKILL');
      bystander.child.kill('SIGKILL');
      cleanup();
    }
  });
});
