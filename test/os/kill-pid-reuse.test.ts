/**
 * Real pid reuse, end to end through `killPort` on the real machine: a port's holder
 * exits and a newcomer takes its very pid before the signal. Runs in a private pid
 * namespace (`unshare --pid --fork --mount-proc`, as root), where writing
 * /proc/sys/kernel/ns_last_pid makes the next process get the pid just freed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { KillReport } from '../../src/engine/index.js';
import { NOT_HOLDING } from '../../src/os/index.js';
import { tempDir } from '../helpers/cli.js';

/** Longest the whole scenario may take inside the namespace. */
const SCENARIO_TIMEOUT_MS = 30_000;
const UNSHARE = ['--pid', '--fork', '--mount-proc', '--kill-child'];

/** Why private pid namespaces cannot be used here, or null when they can. */
function namespaceUnavailable(): string | null {
  if (process.platform !== 'linux') return 'pid namespaces are Linux';
  if (process.getuid?.() !== 0) return 'needs root for unshare --pid and ns_last_pid';
  const probe = spawnSync('unshare', [...UNSHARE, 'sh', '-c', 'echo 1 > /proc/sys/kernel/ns_last_pid'], { timeout: 10_000 });
  if (probe.error) return `unshare not runnable: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare --pid --fork --mount-proc failed here: ${probe.stderr.toString().trim()}`;
  return null;
}

/**
 * The scenario, run as pid 1 of the namespace. A holder H listens on a loopback port;
 * berth's killPort runs on the real machine, wrapped so that H is ended and a newcomer
 * started on H's very pid at the moment `WHEN` names:
 * - `after-listing`: after the holders were listed and recorded, just before the kill;
 *   the newcomer listens on the same port, so only the recorded identity tells them apart.
 * - `during-listing`: before the holders' identities are recorded; the newcomer does not
 *   listen, so only the socket re-check before the first signal tells them apart.
 */
const SCENARIO = `
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
const [killUrl, machineUrl, when] = process.argv.slice(2);
const { killPort } = await import(killUrl);
const { localMachine } = await import(machineUrl);

const LISTENER = "const s = require('node:net').createServer(); s.listen({ host: '127.0.0.1', port: Number(process.argv[1]) }, () => console.log(s.address().port));";
const SLEEPER = "console.log('ready'); setInterval(() => {}, 1 << 30);";
function start(script, ...args) {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ child, line: d.toString().trim() }));
    child.once('exit', () => reject(new Error('helper exited early')));
  });
}
async function stop(h) {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const exited = once(h.child, 'exit');
  h.child.kill('SIGKILL');
  await exited;
}
/** Ends the holder and starts make() on its pid; the newcomer, or null if the pid could not be had. */
async function reuse(holder, make) {
  const pid = holder.child.pid;
  await stop(holder);
  for (let attempt = 0; attempt < 5; attempt++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const newcomer = await make();
    if (newcomer.child.pid === pid) return newcomer;
    await stop(newcomer);
  }
  return null;
}

const holder = await start(LISTENER, '0');
const pid = holder.child.pid;
const port = Number(holder.line);
const holderIdentity = localMachine.processIdentity(pid);
let newcomer = null;
const machine = {
  ...localMachine,
  async listeners(query) {
    const found = await localMachine.listeners(query);
    if (when === 'during-listing') newcomer = await reuse(holder, () => start(SLEEPER));
    return found;
  },
  async killProcesses(pids, opts) {
    if (when === 'after-listing') newcomer = await reuse(holder, () => start(LISTENER, String(port)));
    return localMachine.killProcesses(pids, opts);
  },
};
let report = null;
let error = null;
try {
  report = await killPort({ port, protocol: 'tcp', lease: null, graceMs: 300, machine });
} catch (e) {
  error = String(e);
}
const newcomerIdentity = newcomer && localMachine.processIdentity(pid);
console.log(JSON.stringify({
  pid,
  port,
  reused: newcomer !== null && newcomerIdentity !== holderIdentity,
  newcomerAlive: newcomer !== null && newcomer.child.exitCode === null && newcomer.child.signalCode === null && localMachine.isAlive(pid),
  newcomerSignal: newcomer && newcomer.child.signalCode,
  report,
  error,
}));
if (newcomer) await stop(newcomer);
process.exit(0);
`;

interface Outcome {
  readonly pid: number;
  readonly port: number;
  readonly reused: boolean;
  readonly newcomerAlive: boolean;
  readonly newcomerSignal: string | null;
  readonly report: KillReport | null;
  readonly error: string | null;
}

async function runScenario(when: 'after-listing' | 'during-listing'): Promise<Outcome> {
  const { dir, cleanup } = tempDir('berth-pid-reuse-');
  try {
    const script = path.join(dir, 'scenario.mjs');
    fs.writeFileSync(script, SCENARIO);
    const built = (file: string): string => new URL(`../../src/${file}`, import.meta.url).href;
    const { stdout } = await promisify(execFile)('unshare', [...UNSHARE, process.execPath, script, built('core/reality/kill.js'), built('os/machine.js'), when], {
      timeout: SCENARIO_TIMEOUT_MS,
    });
    return JSON.parse(stdout) as Outcome;
  } finally {
    cleanup();
  }
}

const unavailable = namespaceUnavailable();

test('a holder whose pid is taken by a newcomer on the same port after listing: the newcomer is never signalled', { skip: unavailable ?? false, timeout: SCENARIO_TIMEOUT_MS + 5_000 }, async () => {
  const outcome = await runScenario('after-listing');
  assert.equal(outcome.error, null);
  assert.ok(outcome.reused, `the pid was reused by a new process: ${JSON.stringify(outcome)}`);
  assert.equal(outcome.newcomerSignal, null, 'the newcomer got no signal');
  assert.equal(outcome.newcomerAlive, true);
  const report = outcome.report!;
  assert.deepEqual(
    report.killed.map((k) => [k.pid, k.signals, k.exited, k.error]),
    [[outcome.pid, [], true, null]],
    'the holder is reported gone, with no signal sent',
  );
  assert.equal(report.free, false, 'the newcomer still holds the port, and the report says so');
});

test('a holder whose pid is taken before its identity is recorded: the newcomer holds no socket and is never signalled', { skip: unavailable ?? false, timeout: SCENARIO_TIMEOUT_MS + 5_000 }, async () => {
  const outcome = await runScenario('during-listing');
  assert.equal(outcome.error, null);
  assert.ok(outcome.reused, `the pid was reused by a new process: ${JSON.stringify(outcome)}`);
  assert.equal(outcome.newcomerSignal, null, 'the newcomer got no signal');
  assert.equal(outcome.newcomerAlive, true);
  assert.deepEqual(
    outcome.report!.killed.map((k) => [k.pid, k.signals, k.error]),
    [[outcome.pid, [], NOT_HOLDING]],
  );
});
