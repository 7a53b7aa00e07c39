/**
 * Test helper: a real container publishing a loopback port, run by podman, and podman's
 * Docker-compatible API on a unix socket (see /work/shared/notes/containers.md). Shared by
 * every test that needs a container; only inspects, never connects to the container.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { listPublishedPorts } from '../../src/os/index.js';

const execFileAsync = promisify(execFile);

/** Longest any one podman command may take (an image import or a container start). */
export const PODMAN_COMMAND_TIMEOUT_MS = 60_000;
/** Longest wait for the podman API socket to list the container. */
const PODMAN_SERVICE_READY_MS = 15_000;
/** Longest wait for the API service to exit after SIGTERM. */
const PODMAN_SERVICE_STOP_MS = 5_000;
/** Upper bounds for the container's ulimits; runc refused nproc at this machine's own hard limit. */
const CONTAINER_NOFILE_MAX = 20_000;
const CONTAINER_NPROC_MAX = 4_096;

/**
 * The registry-free busybox image a test imports: one per label, so that tests running
 * at the same time never remove an image another one is using.
 */
function testImage(label: string): string {
  return `localhost/berth-test-busybox-${label}:latest`;
}

/** A running container publishing `127.0.0.1:port` and the API that lists it. */
export interface PodmanContainer {
  readonly name: string;
  readonly image: string;
  /** Host port the container publishes on 127.0.0.1. */
  readonly port: number;
  /** `unix:///.../podman.sock`: the value of DOCKER_HOST that reaches the API. */
  readonly dockerHost: string;
  /** Removes the container, stops the API service and the temp files; safe to call twice. */
  readonly cleanup: () => Promise<void>;
}

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

/** Imports a registry-free busybox image; returns whether this call created it. */
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

/** A port that was just free on 127.0.0.1. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Why podman cannot be used here, or null when it may be tried. */
export function podmanMissing(): string | null {
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (apt-get install -y podman runc busybox-static)';
  if (!existsSync('/bin/busybox')) return '/bin/busybox is missing (apt-get install -y busybox-static)';
  return null;
}

/**
 * Starts a busybox httpd container (`label`: letters, digits and dashes, unique per test) publishing `127.0.0.1:port` (a free port unless given)
 * and podman's API service, and waits until the API lists the container. Returns the
 * container, or `{ skip }` with the reason when podman cannot run one here. Call
 * `cleanup` in `finally`; on a skip everything is already cleaned up.
 */
export async function startPublishedContainer(
  label: string,
  port?: number,
  opts: {
    /** Labels on the container (`com.docker.compose.service`, ...). */
    readonly labels?: Readonly<Record<string, string>>;
    /** Where podman's API socket goes (its directory is created); default: a temp directory. */
    readonly socketPath?: string;
  } = {},
): Promise<PodmanContainer | { readonly skip: string }> {
  const missing = podmanMissing();
  if (missing) return { skip: missing };
  const dir = mkdtempSync(join(tmpdir(), 'berth-podman-'));
  const name = `berth-test-${label}-${process.pid}`;
  const image = testImage(label);
  const socketPath = opts.socketPath ?? join(dir, 'podman.sock');
  const labels = Object.entries(opts.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  let service: ChildProcess | undefined;
  let createdImage = false;
  let started = false;
  let cleaned = false;

  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (started) spawnSync('podman', ['rm', '-f', '-t', '0', name], { timeout: PODMAN_COMMAND_TIMEOUT_MS, stdio: 'ignore' });
    if (service && service.exitCode === null && service.signalCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await Promise.race([exited, sleep(PODMAN_SERVICE_STOP_MS)]);
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    }
    if (createdImage) spawnSync('podman', ['rmi', '-f', image], { timeout: PODMAN_COMMAND_TIMEOUT_MS, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    createdImage = await ensureBusyboxImage(image, dir);
    const hostPort = port ?? (await freeLoopbackPort());
    try {
      await podman(['--runtime', 'runc', 'run', '-d', '--name', name, ...labels, ...containerUlimits(), '-p', `127.0.0.1:${hostPort}:8080`, image, '/bin/httpd', '-f', '-p', '8080']);
      started = true;
    } catch (error) {
      await cleanup();
      return { skip: `podman cannot start a container here: ${String((error as { stderr?: string }).stderr ?? error).trim()}` };
    }
    mkdirSync(dirname(socketPath), { recursive: true });
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { stdio: 'ignore' });
    const dockerHost = `unix://${socketPath}`;
    const deadline = Date.now() + PODMAN_SERVICE_READY_MS;
    while (!(await listPublishedPorts({ dockerHost, timeoutMs: 2000 })).some((p) => p.container.name === name)) {
      if (Date.now() > deadline) throw new Error(`podman's API at ${socketPath} did not list ${name} within ${PODMAN_SERVICE_READY_MS} ms`);
      await sleep(200);
    }
    return { name, image, port: hostPort, dockerHost, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
