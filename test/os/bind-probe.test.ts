import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { ephemeralPortRange, isPortFree } from '../../src/os/index.js';

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
