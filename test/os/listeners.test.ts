import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import type { Listener } from '../../src/types.js';
import { isAlive, isPortFree, listListeners } from '../../src/os/index.js';
import { osLayerAsNobody, startNode, stopNode, TCP_LISTENER, UDP_LISTENER, type Helper } from './helpers.js';

test('a child listening on 127.0.0.1 is named by pid, process name and command line', async () => {
  let helper: Helper | undefined;
  try {
    helper = await startNode(TCP_LISTENER, ['127.0.0.1', '0']);
    const port = Number(helper.firstLine);
    const found = await listListeners({ port });
    assert.equal(found.length, 1, JSON.stringify(found));
    const [listener] = found;
    assert.equal(listener!.protocol, 'tcp');
    assert.equal(listener!.address, '127.0.0.1');
    assert.equal(listener!.port, port);
    assert.equal(listener!.pid, helper.pid);
    assert.equal(listener!.process, 'node');
    assert.ok(listener!.command?.startsWith(`${process.execPath} -e`), listener!.command ?? 'no command');
    assert.ok(listener!.command?.endsWith('127.0.0.1 0'), listener!.command ?? 'no command');
    assert.ok(listener!.user, 'user known from the socket uid');
    assert.equal(listener!.container, null);

    const all = await listListeners();
    assert.ok(all.some((l) => l.port === port && l.pid === helper!.pid), 'the full list holds it too');
    assert.deepEqual(await listListeners({ port, protocol: 'udp' }), [], 'protocol narrows');
  } finally {
    await stopNode(helper);
  }
});

test('a bound UDP socket is listed with protocol udp, on IPv4 and IPv6', async () => {
  const helpers: Helper[] = [];
  try {
    helpers.push(await startNode(UDP_LISTENER, ['127.0.0.1', '0']));
    if (await ipv6Loopback()) helpers.push(await startNode(UDP_LISTENER, ['::1', '0']));
    for (const helper of helpers) {
      const port = Number(helper.firstLine);
      const found = await listListeners({ port, protocol: 'udp' });
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]!.protocol, 'udp');
      assert.equal(found[0]!.pid, helper.pid);
      assert.equal(found[0]!.process, 'node');
      assert.deepEqual(await listListeners({ port, protocol: 'tcp' }), []);
    }
  } finally {
    for (const helper of helpers) await stopNode(helper);
  }
});

test('an IPv6-only listener on ::1 is listed with address ::1', async (t) => {
  if (!(await ipv6Loopback())) {
    t.skip('this machine has no IPv6 loopback');
    return;
  }
  let helper: Helper | undefined;
  try {
    helper = await startNode(TCP_LISTENER, ['::1', '0']);
    const port = Number(helper.firstLine);
    const found = await listListeners({ port });
    assert.deepEqual(
      found.map((l) => [l.address, l.pid]),
      [['::1', helper.pid]],
    );
  } finally {
    await stopNode(helper);
  }
});

test('port lookups are exact: a listener on P is not returned for P/10 or P*10', async (t) => {
  // A free port from 1000 to 6553, so that both P/10 and P*10 are valid ports.
  let port: number | undefined;
  for (const candidate of [3000, 3001, 4321, 5123, 6001, 2468, 1357]) {
    if (await isPortFree(candidate, 'tcp')) {
      port = candidate;
      break;
    }
  }
  if (port === undefined) {
    t.skip('no candidate port from 1000 to 6553 was free');
    return;
  }
  let helper: Helper | undefined;
  try {
    helper = await startNode(TCP_LISTENER, ['127.0.0.1', String(port)]);
    assert.equal(Number(helper.firstLine), port);
    assert.deepEqual((await listListeners({ port })).map((l) => l.pid), [helper.pid]);
    for (const other of [Math.floor(port / 10), port * 10, port + 1, port - 1]) {
      const found = await listListeners({ port: other });
      assert.ok(!found.some((l) => l.pid === helper!.pid), `asking for ${other} returned the listener on ${port}`);
      assert.ok(found.every((l) => l.port === other));
    }
  } finally {
    await stopNode(helper);
  }
});

test('a socket whose holder cannot be inspected is listed with pid, process and command null', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root, to look from an unprivileged user at a root-owned listener');
    return;
  }
  let helper: Helper | undefined;
  try {
    helper = await startNode(TCP_LISTENER, ['127.0.0.1', '0']);
    const port = Number(helper.firstLine);
    // The same lookup, run as nobody: /proc/net is world-readable, /proc/PID/fd of a root process is not.
    const stdout = await osLayerAsNobody(`await os.listListeners({ port: ${port} })`);
    const found = JSON.parse(stdout) as Listener[];
    assert.deepEqual(found, [
      { protocol: 'tcp', address: '127.0.0.1', port, pid: null, process: null, command: null, user: 'root', container: null },
    ]);
  } finally {
    await stopNode(helper);
  }
});

test('listeners opened after many connections are still found (reading stops only after the last listener)', async () => {
  const CONNECTIONS = 300;
  let helper: Helper | undefined;
  try {
    // One child: a listener, CONNECTIONS loopback connections to it, then a second listener.
    const script = `
      const net = require('node:net');
      const first = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
        let open = 0;
        for (let i = 0; i < ${CONNECTIONS}; i++) net.connect(first.address().port, '127.0.0.1', () => {
          if (++open === ${CONNECTIONS}) {
            const second = net.createServer().listen(0, '127.0.0.1', () => console.log(first.address().port + ' ' + second.address().port));
          }
        });
      });`;
    helper = await startNode(script);
    const [first, second] = helper.firstLine.split(' ').map(Number);
    const all = await listListeners({ protocol: 'tcp' });
    for (const port of [first!, second!]) {
      assert.ok(all.some((l) => l.port === port && l.pid === helper!.pid), `listener on ${port} missing from the full list`);
      assert.deepEqual((await listListeners({ port })).map((l) => l.pid), [helper.pid]);
    }
    assert.ok(!all.some((l) => l.pid === helper!.pid && l.port !== first && l.port !== second), 'connections are not listeners');
  } finally {
    await stopNode(helper);
  }
});

test('a listening socket a child inherited: everyHolder names both processes, the default names the parent', async () => {
  let helper: Helper | undefined;
  let child: number | undefined;
  try {
    // The parent listens, then hands the listening socket to a sleeper child as its fd 3.
    const script = `
      const net = require('node:net');
      const { spawn } = require('node:child_process');
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: ['ignore', 'ignore', 'ignore', server._handle.fd] });
        console.log(server.address().port + ' ' + c.pid);
      });`;
    helper = await startNode(script);
    const [port, childPid] = helper.firstLine.split(' ').map(Number);
    child = childPid;
    assert.deepEqual((await listListeners({ port })).map((l) => l.pid), [helper.pid]);
    const every = await listListeners({ port, everyHolder: true });
    assert.deepEqual(
      every.map((l) => [l.pid, l.address, l.port]),
      [
        [helper.pid, '127.0.0.1', port],
        [child, '127.0.0.1', port],
      ],
    );
    assert.ok((await listListeners({ everyHolder: true })).some((l) => l.pid === child && l.port === port), 'the full list holds the child too');
  } finally {
    await stopNode(helper);
    if (child !== undefined && isAlive(child)) process.kill(child, 'SIGKILL');
  }
});

test('an invalid port is a usage error', async () => {
  await assert.rejects(listListeners({ port: 0 }), UsageError);
  await assert.rejects(listListeners({ port: 65536 }), UsageError);
  await assert.rejects(listListeners({ port: 3000.5 }), UsageError);
});

async function ipv6Loopback(): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
