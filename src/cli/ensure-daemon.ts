/**
 * Commands that need the daemon (the dashboard, detached stacks) find it through its
 * lockfile and start it in the background when it is absent: `berth serve` as a detached
 * process of its own, its output in the state directory's daemon.log.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../errors.js';
import { daemonStatus } from '../server/daemon.js';
import { ensureStateDir, type DaemonLock } from '../server/state.js';

/** How long a start may take before berth gives up waiting for the lockfile. */
export const START_WAIT_MS = 15_000;
const POLL_MS = 25;

/** The running daemon of `env`'s state directory, started in the background when absent. */
export async function ensureDaemon(env: NodeJS.ProcessEnv = process.env): Promise<{ lock: DaemonLock; started: boolean }> {
  const before = daemonStatus(env);
  if (before.running && before.lock !== null) return { lock: before.lock, started: false };
  // The same checks as the daemon's own start: 0700, and not another user's directory.
  ensureStateDir(before.stateDir);
  const log = openSync(path.join(before.stateDir, 'daemon.log'), 'a', 0o600);
  try {
    // The same berth as this one: this process's own script, so versions never mix.
    // Started in the state directory, not the caller's: a daemon outlives the command that
    // started it, and must neither keep that directory busy nor read its berth.yaml as its
    // own (a service named `daemon` there would give the daemon that service's port).
    const child = spawn(process.execPath, [path.resolve(process.argv[1]!), 'serve'], { env, cwd: before.stateDir, detached: true, stdio: ['ignore', log, log] });
    child.unref();
    const deadline = Date.now() + START_WAIT_MS;
    while (Date.now() < deadline) {
      const now = daemonStatus(env);
      if (now.running && now.lock !== null && now.lock.pid === child.pid) return { lock: now.lock, started: true };
      if (child.exitCode !== null) break;
      await sleep(POLL_MS);
    }
  } finally {
    closeSync(log);
  }
  throw new StoreError(`the berth daemon did not start; see ${path.join(before.stateDir, 'daemon.log')}. Try \`berth serve\` in a terminal to see why.`);
}
