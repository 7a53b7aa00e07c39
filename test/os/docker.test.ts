import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { attachContainers, dockerEndpoint, listListeners, listPublishedPorts } from '../../src/os/index.js';
import { PODMAN_CONTAINERS_JSON } from './fixtures.js';

const execFileAsync = promisify(execFile);

/** Longest any one podman command may take (an image import or a container start). */
const PODMAN_COMMAND_TIMEOUT_MS = 60_000;
/** Longest wait for the podman API socket to appear. */
const PODMAN_SERVICE_READY_MS = 15_000;

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

/** Upper bounds for the container's ulimits; runc refused nproc at this machine's own hard limit. */
const CONTAINER_NOFILE_MAX = 20_000;
const CONTAINER_NPROC_MAX = 4_096;

/**
 * ulimits for the container: podman's defaults can exceed what this machine allows, so
 * use the machine's soft limits, capped at values seen to work here.
 */
function containerUlimits(): string[] {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = (label: string, max: number): number => {
    const match = new RegExp(`^${label}\\s+(\\d+|unlimited)`, 'm').exec(limits);
    return match && match[1] !== 'unlimited' ? Math.min(Number(match[1]), max) : max;
  };
  const files = soft('Max open files', CONTAINER_NOFILE_MAX);
  const processes = soft('Max processes', CONTAINER_NPROC_MAX);
  return ['--ulimit', `nofile=${files}:${files}`, '--ulimit', `nproc=${processes}:${processes}`];
}

async function podman(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('podman', args, { timeout: PODMAN_COMMAND_TIMEOUT_MS });
  return stdout.trim();
}

/** Imports a registry-free busybox image (see /work/shared/notes/containers.md); returns whether this test created it. */
async function ensureBusyboxImage(image: string, dir: string): Promise<boolean> {
  const exists = spawnSync('podman', ['image', 'exists', image], { timeout: PODMAN_COMMAND_TIMEOUT_MS });
  if (exists.status === 0) return false;
  const bin = join(dir, 'rootfs', 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync('/bin/busybox', join(bin, 'busybox'));
  for (const applet of ['sh', 'httpd', 'sleep']) symlinkSync('busybox', join(bin, applet));
  await execFileAsync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
  await podman(['import', join(dir, 'rootfs.tar'), image]);
  return true;
}

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await closeServer(probe);
  return port;
}

test('podman: a real container publishing a loopback port is found by the API and attached to its conmon listener', { timeout: 180_000 }, async (t) => {
  if (spawnSync('podman', ['--version']).status !== 0) {
    t.skip('podman is not installed (apt-get install -y podman runc busybox-static)');
    return;
  }
  if (!existsSync('/bin/busybox')) {
    t.skip('/bin/busybox is missing (apt-get install -y busybox-static)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'berth-podman-'));
  const image = 'localhost/berth-test-busybox:latest';
  const name = `berth-test-${process.pid}`;
  const socketPath = join(dir, 'podman.sock');
  let service: ChildProcess | undefined;
  let createdImage = false;
  let started = false;
  const savedDockerHost = process.env.DOCKER_HOST;
  try {
    createdImage = await ensureBusyboxImage(image, dir);
    const port = await freeLoopbackPort();
    try {
      await podman(['--runtime', 'runc', 'run', '-d', '--name', name, ...containerUlimits(), '-p', `127.0.0.1:${port}:8080`, image, '/bin/httpd', '-f', '-p', '8080']);
      started = true;
    } catch (error) {
      t.skip(`podman cannot start a container here: ${String((error as { stderr?: string }).stderr ?? error).trim()}`);
      return;
    }

    service = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { stdio: 'ignore' });
    const deadline = Date.now() + PODMAN_SERVICE_READY_MS;
    let published = await listPublishedPorts({ dockerHost: `unix://${socketPath}` });
    while (published.length === 0 && Date.now() < deadline) {
      await sleep(200);
      published = await listPublishedPorts({ dockerHost: `unix://${socketPath}`, timeoutMs: 2000 });
    }
    const ours = published.filter((p) => p.container.name === name);
    assert.deepEqual(
      ours.map((p) => [p.port, p.protocol, p.address]),
      [[port, 'tcp', '127.0.0.1']],
      JSON.stringify(published),
    );
    assert.match(ours[0]!.container.id, /^[0-9a-f]{12}$/);
    assert.equal(ours[0]!.container.image, image);

    // The same through DOCKER_HOST, as a user would point berth at podman.
    process.env.DOCKER_HOST = `unix://${socketPath}`;
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
    if (started) spawnSync('podman', ['rm', '-f', '-t', '0', name], { timeout: PODMAN_COMMAND_TIMEOUT_MS, stdio: 'ignore' });
    if (service && service.exitCode === null && service.signalCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    }
    if (createdImage) spawnSync('podman', ['rmi', '-f', image], { timeout: PODMAN_COMMAND_TIMEOUT_MS, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
});
