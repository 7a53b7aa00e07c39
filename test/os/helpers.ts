/**
 * Test helpers: real child processes that hold sockets, started and stopped with time limits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** The conventional uid (and gid) of `nobody`. */
export const NOBODY_UID = 65534;

/**
 * Runs `expression` (with `os` bound to berth's os/ layer) in a node process as `nobody`,
 * and returns what it printed. The checkout may sit in a directory nobody cannot enter (a
 * mktemp -d clone is 0700), so the layer, which imports only ../types.js and ../errors.js,
 * is copied to a world-readable temp directory first.
 */
export async function osLayerAsNobody(expression: string): Promise<string> {
  const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-os-layer-'));
  try {
    fs.chmodSync(dir, 0o755);
    fs.cpSync(path.join(built, 'os'), path.join(dir, 'os'), { recursive: true });
    for (const file of ['types.js', 'errors.js']) fs.copyFileSync(path.join(built, file), path.join(dir, file));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const url = pathToFileURL(path.join(dir, 'os', 'index.js')).href;
    const script = `import(${JSON.stringify(url)}).then(async (os) => console.log(JSON.stringify(${expression})))`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { uid: NOBODY_UID, gid: NOBODY_UID, timeout: 10_000 });
    return stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Longest wait for a helper child to say it is ready. */
export const CHILD_READY_TIMEOUT_MS = 10_000;
/** Longest wait for a killed helper child to be reaped. */
const CHILD_EXIT_TIMEOUT_MS = 5_000;

/** A running `node -e SCRIPT` child and the first line it printed. */
export interface Helper {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly firstLine: string;
}

/** Who the helper child runs as (root tests run it as `nobody`). */
export interface HelperOptions {
  readonly uid?: number;
  readonly gid?: number;
  /** The node binary to run (a renamed link to it, for a process with another name). Default: this one. */
  readonly execPath?: string;
}

/** Spawns `node -e script ...args` and resolves once it prints its first line. */
export function startNode(script: string, args: string[] = [], options: HelperOptions = {}): Promise<Helper> {
  const child = spawn(options.execPath ?? process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], uid: options.uid, gid: options.gid });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('helper child did not get ready in time'));
    }, CHILD_READY_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve({ child, pid: child.pid!, firstLine: buffer.slice(0, newline) });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`helper child exited early (${code ?? signal})`));
    });
  });
}

/** Kills a helper child (SIGKILL) and waits, bounded, until it is reaped. Safe to call twice. */
export async function stopNode(helper: Helper | undefined): Promise<void> {
  if (!helper) return;
  const { child } = helper;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, CHILD_EXIT_TIMEOUT_MS).unref())]);
}

/** A child that listens with TCP on `host` port `port` (0: any) and prints the port. */
export const TCP_LISTENER = `
const [host, port] = process.argv.slice(1);
const server = require('node:net').createServer();
server.listen({ host, port: Number(port) }, () => console.log(server.address().port));
`;

/** A child that binds a UDP socket on `host` port `port` (0: any) and prints the port. */
export const UDP_LISTENER = `
const [host, port] = process.argv.slice(1);
const socket = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
socket.bind(Number(port), host, () => console.log(socket.address().port));
`;

/** A hard link to `from` at `to`, or a copy when they sit on different file systems. */
export function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    // EXDEV (another file system) or EPERM (protected hard links): a copy runs the same.
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o755);
  }
}
