/**
 * One supervised service: spawns its command in a process group of its own, tracks every
 * process of its tree (also those that leave the group or daemonise), checks its health
 * and who holds its port, restarts it after a crash only once the whole tree is gone and
 * its port is free, and stops it whole. Crashes are seen from the root's exit (waitpid),
 * never from a closed pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHECK_HISTORY, type ServiceCheck, type ServiceExit, type ServiceState, type ServiceStatus, type StopProblem } from '../engine/index.js';
import { killProcesses, processIdentity, serviceMembers, type ProcessRow } from '../os/index.js';
import type { Listener } from '../types.js';
import { afterEnd, describeEnd, type EndedWith } from './backoff.js';
import { holding, ownership, probe, type Ownership } from './health.js';
import type { RunnerSpec } from './spec.js';
import type { LogSink } from './log-sink.js';
import type { RecordedService } from './stack-file.js';

/** How long a stop or a crash waits for the service's port to be free once its processes are gone. */
export const PORT_FREE_WAIT_MS = 5000;
/** Output of a starting service brings its next check forward, at most once per this many ms. */
export const OUTPUT_CHECK_GAP_MS = 20;
/** The variable whose value marks every process of one launch of one service. */
export const MARKER_VAR = 'BERTH_LAUNCH_ID';

/** What a runner needs from its supervisor. */
export interface RunnerHost {
  readonly scope: string;
  /** Every process holding `port` (engine reality). */
  holders(port: number): Promise<readonly Listener[]>;
  isPortFree(port: number): Promise<boolean>;
  /** Hands the service's ephemeral lease from pid `from` to pid `to`. */
  handLease(name: string, from: number, to: number): Promise<void>;
  /** Called after every change of state (and of pids). */
  changed(runner: ServiceRunner, previous: ServiceState): void;
  /** Called after a check that changed no state, for its history. */
  checked(runner: ServiceRunner): void;
}

export type { StopProblem };

/** One service's life. */
export class ServiceRunner {
  state: ServiceState;
  reason: string | null = null;
  restarts = 0;
  /** Restarts in a row since the last healthy stretch of reset_after: what max_restarts counts. */
  private consecutive = 0;
  private child: ChildProcess | null = null;
  private rootPid: number | null = null;
  private rootExited: Promise<void> = Promise.resolve();
  private readonly tracked = new Map<number, string | null>();
  private marker: string | null = null;
  private startedAt: number | null = null;
  private lastExit: ServiceExit | null = null;
  private stopRequested = false;
  private daemonised = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private logMatched = false;
  private healthySince: number | null = null;
  /** Per port (its own and its leases'): whether its tree listens there, and who else does. */
  private held = new Map<number, Ownership>();
  /** Who owns the service's ephemeral lease: the supervisor's pid while no process of the service runs. */
  leaseOwner = process.pid;
  /** When the last failed check was counted: fast checks while starting count once per interval. */
  private lastCounted = 0;
  /** The last CHECK_HISTORY health checks, oldest first (kept across restarts: a crash loop shows). */
  private readonly checks: ServiceCheck[] = [];
  /** Counts state changes, so a check that changed nothing still gets its history recorded. */
  private changes = 0;
  /** When the last check began, and when the next one is due. */
  private checkBegan = 0;
  private checkDue = 0;

  constructor(
    readonly spec: RunnerSpec,
    private readonly host: RunnerHost,
    readonly sink: LogSink,
  ) {
    this.state = spec.launch.enabled ? 'pending' : 'disabled';
  }

  get name(): string {
    return this.spec.name;
  }

  /** Live pids of the tree, the root first. */
  pids(): number[] {
    const live = [...this.tracked.keys()];
    return this.rootPid !== null && live.includes(this.rootPid) ? [this.rootPid, ...live.filter((p) => p !== this.rootPid)] : live;
  }

  private set(state: ServiceState, reason: string | null = null): void {
    const previous = this.state;
    this.state = state;
    this.reason = reason;
    this.changes += 1;
    if (state !== previous || reason !== null) this.sink.write('berth', `${state}${reason === null ? '' : `: ${reason}`}`);
    this.host.changed(this, previous);
  }

  /** Marks the service as not started, with why (a dependency failed, a stranger holds its port). */
  fail(reason: string): void {
    this.set('failed', reason);
  }

