/**
 * Test helpers: temp directories and the built CLI run as a user runs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from build/test/...). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The `berth` command as installed: bin/berth.js. */
export const BERTH_BIN = path.join(ROOT, 'bin', 'berth.js');

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'berth-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** What one CLI run printed and how it exited. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for {@link berth}. */
export interface CliOptions {
  readonly cwd?: string;
  readonly db?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** The environment a test's CLI runs in: no BERTH_* from the outer shell. */
export function cliEnv(opts: CliOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BERTH_')) env[k] = v;
  if (opts.db) env.BERTH_DB = opts.db;
  return { ...env, ...opts.env };
}

/** Runs the built CLI synchronously. */
export function berth(args: readonly string[], opts: CliOptions = {}): CliResult {
  const res = spawnSync(process.execPath, [BERTH_BIN, ...args], {
    cwd: opts.cwd,
    env: cliEnv(opts),
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Runs the built CLI asynchronously (for concurrent runs). */
export function berthAsync(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BERTH_BIN, ...args], { cwd: opts.cwd, env: cliEnv(opts) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses stdout of a `--json` run, failing with the output when it is not JSON. */
export function json<T = unknown>(res: CliResult): T {
  try {
    return JSON.parse(res.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${res.code}).\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  }
}

/**
 * Every scope and lease in the store at `db`, as comparable text (the export time left
 * out): take it before and after a refused command to prove nothing changed.
 */
export function storeState(db: string, cwd?: string): string {
  const res = berth(['export'], { cwd, db });
  if (res.code !== 0) throw new Error(`berth export failed (exit ${res.code}): ${res.stderr}`);
  const snap = JSON.parse(res.stdout) as Record<string, unknown>;
  delete snap.exportedAt;
  return JSON.stringify(snap);
}
