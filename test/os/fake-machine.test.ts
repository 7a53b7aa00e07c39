import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_GRACE_MS } from '../../src/os/kill.js';
import { localMachine } from '../../src/os/machine.js';
import { NOT_HOLDING } from '../../src/os/types.js';
import { FakeMachine } from '../helpers/fake-machine.js';

// Pids above Linux's largest pid_max (2^22), so none of them could name a real process.
const WEB = 9_000_001;
const API = 9_000_002;
const STUBBORN = 9_000_003;

test('listeners: filtered by port and protocol, sorted by protocol, port, address, pid', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB, name: 'web', command: 'node web.js', user: 'dev' });
  m.addProcess({ pid: API, name: 'api' });
  m.addListener({ port: 3000, pid: WEB, address: '::' });
  m.addListener({ port: 3000, pid: API, address: '0.0.0.0' });
  m.addListener({ port: 300, pid: API, protocol: 'udp' });
  m.addListener({ port: 30000 });

  const all = await m.listeners();
  assert.deepEqual(
    all.map((l) => `${l.protocol}/${l.port} ${l.address} ${l.pid}`),
    ['tcp/3000 0.0.0.0 9000002', 'tcp/3000 :: 9000001', 'tcp/30000 127.0.0.1 null', 'udp/300 127.0.0.1 9000002'],
  );
  // An exact port: 3000 never matches 300 or 30000.
  assert.deepEqual((await m.listeners({ port: 3000 })).map((l) => l.pid), [API, WEB]);
  assert.deepEqual((await m.listeners({ protocol: 'udp' })).map((l) => l.port), [300]);
  const web = (await m.listeners({ port: 3000, protocol: 'tcp', everyHolder: true })).find((l) => l.pid === WEB);
  assert.deepEqual(web, { protocol: 'tcp', address: '::', port: 3000, pid: WEB, process: 'web', command: 'node web.js', user: 'dev', container: null });
  await assert.rejects(m.listeners({ port: 70000 }), UsageError);
  assert.throws(() => m.addListener({ port: 1234, pid: 9_999_999 }), /addProcess/);
  assert.equal(m.removeListener(3000, 'tcp', WEB), 1);
  assert.deepEqual((await m.listeners({ port: 3000 })).map((l) => l.pid), [API]);
});

test('processes: info, liveness, and an identity that changes when a pid is reused', () => {
  const m = new FakeMachine();
  assert.equal(m.isAlive(WEB), false);
  assert.equal(m.processInfo(WEB), null);
  assert.equal(m.processIdentity(WEB), null);
  const info = m.addProcess({ pid: WEB, ppid: 42, name: 'web', command: 'node web.js' });
  assert.deepEqual(m.processInfo(WEB), info);
  assert.equal(info.uid, 1000);
  assert.equal(m.isAlive(WEB), true);
  const first = m.processIdentity(WEB);
  assert.match(first ?? '', /^9000001@\d+$/);
  assert.equal(m.processIdentity(WEB), first);
  m.addProcess({ pid: WEB, name: 'someone-else' });
  assert.notEqual(m.processIdentity(WEB), first);
  m.exit(WEB);
  assert.equal(m.isAlive(WEB), false);
  assert.throws(() => m.addProcess({ pid: 0 }), UsageError);
});

test('a pid that is reused loses the old process’s listeners; a process that exits frees its ports', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB });
  m.addListener({ port: 3000, pid: WEB });
  m.addProcess({ pid: WEB });
  assert.deepEqual(await m.listeners(), []);
  m.addListener({ port: 3000, pid: WEB });
  m.exit(WEB);
  assert.equal(await m.isPortFree(3000, 'tcp'), true);
});

test('free ports: a listener or an occupied port holds it, per protocol', async () => {
  const m = new FakeMachine();
  m.addListener({ port: 3000 });
  m.occupy(3001);
  m.occupy(3002, 'udp');
  assert.equal(await m.isPortFree(3000, 'tcp'), false);
  assert.equal(await m.isPortFree(3000, 'udp'), true);
  assert.equal(await m.isPortFree(3001, 'tcp'), false);
  assert.equal(await m.isPortFree(3002, 'tcp'), true);
  assert.equal(await m.isPortFree(3002, 'udp'), false);
  m.release(3001);
  assert.equal(await m.isPortFree(3001, 'tcp'), true);
  await assert.rejects(m.isPortFree(0, 'tcp'), UsageError);
});

test('uid and ephemeral range are settable', () => {
  const m = new FakeMachine();
  assert.equal(m.currentUid(), 1000);
  assert.equal(m.ephemeralRange(), null);
  m.setCurrentUid(null);
  m.setEphemeralRange({ start: 32768, end: 60999 });
  assert.equal(m.currentUid(), null);
  assert.deepEqual(m.ephemeralRange(), { start: 32768, end: 60999 });
});