  /** Spawns the command. The state becomes `starting`; health checks begin. */
  start(): void {
    this.stopRequested = false;
    this.daemonised = false;
    this.logMatched = false;
    this.failures = 0;
    this.lastCounted = Date.now();
    this.healthySince = null;
    this.tracked.clear();
    this.marker = `${MARKER_VAR}=${this.host.scope}/${this.name}/${randomBytes(8).toString('hex')}`;
    const eq = this.marker.indexOf('=');
    const env = { ...this.spec.env, [this.marker.slice(0, eq)]: this.marker.slice(eq + 1) };
    let child: ChildProcess;
    try {
      // detached: a process group of its own, so a terminal's Ctrl-C reaches berth alone and
      // berth stops the stack in order; the group is what a stop signals.
      child = spawn(this.spec.file, [...this.spec.args], { cwd: this.spec.launch.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      this.set('failed', `cannot run ${this.spec.file}: ${(error as Error).message}`);
      return;
    }
    this.child = child;
    const out = this.sink.splitter('out');
    const err = this.sink.splitter('err');
    child.stdout!.on('data', (c: Buffer) => this.onOutput(out, c));
    child.stderr!.on('data', (c: Buffer) => this.onOutput(err, c));
    // 'close' waits for every holder of the pipes; a grandchild may keep them open forever.
    // The crash is the root's exit, so only 'exit' counts.
    this.rootExited = new Promise((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) {
          this.set('failed', `cannot run ${this.spec.file}: ${error.code === 'ENOENT' ? 'command not found (or cwd missing)' : error.message}`);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        out.end();
        err.end();
        resolve();
        void this.onRootExit({ code, signal });
      });
    });
    if (child.pid === undefined) return;
    this.rootPid = child.pid;
    this.tracked.set(child.pid, processIdentity(child.pid));
    this.startedAt = Date.now();
    this.set(this.spec.launch.health === null ? 'running' : 'starting');
    void this.host.handLease(this.name, this.leaseOwner, child.pid).then(() => (this.leaseOwner = child.pid!), (e: Error) => this.sink.write('berth', `lease not handed to pid ${child.pid}: ${e.message}`));
    this.scheduleHealth(0);
  }

  private onOutput(split: { push(chunk: Buffer): void }, chunk: Buffer): void {
    split.push(chunk);
    const h = this.spec.launch.health;
    if (h?.kind === 'log' && !this.logMatched) {
      const re = new RegExp(h.target);
      this.logMatched = this.sink.ring.slice(-50).some((l) => l.stream !== 'berth' && re.test(l.text));
    }
    // Servers say when they listen: until the first pass, output brings the next check
    // forward (unless one runs now), so a dependent need not wait out start_interval; a
    // chatty start gets at most one check per OUTPUT_CHECK_GAP_MS, never a busy loop.
    if (h !== null && this.healthySince === null && this.healthTimer !== null && (this.state === 'starting' || this.state === 'unhealthy')) {
      const at = Math.max(Date.now(), this.checkBegan + OUTPUT_CHECK_GAP_MS);
      if (at < this.checkDue) this.scheduleHealth(at - Date.now());
    }
  }

  /** Adds the tree's new processes (from a fresh process table) and drops the gone ones. */
  refresh(table: ReadonlyMap<number, ProcessRow>): void {
    if (this.tracked.size === 0) return;
    const before = this.tracked.size;
    for (const pid of [...this.tracked.keys()]) if (!table.has(pid) || processIdentity(pid) !== this.tracked.get(pid)) this.tracked.delete(pid);
    for (const pid of serviceMembers({ pids: [...this.tracked.keys()], pgid: this.rootPid, marker: null }, table)) {
      if (!this.tracked.has(pid)) this.tracked.set(pid, processIdentity(pid));
    }
    if (this.tracked.size !== before) this.host.changed(this, this.state);
    // A daemonised service ends when the last process of its tree is gone.
    if (this.daemonised && this.tracked.size === 0 && !this.stopRequested) {
      this.daemonised = false;
      void this.afterEnd({ code: null, signal: null }, 'its last process is gone');
    }
  }

  private scheduleHealth(delayMs: number): void {
    if (this.healthTimer !== null) clearTimeout(this.healthTimer);
    this.checkDue = Date.now() + delayMs;
    this.healthTimer = setTimeout(() => void this.checkHealth(), delayMs);
    this.healthTimer.unref();
  }

