/**
 * Runs an external command (lsof, ps) with a time limit and returns what it printed.
 * The only place in os/ that spawns programs.
 */
import { execFile, execFileSync } from 'node:child_process';

/** Longest any helper command may run before it is killed. */
export const COMMAND_TIMEOUT_MS = 5000;
/** Largest output accepted from a helper command. */
const COMMAND_MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/** What a finished command printed and how it exited. */
export interface CommandOutput {
  /** Exit code; null when killed by a signal (the time limit, for one). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `file args` without a shell. Resolves with the output whatever the exit code;
 * rejects only when the program cannot be started (ENOENT: not installed).
 */
export function runCommand(file: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: COMMAND_MAX_BUFFER_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code === 'string') {
        reject(error);
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Synchronous {@link runCommand}, for the few sync entry points (processInfo on macOS). Null when it fails to start. */
export function runCommandSync(file: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): CommandOutput | null {
  try {
    const stdout = execFileSync(file, args, { timeout: timeoutMs, maxBuffer: COMMAND_MAX_BUFFER_BYTES, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failure = error as { status?: number | null; stdout?: string | null; stderr?: string | null };
    // No output at all means the program never ran (ENOENT: not installed).
    if (typeof failure.stdout !== 'string') return null;
    return { code: failure.status ?? null, stdout: failure.stdout, stderr: failure.stderr ?? '' };
  }
}
