/**
 * The launchers the issue compares berth with (pm2, foreman `nf`, concurrently + wait-on,
 * supervisor), each configured as a user would for the issue's stack (db ready after 1 s,
 * api with a child worker that holds api's port, web), in its own temp directory.
 * Every process a peer starts carries BENCH_LAUNCH_MARK=<mark> in its environment, so the
 * bench finds the stack (and the tool) from /proc and kills exactly those pids at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
export const SVC = path.join(ROOT, 'test', 'fixtures', 'launch', 'svc.mjs');
const MARK_VAR = 'BENCH_LAUNCH_MARK';

/** A process of a peer's stack (a fixture service), found from /proc. */
export interface StackProc {
  readonly pid: number;
  readonly svc: string;
  readonly role: 'root' | 'worker';
}

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every live process carrying the mark: the tool's own and the stack's. */
export function markedPids(mark: string): { pid: number; env: string[] }[] {
  const found: { pid: number; env: string[] }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || !alive(Number(name))) continue;
    try {
      const env = fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (env.includes(`${MARK_VAR}=${mark}`)) found.push({ pid: Number(name), env });
    } catch {
      // Exited meanwhile, or not ours to read.
    }
  }
  return found;
}

/** The fixture's node processes (not the shells or wait-on around them). */
export function stackProcs(mark: string): StackProc[] {
  const procs: StackProc[] = [];
  for (const { pid, env } of markedPids(mark)) {
    const svc = env.find((e) => e.startsWith('FX_SVC='))?.slice(7);
    try {
      // FX_SVC is set by `env` (exec'd into node) or by the tool for the service itself, so
      // shells and wait-on never carry it; `env` for the instant before its exec is skipped.
      // (comm is not checked: pm2 renames its node processes.)
      if (svc === undefined || fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'env') continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      procs.push({ pid, svc, role: argv.includes('worker') ? 'worker' : 'root' });
    } catch {
      // Exited meanwhile.
    }
  }
  return procs;
}

export function pidAlive(pid: number | undefined): boolean {
  return pid !== undefined && alive(pid);
}

interface Svc {
  readonly name: 'db' | 'api' | 'web';
  readonly env: Record<string, string>;
  /** The port of the dependency a user would make it wait for. */
  readonly after?: number;
}

/** The issue's stack on three ports, as the environment each service needs. */
function services(ports: readonly number[]): Svc[] {
  const [db, api, web] = ports as [number, number, number];
  return [
    { name: 'db', env: { FX_SVC: 'db', PORT: `${db}`, FX_READY_DELAY_MS: '1000' } },
    { name: 'api', env: { FX_SVC: 'api', PORT: `${api}`, FX_NEEDS: 'DB_URL', DB_URL: `http://127.0.0.1:${db}/`, FX_WORKER: '1' }, after: db },
    { name: 'web', env: { FX_SVC: 'web', PORT: `${web}`, FX_NEEDS: 'API_URL', API_URL: `http://127.0.0.1:${api}/` }, after: api },
  ];
}