  /** One round: the check, then who holds the port. Reschedules itself while the service runs. */
  private async checkHealth(): Promise<void> {
    this.healthTimer = null;
    if (!['starting', 'running', 'healthy', 'unhealthy'].includes(this.state) || this.stopRequested) return;
    const health = this.spec.launch.health;
    const began = (this.checkBegan = Date.now());
    const port = this.spec.healthPort;
    const result = health === null ? { ok: true, detail: 'no health check' } : await probe(health, { port, env: this.spec.env, cwd: this.spec.launch.cwd, logMatched: this.logMatched });
    // Who holds the checked port is looked at when a check passes (a pass only counts when
    // our tree answers) and for services without one; a failing check cannot be a stranger
    // answering. The service's other ports are looked at every round: a stranger there is
    // never the service's.
    const tree = { pids: [...this.tracked.keys()], pgid: this.rootPid, marker: this.marker };
    const held = new Map<number, Ownership>();
    for (const p of this.spec.ports) held.set(p.port, p.port !== port || result.ok ? await holding(p.port, tree, (x) => this.host.holders(x)) : { own: false, strangers: [] });
    this.held = held;
    const who = held.get(port)!;
    if (!['starting', 'running', 'healthy', 'unhealthy'].includes(this.state) || this.stopRequested) return;
    const needsPort = health === null || health.kind === 'http' || health.kind === 'tcp';
    let ok = result.ok;
    let why = result.detail;
    const taken = this.spec.ports.find((p) => held.get(p.port)!.strangers.length > 0);
    if (taken !== undefined) {
      ok = false;
      why = `port ${taken.port}${taken.name === this.name ? '' : ` (${taken.name})`} is answered by ${held.get(taken.port)!.strangers.join(', ')}, not by ${this.name}`;
    } else if (ok && health !== null && needsPort && !who.own) {
      ok = false;
      why = `${result.detail}, but no process of ${this.name} listens on port ${port}`;
    }
    if (health === null) {
      if (taken !== undefined && this.reason !== why) this.set('running', why);
      else if (taken === undefined && this.reason !== null) this.set('running');
      this.noteStretch();
      this.scheduleHealth(1000);
      return;
    }
    const now = Date.now();
    const changes = this.changes;
    this.checks.push({ at: new Date(began).toISOString(), ok, detail: why, durationMs: now - began });
    if (this.checks.length > CHECK_HISTORY) this.checks.splice(0, this.checks.length - CHECK_HISTORY);
    if (ok) {
      this.failures = 0;
      if (this.state !== 'healthy') this.set('healthy');
      this.noteStretch();
    } else if (taken !== undefined) {
      // Someone else answers on the port: said at once, whatever the start period or retries.
      if (this.state !== 'unhealthy' || this.reason !== why) this.set('unhealthy', why);
    } else if (this.state === 'starting' && now - (this.startedAt ?? now) < health.startPeriodMs) {
      // Failures in the start period do not count.
    } else if (this.healthySince === null && now - this.lastCounted < health.intervalMs) {
      // The quick checks of a start count at the configured interval, not at every probe.
    } else if (this.state === 'starting' || this.state === 'healthy' || this.state === 'unhealthy') {
      this.failures += 1;
      this.lastCounted = now;
      if (this.failures >= health.retries && this.state !== 'unhealthy') this.set('unhealthy', why);
      else if (this.state === 'unhealthy' && this.reason !== why) this.set('unhealthy', why);
    }
    // No state change recorded the status: the check history still is (ps, the API).
    if (this.changes === changes) this.host.checked(this);
    // Until the first pass of this start, quick probes (a start that went unhealthy too).
    this.scheduleHealth(this.healthySince === null ? Math.min(health.startIntervalMs, health.intervalMs) : health.intervalMs);
  }

  /** Running (or healthy) for reset_after clears the count max_restarts looks at. */
  private noteStretch(): void {
    const now = Date.now();
    this.healthySince ??= now;
    if (this.consecutive > 0 && now - this.healthySince >= this.spec.launch.restart.resetAfterMs) this.consecutive = 0;
  }

  private async onRootExit(end: EndedWith): Promise<void> {
    this.lastExit = { code: end.code, signal: end.signal, at: new Date().toISOString() };
    this.child = null;
    if (this.stopRequested) return;
    this.tracked.delete(this.rootPid!);
    const left = serviceMembers({ pids: [...this.tracked.keys()], pgid: this.rootPid, marker: this.marker });
    if (end.code === 0 && end.signal === null && left.length > 0) {
      // A self-daemonising service: its root returned 0 and left its server running.
      // Supervise what it left until the last process is gone.
      this.daemonised = true;
      for (const pid of left) if (!this.tracked.has(pid)) this.tracked.set(pid, processIdentity(pid));
      this.sink.write('berth', `root pid ${this.rootPid} exited 0 leaving pid ${left.join(', ')}: supervising those`);
      void this.host.handLease(this.name, this.leaseOwner, left[0]!).then(() => (this.leaseOwner = left[0]!), () => undefined);
      this.host.changed(this, this.state);
      return;
    }
    await this.afterEnd(end, describeEnd(end));
  }