test('kill: SIGTERM for the willing, SIGKILL after the grace for the stubborn, nothing for the gone; listeners go with them', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB, name: 'web', command: 'node web.js' });
  m.addProcess({ pid: STUBBORN, name: 'stubborn', ignoresTerm: true });
  m.addListener({ port: 3000, pid: WEB });
  m.addListener({ port: 3001, pid: STUBBORN });
  const results = await m.killProcesses([WEB, STUBBORN, API, WEB], { graceMs: 500 });
  assert.deepEqual(results, [
    { pid: WEB, name: 'web', command: 'node web.js', signals: ['SIGTERM'], exited: true, error: null },
    { pid: STUBBORN, name: 'stubborn', command: null, signals: ['SIGTERM', 'SIGKILL'], exited: true, error: null },
    { pid: API, name: null, command: null, signals: [], exited: true, error: null },
  ]);
  assert.equal(m.clockMs, 500);
  assert.deepEqual(m.sent.map((s) => `${s.pid} ${s.signal}`), [`${WEB} SIGTERM`, `${STUBBORN} SIGTERM`, `${STUBBORN} SIGKILL`]);
  assert.deepEqual(await m.listeners(), []);
  assert.equal(m.isAlive(STUBBORN), false);
});

test('kill: no grace spent when all exit on the first signal; SIGKILL first is not escalated', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB });
  m.addProcess({ pid: STUBBORN, ignoresTerm: true });
  assert.deepEqual((await m.killProcesses([WEB])).map((r) => r.signals), [['SIGTERM']]);
  assert.equal(m.clockMs, 0);
  assert.deepEqual((await m.killProcesses([STUBBORN], { signal: 'SIGKILL' })).map((r) => [r.signals, r.exited]), [[['SIGKILL'], true]]);
  assert.equal(m.clockMs, 0);
  m.addProcess({ pid: STUBBORN, ignoresTerm: true });
  await m.killProcesses([STUBBORN]);
  assert.equal(m.clockMs, DEFAULT_GRACE_MS);
});

test('kill: a refused signal is reported, not escalated, and the process lives on', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB, refusesSignals: 'EPERM', uid: 0, user: 'root' });
  m.addListener({ port: 3000, pid: WEB });
  const [result] = await m.killProcesses([WEB], { graceMs: 100 });
  assert.deepEqual(result, { pid: WEB, name: 'node', command: null, signals: [], exited: false, error: 'EPERM' });
  assert.equal(m.isAlive(WEB), true);
  assert.equal(await m.isPortFree(3000, 'tcp'), false);
  await assert.rejects(m.killProcesses([-1]), UsageError);
});

test('kill: a pid whose identity is not the expected one is never signalled and is reported gone', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB, name: 'web' });
  const meant = m.processIdentity(WEB)!;
  m.addProcess({ pid: WEB, name: 'newcomer' });
  const [result] = await m.killProcesses([WEB], { graceMs: 100, expect: new Map([[WEB, meant]]) });
  assert.deepEqual(result, { pid: WEB, name: null, command: null, signals: [], exited: true, error: null });
  assert.deepEqual(m.sent, []);
  assert.equal(m.processInfo(WEB)?.name, 'newcomer', 'still running');
});

test('kill: a pid reused during the grace period gets no SIGKILL', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: STUBBORN, ignoresTerm: true });
  // Runs during the kill's grace wait: the stubborn process dies and its pid is taken.
  setImmediate(() => m.addProcess({ pid: STUBBORN, name: 'newcomer' }));
  const [result] = await m.killProcesses([STUBBORN], { graceMs: 100, expect: new Map([[STUBBORN, m.processIdentity(STUBBORN)!]]) });
  assert.deepEqual([result!.signals, result!.exited], [['SIGTERM'], true]);
  assert.deepEqual(m.sent.map((s) => s.signal), ['SIGTERM']);
  assert.equal(m.isAlive(STUBBORN), true, 'the newcomer lives');
});

test('kill: with holding, a pid without a listener on that port is left alone (NOT_HOLDING)', async () => {
  const m = new FakeMachine();
  m.addProcess({ pid: WEB });
  m.addProcess({ pid: API });
  m.addListener({ port: 3000, pid: WEB });
  m.addListener({ port: 3001, pid: API });
  const results = await m.killProcesses([WEB, API], { graceMs: 100, holding: { port: 3000, protocol: 'tcp' } });
  assert.deepEqual(
    results.map((r) => [r.pid, r.signals, r.exited, r.error]),
    [
      [WEB, ['SIGTERM'], true, null],
      [API, [], false, NOT_HOLDING],
    ],
  );
  assert.equal(m.isAlive(API), true);
});

test('processes: a name longer than 15 characters is cut like comm; the executable keeps it', () => {
  const m = new FakeMachine();
  const info = m.addProcess({ pid: WEB, name: 'rootlessport-child' });
  assert.equal(info.name, 'rootlessport-ch');
  assert.equal(info.executable, 'rootlessport-child');
  assert.equal(m.addProcess({ pid: API, name: 'exe', executable: 'rootlessport' }).executable, 'rootlessport');
});

test('localMachine agrees with reality: a loopback server is listed with our pid and holds its port until closed', async () => {
  const server = net.createServer();
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const found = await localMachine.listeners({ port });
    assert.ok(
      found.some((l) => l.protocol === 'tcp' && l.address === '127.0.0.1' && l.pid === process.pid),
      `expected ${port} held by ${process.pid}, got ${JSON.stringify(found)}`,
    );
    assert.equal(await localMachine.isPortFree(port, 'tcp'), false);
    server.close();
    await once(server, 'close');
    assert.equal(await localMachine.isPortFree(port, 'tcp'), true);
    assert.equal(localMachine.isAlive(process.pid), true);
    assert.equal(localMachine.processInfo(process.pid)?.pid, process.pid);
  } finally {
    // Already closed on success; on a failed assertion this releases the port.
    if (server.listening) server.close();
  }
});
