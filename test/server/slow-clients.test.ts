/**
 * An event-stream client that stops reading: the feed waits for it (backpressure) instead
 * of buffering every change for it, and when it reads again it gets them all, in order;
 * one whose backlog passes the limit anyway is cut off, and Last-Event-ID gives it every
 * change it missed, from the store.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { LocalEngine } from '../../src/core/local-engine.js';
import { localMachine } from '../../src/os/machine.js';
import { startDaemon } from '../../src/server/daemon.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

// Enough (~3 MB of events) to overflow the unix socket's own buffers (~200 kB each way) as well as the limit.
const CHANGES = 15_000;
// Above one page of a catching-up stream (1,000 events, ~200 kB), which a reading client takes between pages.
const LIMIT_BYTES = 1024 * 1024;

/** A daemon in this process over a SQLite file of its own, as the contract tests run it. */
async function inProcessDaemon(prefix: string, maxUnreadBytes?: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const state = path.join(dir, '.state');
  const file = path.join(state, 'berth.db');
  fs.mkdirSync(state, { mode: 0o700 });
  const engine = new LocalEngine({ store: openSqliteStore(file), machine: localMachine, cwd: dir, env: {} });
  const daemon = await startDaemon({ env: { BERTH_STATE_DIR: state, BERTH_DB: file }, engine, port: 0, maxUnreadBytes });
  return { dir, engine, daemon };
}

/** Sends a GET of the event stream on the daemon's unix socket; the caller reads (or not). */
function rawStream(socketPath: string, token: string, lastEventId?: number): net.Socket {
  const socket = net.connect({ path: socketPath });
  socket.write(`GET /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n${lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`}\r\n`);
  return socket;
}

it('a client that stops reading holds the feed back, then gets every change; Last-Event-ID replays them all', async () => {
  const { dir, engine, daemon } = await inProcessDaemon('berth-sse-slow-', LIMIT_BYTES);
  const sockets: net.Socket[] = [];
  try {
    const first = await engine.events.lastId();
    const slow = rawStream(daemon.paths.socket, daemon.token);
    sockets.push(slow);
    slow.setEncoding('utf8');
    let seen = '';
    // Read up to the snapshot, so the stream is open before the changes; then stop reading.
    await new Promise<void>((resolve) => {
      const onData = (chunk: string): void => {
        seen += chunk;
        if (!seen.includes('event: snapshot')) return;
        slow.off('data', onData);
        slow.pause();
        resolve();
      };
      slow.on('data', onData);
    });
    for (let i = 0; i < CHANGES; i += 100) {
      await engine.leases.allocate({ scope: 'slow' }, Array.from({ length: 100 }, (_, k) => ({ name: `n${i + k}`, range: { start: 30000, end: 50000 } })));
    }
    // It reads again: every change comes, in order, none lost while it was paused.
    const changeIds = (): number[] => [...seen.matchAll(/^id: (\d+)\nevent: change$/gm)].map((m) => Number(m[1]));
    slow.on('data', (chunk: string) => (seen += chunk));
    slow.resume();
    for (let waited = 0; changeIds().length < CHANGES && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.equal(changeIds().length, CHANGES, 'the client that paused got every change once it read again');
    assert.ok(!slow.destroyed, 'a client held back by backpressure is not cut off');

    // Reconnect after the last id it had (here: before every change) and read to the end.
    const again = rawStream(daemon.paths.socket, daemon.token, first);
    sockets.push(again);
    let text = '';
    const ids = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${ids.size} of ${CHANGES} changes came back`)), 30_000);
      again.setEncoding('utf8');
      again.on('data', (chunk: string) => {
        text += chunk;
        for (const m of text.matchAll(/^id: (\d+)\nevent: change$/gm)) ids.add(Number(m[1]));
        text = text.slice(text.lastIndexOf('\n\n') + 1);
        if (ids.size >= CHANGES) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(ids.size, CHANGES);
    assert.ok(Math.min(...ids) > first);
  } finally {
    for (const s of sockets) s.destroy();
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('a stop does not wait for a client that never finishes its request', async () => {
  const { dir, daemon } = await inProcessDaemon('berth-slow-stop-');
  const socket = net.connect({ path: daemon.paths.socket });
  try {
    // A body announced as 100 bytes, of which 10 ever come.
    socket.write(`PUT /v1/leases/s/n HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${daemon.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"port": 1`);
    await new Promise((r) => setTimeout(r, 200));
    const stopped = await Promise.race([daemon.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref())]);
    assert.ok(stopped, 'the stop ended although a request was still in flight');
  } finally {
    socket.destroy();
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