  /** After the service ended on its own: clear what is left, then restart, complete or fail. */
  private async afterEnd(end: EndedWith, how: string): Promise<void> {
    if (this.healthTimer !== null) clearTimeout(this.healthTimer);
    const problem = await this.clearTree(this.spec.launch.stop.signal, this.spec.launch.stop.graceMs);
    await this.host.handLease(this.name, this.leaseOwner, process.pid).then(() => (this.leaseOwner = process.pid), () => undefined);
    if (this.stopRequested) return;
    if (problem !== null) {
      this.set('failed', `${how}; then ${problem}`);
      return;
    }
    const decision = afterEnd(this.spec.launch.restart, end, this.consecutive);
    if (decision.kind === 'completed') this.set('completed', how);
    else if (decision.kind === 'failed') this.set('failed', decision.reason);
    else {
      this.consecutive += 1;
      this.restarts += 1;
      this.set('restarting', `${how}; restart ${this.restarts} in ${decision.delayMs} ms`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (!this.stopRequested) this.start();
      }, decision.delayMs);
    }
  }

  /**
   * Ends every process of the tree (signal, then SIGKILL after `graceMs`; pids checked
   * against their start time before each signal), then waits for its ports to be free.
   * Returns null when nothing is left, else what still holds what.
   */
  private async clearTree(signal: NodeJS.Signals, graceMs: number): Promise<string | null> {
    for (let round = 0; round < 3; round += 1) {
      const members = serviceMembers({ pids: [...this.tracked.keys(), ...(this.rootPid === null ? [] : [this.rootPid])], pgid: this.rootPid, marker: this.marker });
      if (members.length === 0) break;
      const expect = new Map([...this.tracked].filter((e): e is [number, string] => e[1] !== null));
      await killProcesses(members, { signal: round === 0 ? signal : 'SIGKILL', graceMs: round === 0 ? graceMs : 0, expect });
      for (const pid of members) this.tracked.delete(pid);
    }
    // Unref'd: a timer left over once the root has exited must not keep berth up alive for a second.
    await Promise.race([this.rootExited, sleep(1000, undefined, { ref: false })]);
    this.tracked.clear();
    // Every port of the service, one deadline for all.
    const deadline = Date.now() + PORT_FREE_WAIT_MS;
    for (const { port } of this.spec.ports) {
      while (!(await this.host.isPortFree(port))) {
        if (Date.now() > deadline) {
          const holders = await this.host.holders(port).catch(() => []);
          const names = ownership(holders, new Set()).strangers;
          return `port ${port} is still held${names.length > 0 ? ` by ${names.join(', ')}` : ''}`;
        }
        await sleep(25);
      }
    }
    return null;
  }

  /** Stops the service whole. Resolves with a problem when a process or its port is left. */
  async stop(): Promise<StopProblem | null> {
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.healthTimer !== null) clearTimeout(this.healthTimer);
    const wasLive = this.tracked.size > 0 || this.child !== null;
    this.stopRequested = true;
    if (!wasLive) {
      if (!['failed', 'completed', 'disabled'].includes(this.state)) this.set('stopped');
      return null;
    }
    this.set('stopping');
    const problem = await this.clearTree(this.spec.launch.stop.signal, this.spec.launch.stop.graceMs);
    this.held = new Map();
    this.set(problem === null ? 'stopped' : 'failed', problem);
    return problem === null ? null : { service: this.name, message: problem };
  }

  /** The plain status every face shows. */
  status(): ServiceStatus {
    const live = this.tracked.size > 0;
    return {
      scope: this.host.scope,
      name: this.name,
      state: this.state,
      reason: this.reason,
      pid: live ? (this.pids()[0] ?? null) : null,
      pids: this.pids(),
      ports: this.spec.ports.map((p) => ({ name: p.name, port: p.port, listening: live && this.held.get(p.port)?.own === true, stranger: this.held.get(p.port)?.strangers[0] ?? null })),
      restarts: this.restarts,
      startedAt: live && this.startedAt !== null ? new Date(this.startedAt).toISOString() : null,
      lastExit: this.lastExit,
      dependsOn: this.spec.launch.dependsOn.map((d) => d.name),
      description: this.spec.description,
      stage: this.spec.launch.stage,
      checks: [...this.checks],
    };
  }

  /** What the stack record keeps of this service, for `berth down` after a SIGKILL. */
  record(log: string): RecordedService {
    return {
      ...this.status(),
      pgid: this.rootPid,
      marker: this.marker,
      processes: [...this.tracked].map(([pid, identity]) => ({ pid, identity })),
      stopSignal: this.spec.launch.stop.signal,
      graceMs: this.spec.launch.stop.graceMs,
      log,
    };
  }
}
