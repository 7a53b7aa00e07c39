/**
 * Launch test harness: a project with its own berth.yaml, state directory, store and
 * ports; `berth up` run as a user runs it (in its own process group, like a terminal job);
 * and the truth about what is left: every process carrying this project's launch marker,
 * and whether its ports are free. Each test owns its scope (a random project name), so it
 * only ever sees and kills its own processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BERTH_BIN, ROOT, berth, cliEnv, tempDir, type CliResult } from '../helpers/cli.js';
export { freePort, portFree } from '../helpers/ports.js';
import { freePort } from '../helpers/ports.js';

/** The fixture service every launch test runs. */
export const SVC = path.join(ROOT, 'test', 'fixtures', 'launch', 'svc.mjs');


/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then fails with `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One project and its `berth up`. */
export class Stack {
  readonly dir: string;
  readonly state: string;
  readonly scope = `lt-${randomBytes(4).toString('hex')}`;
  up: ChildProcess | null = null;
  out = '';
  /** Variables of the "calling shell" beside the state directory (cliEnv drops the test's own BERTH_*). */
  shell: Record<string, string> = {};
  private readonly cleanupDir: () => void;

  constructor(yamlServices: string) {
    const t = tempDir('berth-launch-');
    this.dir = t.dir;
    this.cleanupDir = t.cleanup;
    this.state = path.join(this.dir, 'state');
    fs.writeFileSync(path.join(this.dir, 'berth.yaml'), `project: ${this.scope}\nservices:\n${yamlServices}`);
  }

  env(): NodeJS.ProcessEnv {
    return { ...this.shell, BERTH_STATE_DIR: this.state, BERTH_DB: path.join(this.state, 'berth.db') };
  }

  /** Runs the built CLI in the project. */
  run(args: readonly string[], timeoutMs = 60_000): CliResult {
    return berth(args, { cwd: this.dir, env: this.env(), timeoutMs });
  }

  /** Starts `berth up ARGS` in its own process group; output collects in `out`. */
  start(args: readonly string[] = []): ChildProcess {
    const child = spawn(process.execPath, [BERTH_BIN, 'up', ...args], { cwd: this.dir, env: cliEnv({ env: this.env() }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (this.out += d));
    child.stderr!.on('data', (d) => (this.out += d));
    this.up = child;
    return child;
  }

  /** Resolves with the exit code of `berth up`. */
  exited(timeoutMs = 60_000): Promise<number | null> {
    const child = this.up!;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`berth up did not exit within ${timeoutMs} ms:\n${this.out}`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** `berth ps --json`, or [] before the stack record exists. */
  ps(): PsRow[] {
    const res = this.run(['ps', '--json']);
    return res.code === 0 ? (JSON.parse(res.stdout) as PsRow[]) : [];
  }

  /** The row of one service. */
  service(name: string): PsRow | undefined {
    return this.ps().find((s) => s.name === name);
  }

  /** Waits until every named service is in one of `states`. */
  async waitStates(names: readonly string[], states: readonly string[], timeoutMs = 60_000): Promise<PsRow[]> {
    let rows: PsRow[] = [];
    try {
      return await waitFor(`${names.join(', ')} to be ${states.join(' or ')}`, () => {
        rows = this.ps();
        return names.every((n) => states.includes(rows.find((r) => r.name === n)?.state ?? '')) ? rows : null;
      }, timeoutMs);
    } catch (error) {
      // What the stack was doing when the wait ran out: its states and berth up's output so far.
      throw new Error(`${(error as Error).message}\nlast ps: ${JSON.stringify(rows.map((r) => [r.name, r.state, r.reason]))}\nberth up said:\n${this.out}`);
    }
  }

  /** Every live process launched for this project (its marker in the environment). */
  processes(): number[] {
    const mark = `BERTH_LAUNCH_ID=${this.scope}/`;
    const found: number[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        if (/\) [ZX] /.test(stat)) continue;
        if (fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').some((e) => e.startsWith(mark))) found.push(Number(name));
      } catch {
        // Exited between the listing and the read, or another user's: not ours.
      }
    }
    return found;
  }

  /** Stops everything this test started, whatever state the test left it in. */
  async cleanup(): Promise<void> {
    if (this.up !== null && this.up.exitCode === null && this.up.signalCode === null) {
      try {
        process.kill(-this.up.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.run(['down']);
    // A foreground up starts this state directory's daemon: it goes too, by its lockfile's pid
    // when a polite stop did not work (and only when that pid's state directory is this one).
    this.run(['daemon', 'stop']);
    try {
      const pid = (JSON.parse(fs.readFileSync(path.join(this.state, 'daemon.json'), 'utf8')) as { pid: number }).pid;
      if (fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`BERTH_STATE_DIR=${this.state}`)) process.kill(pid, 'SIGKILL');
    } catch {
      // No lockfile, or its daemon is gone.
    }
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    this.cleanupDir();
  }
}

/** One row of `berth ps --json`. */
export interface PsRow {
  readonly name: string;
  readonly state: string;
  readonly reason: string | null;
  readonly pid: number | null;
  readonly pids: number[];
  readonly restarts: number;
  readonly ports: { port: number; listening: boolean; stranger: string | null }[];
}

/** The fixture that prints a line per request on its port (and BERTH_TEST_MARK at start). */
export const CHATTY = path.join(ROOT, 'test', 'fixtures', 'launch', 'chatty.mjs');

/** A berth.yaml service entry running the chatty fixture on a fixed port, healthy once it listens. */
export function chatty(name: string, port: number, extra = ''): string {
  return `  ${name}:\n    port: ${port}\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(CHATTY)}]\n    health: {tcp: true}\n${extra
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `    ${l}\n`)
    .join('')}`;
}

/** GETs `http://127.0.0.1:PORT/path` (makes a chatty service print `hit /path`). */
export function hit(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** One frame of an event stream. */
export interface Frame {
  readonly event: string;
  readonly data: unknown;
}

/**
 * Opens an event stream on the stack's daemon (unix socket, its token): frames collect in
 * `frames`; `ended` resolves with the status when the daemon ends the stream.
 */
export function openStream(stack: Stack, method: string, url: string, body?: unknown): { frames: Frame[]; status: Promise<number>; ended: Promise<void>; close: () => void } {
  const token = fs.readFileSync(path.join(stack.state, 'api-token'), 'utf8').trim();
  const frames: Frame[] = [];
  let setStatus: (s: number) => void = () => undefined;
  let setEnded: () => void = () => undefined;
  const status = new Promise<number>((r) => (setStatus = r));
  const ended = new Promise<void>((r) => (setEnded = r));
  const req = http.request({ socketPath: path.join(stack.state, 'berth.sock'), method, path: url, headers: { Authorization: `Bearer ${token}`, Host: 'localhost', 'Content-Type': 'application/json' } }, (res) => {
    setStatus(res.statusCode ?? 0);
    let buffer = '';
    res.on('data', (d) => {
      buffer += d;
      const parts = buffer.split('\n\n');
      buffer = parts.pop() ?? '';
      for (const f of parts) {
        const event = /^event: (.*)$/m.exec(f)?.[1];
        const data = /^data: (.*)$/m.exec(f)?.[1];
        if (event !== undefined && data !== undefined) frames.push({ event, data: JSON.parse(data) });
      }
    });
    res.on('close', setEnded);
  });
  req.on('error', () => setEnded());
  req.end(body === undefined ? undefined : JSON.stringify(body));
  return { frames, status, ended, close: () => req.destroy() };
}

/** A berth.yaml service entry running the fixture with `env` on a fixed port. */
export function fixture(name: string, port: number, extra: string, env: Record<string, string | number> = {}): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}: "${v}"`).join(', ');
  return `  ${name}:\n    port: ${port}\n    http: true\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(SVC)}]\n    environment: {${vars}}\n${extra
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `    ${l}\n`)
    .join('')}`;
}