/** Shell-quotes only when needed: concurrently strips quotes at the ends of a command. */
function sh(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `[wait-on ... &&] exec env K=V ... node svc.mjs`, for tools that run a shell command line. */
function commandLine(svc: Svc, waitOn: boolean): string {
  const wait = waitOn && svc.after !== undefined ? `${sh(path.join(BIN, 'wait-on'))} -t 30000 http-get://127.0.0.1:${svc.after}/ && ` : '';
  return wait + ['exec', 'env', ...Object.entries(svc.env).map(([k, v]) => sh(`${k}=${v}`)), sh(process.execPath), sh(SVC)].join(' ');
}

/** A stop command of the tool's own, as a user types it. */
export interface StopCommand {
  readonly label: string;
  readonly file: string;
  readonly args: readonly string[];
}

/** One peer launching one stack. */
export abstract class PeerTool {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-peer-'));
  readonly mark = `${this.constructor.name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  protected tool: ChildProcess | null = null;
  protected out = '';

  /**
   * Whether the stop scenarios give this tool wait-on before each dependent: a tool that
   * never brings the fragile stack up as configured has nothing to stop otherwise.
   */
  static readonly waitOnForStops: boolean = false;

  /** waitOn: wait-on before each dependent (for tools that take shell command lines). */
  constructor(
    readonly ports: readonly number[],
    readonly waitOn = false,
  ) {}

  /** Why this peer cannot run here, or null. */
  static missing(): string | null {
    return null;
  }

  abstract start(): void;

  /** The pid an IDE stop button or a CI timeout would signal. */
  toolPid(): number | undefined {
    return this.tool?.pid;
  }

  /** The process group a terminal would signal: the job the user started (Ctrl-C, closing the terminal). */
  jobGroup(): number | undefined {
    return this.tool?.pid;
  }

  /** The tool's own stop commands, run in the tool's directory; none for tools that have none. */
  static readonly stopCommands: readonly StopCommand[] = [];

  /** Runs a stop command in a group of its own, marked, so cleanup() ends it if it hangs. */
  runStop(cmd: StopCommand): void {
    const child = spawn(cmd.file, [...cmd.args], { cwd: this.dir, env: this.stopEnv(), detached: true, stdio: 'ignore' });
    child.on('error', (e) => (this.out += `\n${cmd.label}: ${e.message}\n`));
    child.unref();
  }

  protected stopEnv(): NodeJS.ProcessEnv {
    return this.env();
  }

  /** Everything the tool and the stack printed. */
  logs(): string {
    return this.out;
  }

  protected svcs(): Svc[] {
    return services(this.ports);
  }

  protected env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(BERTH_|PM2_|PORT$|FX_)/.test(k)) env[k] = v;
    return { ...env, ...extra, [MARK_VAR]: this.mark };
  }

  protected launch(cmd: string, args: readonly string[], env = this.env()): void {
    this.tool = spawn(cmd, args, { cwd: this.dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.tool.stdout!.on('data', (d) => (this.out += d));
    this.tool.stderr!.on('data', (d) => (this.out += d));
    this.tool.on('error', (e) => (this.out += `\n${e.message}\n`));
  }

  /** Kills the tool's group and every marked pid (ours alone), then removes the directory. */
  async cleanup(): Promise<void> {
    try {
      if (this.tool?.pid !== undefined) process.kill(-this.tool.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    for (let round = 0; round < 20 && markedPids(this.mark).length > 0; round += 1) {
      for (const { pid } of markedPids(this.mark)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** pm2 with an ecosystem file; its daemon lives in a PM2_HOME of its own. */
export class Pm2 extends PeerTool {
  static readonly label = 'pm2';
  private readonly home = path.join(this.dir, 'pm2');

  start(): void {
    const apps = this.svcs().map((s) => ({ name: s.name, script: SVC, interpreter: process.execPath, env: s.env, autorestart: true }));
    const eco = path.join(this.dir, 'ecosystem.config.cjs');
    fs.writeFileSync(eco, `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`);
    this.launch(path.join(BIN, 'pm2'), ['start', eco], this.env({ PM2_HOME: this.home }));
  }

  static override readonly stopCommands: readonly StopCommand[] = [
    { label: 'pm2 stop all', file: path.join(BIN, 'pm2'), args: ['stop', 'all'] },
    { label: 'pm2 kill', file: path.join(BIN, 'pm2'), args: ['kill'] },
  ];

  protected override stopEnv(): NodeJS.ProcessEnv {
    return this.env({ PM2_HOME: this.home });
  }

  /** The daemon (God) process, not the `pm2 start` client that exits. */
  override toolPid(): number | undefined {
    try {
      return Number(fs.readFileSync(path.join(this.home, 'pm2.pid'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  override logs(): string {
    const dir = path.join(this.home, 'logs');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    return this.out + files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  }

  override async cleanup(): Promise<void> {
    // pm2 kill stops the daemon of this PM2_HOME only; the marked-pid sweep catches the rest.
    spawnSync(path.join(BIN, 'pm2'), ['kill'], { env: this.stopEnv(), stdio: 'ignore', timeout: 15_000 });
    await super.cleanup();
  }
}

/** foreman (`nf start`) with a Procfile. */
export class Foreman extends PeerTool {
  static readonly label = 'foreman (nf)';
  // nf ends the whole stack when api exits EARLY, so as configured it never comes up.
  static override readonly waitOnForStops = true;

  start(): void {
    fs.writeFileSync(path.join(this.dir, 'Procfile'), this.svcs().map((s) => `${s.name}: ${commandLine(s, this.waitOn)}\n`).join(''));
    this.launch(path.join(BIN, 'nf'), ['start', '-j', 'Procfile']);
  }
}

/** concurrently, restarting crashed commands, with wait-on for each dependency. */
export class Concurrently extends PeerTool {
  static readonly label = 'concurrently + wait-on';

  start(): void {
    const cmds = this.svcs().map((s) => commandLine(s, true));
    this.launch(path.join(BIN, 'concurrently'), ['--names', 'db,api,web', '--restart-tries', '-1', '--restart-after', '100', ...cmds]);
  }
}

/** supervisord in the foreground with a config, socket, pidfile and logs in a temp dir. */
export class Supervisor extends PeerTool {
  static readonly label = 'supervisor';
  static override readonly stopCommands: readonly StopCommand[] = [
    { label: 'supervisorctl stop all', file: 'supervisorctl', args: ['-c', 'supervisord.conf', 'stop', 'all'] },
    { label: 'supervisorctl shutdown', file: 'supervisorctl', args: ['-c', 'supervisord.conf', 'shutdown'] },
  ];

  static override missing(): string | null {
    return spawnSync('supervisord', ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'supervisord is not installed (Debian: apt-get install -y supervisor)';
  }

  start(): void {
    const d = this.dir;
    const program = (s: Svc, priority: number): string =>
      [
        `[program:${s.name}]`,
        `command=${process.execPath} ${SVC}`,
        `environment=${Object.entries(s.env).map(([k, v]) => `${k}="${v}"`).join(',')}`,
        `priority=${priority}`,
        'autorestart=true',
        // The issue's note: orphans remained "even with killasgroup".
        'killasgroup=true',
        `stdout_logfile=${d}/${s.name}.log`,
        'redirect_stderr=true',
        '',
      ].join('\n');
    const conf = [
      '[supervisord]',
      'nodaemon=true',
      `logfile=${d}/supervisord.log`,
      `pidfile=${d}/supervisord.pid`,
      `childlogdir=${d}`,
      '[unix_http_server]',
      `file=${d}/supervisor.sock`,
      '[supervisorctl]',
      `serverurl=unix://${d}/supervisor.sock`,
      '[rpcinterface:supervisor]',
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      '',
      ...this.svcs().map((s, i) => program(s, (i + 1) * 10)),
    ].join('\n');
    fs.writeFileSync(path.join(d, 'supervisord.conf'), conf);
    this.launch('supervisord', ['-n', '-c', path.join(d, 'supervisord.conf')]);
  }

  override logs(): string {
    return this.out + fs.readdirSync(this.dir).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(this.dir, f), 'utf8')).join('\n');
  }
}

export const PEERS = [Pm2, Foreman, Concurrently, Supervisor] as const;
