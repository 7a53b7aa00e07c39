import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachContainers, dockerEndpoint, listListeners, listPublishedPorts } from '../../src/os/index.js';
import { PODMAN_CONTAINERS_JSON } from './fixtures.js';
import { startPublishedContainer } from './podman.js';

function closeServer(server: Server | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
}

test('DOCKER_HOST forms: unix socket, plain tcp, default socket, unsupported schemes', () => {
  assert.deepEqual(dockerEndpoint(undefined), { socketPath: '/var/run/docker.sock' });
  assert.deepEqual(dockerEndpoint('unix:///run/user/1000/podman/podman.sock'), { socketPath: '/run/user/1000/podman/podman.sock' });
  assert.deepEqual(dockerEndpoint('tcp://127.0.0.1:2375'), { host: '127.0.0.1', port: 2375 });
  assert.deepEqual(dockerEndpoint('tcp://[::1]:2375'), { host: '::1', port: 2375 });
  assert.equal(dockerEndpoint('ssh://me@box'), null);
  assert.equal(dockerEndpoint('npipe:////./pipe/docker_engine'), null);
});

test('no engine: [] without an error, for a missing socket and a refused port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-docker-'));
  try {
    assert.deepEqual(await listPublishedPorts({ dockerHost: `unix://${join(dir, 'nothing.sock')}` }), []);
    assert.deepEqual(await listPublishedPorts({ dockerHost: 'ssh://me@box' }), []);
    // A port that was just free on loopback: nothing answers there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await closeServer(probe);
    assert.deepEqual(await listPublishedPorts({ dockerHost: `tcp://127.0.0.1:${port}` }), []);
    if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) {
      assert.deepEqual(await listPublishedPorts(), [], 'the default socket is absent here');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine that accepts but never answers yields [] after the time limit, and the client hangs up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-docker-'));
  const socketPath = join(dir, 'silent.sock');
  const hungUp: Promise<unknown>[] = [];
  const silent = createServer((connection) => {
    // Accept the connection and say nothing; note when the client closes it.
    hungUp.push(once(connection, 'close'));
    connection.resume();
  });
  try {
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    assert.deepEqual(await listPublishedPorts({ dockerHost: `unix://${socketPath}`, timeoutMs: 100 }), []);
    assert.equal(hungUp.length, 1);
    const closed = await Promise.race([Promise.all(hungUp).then(() => true), sleep(5000).then(() => false)]);
    assert.equal(closed, true, 'the client closed its connection');
  } finally {
    await closeServer(silent);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine API on a unix socket: the body is fetched and parsed; an error status yields []', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-docker-'));
  const socketPath = join(dir, 'engine.sock');
  let status = 200;
  const paths: string[] = [];
  const engine = createHttpServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? PODMAN_CONTAINERS_JSON : '{"message":"boom"}');
  });
  try {
    await new Promise<void>((resolve) => engine.listen(socketPath, resolve));
    const published = await listPublishedPorts({ dockerHost: `unix://${socketPath}` });
    assert.deepEqual(published.map((p) => [p.port, p.protocol, p.address, p.container.name]), [[18080, 'tcp', '127.0.0.1', 'web1']]);
    assert.deepEqual(paths, ['GET /containers/json']);
    status = 500;
    assert.deepEqual(await listPublishedPorts({ dockerHost: `unix://${socketPath}` }), []);
  } finally {
    await closeServer(engine);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('podman: a real container publishing a loopback port is found by the API and attached to its conmon listener', { timeout: 180_000 }, async (t) => {
  const started = await startPublishedContainer('os');
  if ('skip' in started) {
    t.skip(started.skip);
    return;
  }
  const { name, port, image, dockerHost } = started;
  const savedDockerHost = process.env.DOCKER_HOST;
  try {
    const published = await listPublishedPorts({ dockerHost, timeoutMs: 2000 });
    const ours = published.filter((p) => p.container.name === name);
    assert.deepEqual(
      ours.map((p) => [p.port, p.protocol, p.address]),
      [[port, 'tcp', '127.0.0.1']],
      JSON.stringify(published),
    );
    assert.match(ours[0]!.container.id, /^[0-9a-f]{12}$/);
    assert.equal(ours[0]!.container.image, image);

    // The same through DOCKER_HOST, as a user would point berth at podman.
    process.env.DOCKER_HOST = dockerHost;
    const viaEnv = await listPublishedPorts({ timeoutMs: 2000 });
    assert.ok(viaEnv.some((p) => p.port === port && p.container.name === name));

    const listeners = await listListeners({ port });
    assert.equal(listeners.length, 1, JSON.stringify(listeners));
    assert.equal(listeners[0]!.process, 'conmon', 'podman holds published ports in conmon');
    const attached = attachContainers(listeners, viaEnv);
    assert.equal(attached.length, 1);
    assert.equal(attached[0]!.pid, listeners[0]!.pid);
    assert.equal(attached[0]!.container?.name, name);
  } finally {
    if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedDockerHost;
    await started.cleanup();
  }
});
