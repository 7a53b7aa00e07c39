/**
 * Running one command with berth's variables in its environment (`berth run -- CMD`), the
 * way a shell's `exec` would: same terminal, same exit status, signals passed on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants } from 'node:os';
import { UsageError } from '../errors.js';

/** Signals this process passes on to the child while it runs. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Shell convention for "command not found", kept in the error's details. */
export const COMMAND_NOT_FOUND_STATUS = 127;
/** Shell convention for "found but cannot be run". */
export const COMMAND_NOT_EXECUTABLE_STATUS = 126;
/** A child killed by signal N reports 128 + N, as shells do. */
export const SIGNAL_EXIT_BASE = 128;
/** After onSpawn fails, how long the child gets to obey SIGTERM before SIGKILL. */
export const ON_SPAWN_FAILURE_GRACE_MS = 5_000;

/** How a child ended. */
export interface ChildOutcome {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
  /** What a shell would report: `code`, or 128 + the signal's number (SIGKILL → 137). */
  readonly exitCode: number;
  readonly pid: number;
}

/** Options of runChild. */
export interface RunChildOptions {
  /**
   * Called with the child's pid as soon as it runs, e.g. to tie an ephemeral lease to it.
   * runChild settles only after a returned promise does; if it throws or rejects, the
   * child is sent SIGTERM (SIGKILL after ON_SPAWN_FAILURE_GRACE_MS) and runChild rejects
   * with that error once the child is gone.
   */
  readonly onSpawn?: (pid: number) => void | Promise<void>;
  /** Working directory; default this process's. */
  readonly cwd?: string;
}

/**
 * Spawns `cmd args` directly (no shell, so arguments are never re-split or expanded) with
 * exactly `env` and this process's stdin, stdout and stderr, and resolves when it exits.
 *
 * While it runs, SIGINT, SIGTERM and SIGHUP sent to this process are passed to the child
 * instead of ending this process; the handlers are removed when the child is gone. (A
 * Ctrl-C in a terminal reaches both processes already, so the child may see SIGINT twice;
 * programs that treat a second Ctrl-C as "force quit" will do so.)
 *
 * @throws UsageError `command not found` (details.shellStatus 127) when `cmd` does not
 *   exist or is not on PATH, `not executable` (126) when it cannot be run, `directory not
 *   found` when `cwd` is missing. The CLI maps these to exit 2 (bad input) like other
 *   usage errors; callers wanting shell semantics can use shellStatus. A command Node
 *   refuses before trying (an empty name, a NUL byte) is a UsageError `cannot run`.
 */
export function runChild(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: RunChildOptions = {},
): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, [...args], { env, stdio: 'inherit', cwd: opts.cwd });
    } catch (error) {
      // Node refuses some values before trying (an empty name, a NUL byte): bad input too.
      reject(new UsageError(`cannot run ${JSON.stringify(cmd)}: ${(error as Error).message}`, { command: cmd }));
      return;
    }
    let pending: NodeJS.Signals | null = null;
    let spawnTask: Promise<unknown> = Promise.resolve();
    let spawnError: unknown = null;
    let settled = false;

    const forward = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) pending = signal;
      else child.kill(signal);
    };
    for (const s of FORWARDED_SIGNALS) process.on(s, forward);
    const cleanup = (): void => {
      for (const s of FORWARDED_SIGNALS) process.removeListener(s, forward);
    };

    child.once('spawn', () => {
      const pid = child.pid!;
      if (pending !== null) child.kill(pending);
      if (opts.onSpawn === undefined) return;
      spawnTask = (async () => opts.onSpawn!(pid))().catch((error: unknown) => {
        spawnError = error;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), ON_SPAWN_FAILURE_GRACE_MS);
        timer.unref();
        child.once('exit', () => clearTimeout(timer));
      });
    });

    child.on('error', (error: NodeJS.ErrnoException) => {
      // After a successful spawn an 'error' only means a kill() failed; 'exit' still comes.
      if (child.pid !== undefined || settled) return;
      settled = true;
      cleanup();
      reject(spawnFailure(cmd, opts.cwd, error));
    });

    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      cleanup();
      void spawnTask.then(() => {
        if (spawnError !== null) {
          reject(spawnError);
          return;
        }
        const number = signal === null ? 0 : (constants.signals[signal] ?? 0);
        resolve({ code, signal, exitCode: code ?? SIGNAL_EXIT_BASE + number, pid: child.pid! });
      });
    });
  });
}

function spawnFailure(cmd: string, cwd: string | undefined, error: NodeJS.ErrnoException): Error {
  if (error.code === 'ENOENT' && cwd !== undefined && !isDirectory(cwd)) {
    return new UsageError(`directory not found: ${cwd}; cannot run ${cmd} there`, { command: cmd, cwd });
  }
  if (error.code === 'ENOENT') {
    return new UsageError(`command not found: ${cmd}; check the name, or that its directory is on PATH`, {
      command: cmd,
      shellStatus: COMMAND_NOT_FOUND_STATUS,
    });
  }
  if (error.code === 'EACCES' || error.code === 'EISDIR') {
    return new UsageError(`not executable: ${cmd}; check its permissions (chmod +x) or run it through its interpreter`, {
      command: cmd,
      shellStatus: COMMAND_NOT_EXECUTABLE_STATUS,
    });
  }
  return error;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // Missing or unreadable: either way the child cannot start there.
    return false;
  }
}
