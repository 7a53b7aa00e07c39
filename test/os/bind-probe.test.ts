import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { ephemeralPortRange, isPortFree } from '../../src/os/index.js';

/** Longest the network-namespace child may run. */
const NETNS_CHILD_TIMEOUT_MS = 20_000;

function listen(host: string, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

function close(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
}

test('a TCP listener on 127.0.0.1 makes the port busy; once closed it is free', async () => {
  let server: Server | undefined;
  try {
    server = await listen('127.0.0.1');
    const port = portOf(server);
    assert.equal(await isPortFree(port, 'tcp'), false);
    await close(server);
    assert.equal(await isPortFree(port, 'tcp'), true);
  } finally {
    await close(server);
  }
});

test('an IPv6-only listener on ::1 makes the port busy', async (t) => {
  let server: Server | undefined;
  try {
    try {
      server = await listen('::1');
    } catch {
      // No IPv6 loopback here: there is nothing to hold a port with.
      t.skip('this machine has no IPv6 loopback');
      return;
    }
    assert.equal(await isPortFree(portOf(server), 'tcp'), false);
  } finally {
    await close(server);
  }
});

test('a wildcard listener on 0.0.0.0 makes the port busy', async () => {
  let server: Server | undefined;
  try {
    server = await listen('0.0.0.0');
    assert.equal(await isPortFree(portOf(server), 'tcp'), false);
  } finally {
    await close(server);
  }
});

test('the probe leaves nothing bound: the port can be listened on right after', async () => {
  let server: Server | undefined;
  try {
    server = await listen('127.0.0.1');
    const port = portOf(server);
    await close(server);
    assert.equal(await isPortFree(port, 'tcp'), true);
    server = await listen('0.0.0.0', port);
    assert.equal(portOf(server), port);
  } finally {
    await close(server);
  }
});

/** Ports below the usual ephemeral range, so no client connection is given one by chance. */
const FIXED_PORT_FIRST = 20_000;
const FIXED_PORT_COUNT = 5_000;

test('UDP: a bound socket makes the port busy for udp but not for tcp', async (t) => {
  const socket = createSocket('udp4');
  try {
    let port: number | undefined;
    for (let attempt = 0; attempt < 20 && port === undefined; attempt++) {
      const candidate = FIXED_PORT_FIRST + Math.floor(Math.random() * FIXED_PORT_COUNT);
      if ((await isPortFree(candidate, 'udp')) && (await isPortFree(candidate, 'tcp'))) port = candidate;
    }
    if (port === undefined) {
      t.skip('found no port free for both protocols');
      return;
    }
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    assert.equal(await isPortFree(port, 'udp'), false);
    assert.equal(await isPortFree(port, 'tcp'), true, 'TCP and UDP ports are separate');
    socket.close();
    assert.equal(await isPortFree(port, 'udp'), true);
  } finally {
    try {
      socket.close();
    } catch {
      // Already closed by the test body.
    }
  }
});

test('an invalid port is a usage error, not "busy"', async () => {
  await assert.rejects(isPortFree(0, 'tcp'), UsageError);
  await assert.rejects(isPortFree(70000, 'udp'), UsageError);
});

test('ephemeral port range is read from /proc on Linux', (t) => {
  const range = ephemeralPortRange();
  if (process.platform !== 'linux') {
    assert.equal(range, null);
    return;
  }
  if (range === null) {
    t.skip('/proc/sys/net/ipv4/ip_local_port_range is not readable here');
    return;
  }
  assert.ok(range.start >= 1 && range.start <= range.end && range.end <= 65535, JSON.stringify(range));
});

test('on a machine without IPv6, the IPv6 addresses are skipped rather than reported busy', async (t) => {
  // A fresh network namespace with IPv6 switched off: only root can make one.
  const tools = ['unshare', 'ip', 'sysctl'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (process.getuid?.() !== 0 || tools.length > 0) {
    t.skip(tools.length > 0 ? `missing ${tools.join(', ')} (util-linux, iproute2, procps)` : 'needs root to create a network namespace');
    return;
  }
  const moduleUrl = new URL('../../src/os/index.js', import.meta.url).href;
  const script = `
    import { createServer } from 'node:net';
    const os = await import(${JSON.stringify(moduleUrl)});
    const v6 = await new Promise((resolve) => {
      const s = createServer().once('error', (e) => resolve(e.code)).listen(0, '::1', () => s.close(() => resolve('bound')));
    });
    const freeTcp = await os.isPortFree(4000, 'tcp');
    const freeUdp = await os.isPortFree(4000, 'udp');
    const held = createServer();
    await new Promise((resolve) => held.listen(4001, '127.0.0.1', resolve));
    const busy = await os.isPortFree(4001, 'tcp');
    held.close();
    console.log(JSON.stringify({ v6, freeTcp, freeUdp, busy }));`;
  const setup = 'ip link set lo up && sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1';
  const trial = spawnSync('unshare', ['-n', '--', 'sh', '-c', setup], { timeout: NETNS_CHILD_TIMEOUT_MS, encoding: 'utf8' });
  if (trial.status !== 0) {
    t.skip(`cannot make an IPv6-less network namespace here: ${(trial.stderr ?? '').trim() || String(trial.error)}`);
    return;
  }
  const result = await new Promise<{ error: Error | null; stdout: string; stderr: string }>((resolve) => {
    execFile('unshare', ['-n', '--', 'sh', '-c', `${setup} && exec "$0" --input-type=module -e "$1"`, process.execPath, script], { timeout: NETNS_CHILD_TIMEOUT_MS }, (error, stdout, stderr) =>
      resolve({ error, stdout, stderr }),
    );
  });
  assert.equal(result.error, null, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { v6: 'EADDRNOTAVAIL', freeTcp: true, freeUdp: true, busy: false });
});

test("the raw TCP probe answers exactly as net.Server's listen does, holder by holder", async (t) => {
  const { TCP_PROBES } = await import('../../src/os/bind-probe.js');
  const free = await listen('127.0.0.1');
  const port = portOf(free);
  await close(free);
  if (TCP_PROBES.raw(port, '127.0.0.1') === null) {
    t.skip('this Node offers no tcp_wrap binding: isPortFree uses net.Server alone');
    return;
  }
  const holders: (string | null)[] = [null, '127.0.0.1', '0.0.0.0', '::', '::1'];
  for (const holderAddress of holders) {
    let holder: Server | undefined;
    try {
      if (holderAddress !== null) holder = await listen(holderAddress, port);
    } catch {
      continue; // no IPv6 here: nothing to compare for that holder
    }
    try {
      for (const address of ['0.0.0.0', '127.0.0.1', '::', '::1']) {
        const server = await TCP_PROBES.server(port, address);
        assert.equal(TCP_PROBES.raw(port, address), server, `holder ${holderAddress ?? 'none'}, probe on ${address}`);
      }
    } finally {
      await close(holder);
    }
  }
  // A socket bound but not listening (a client's, or one about to listen) blocks neither.
  const bound = createSocket('udp4');
  await new Promise<void>((resolve) => bound.bind(port, '127.0.0.1', () => resolve()));
  try {
    assert.equal(TCP_PROBES.raw(port, '::'), await TCP_PROBES.server(port, '::'));
  } finally {
    bound.close();
  }
});
