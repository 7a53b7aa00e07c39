/**
 * The supervisor of one stack: starts a plan's services in dependency order (a dependent
 * only once its dependencies meet their condition), tracks their process trees, records
 * the stack in the state directory for `ps`, `logs` and `down` elsewhere, and stops it
 * in reverse order, leaving no process and no held port behind.
 */
import { NotFoundError } from '../errors.js';
import { LIVE_STATES, type Engine, type ScopeContext, type ServiceEvent, type ServiceStatus, type StopProblem, type StopReport } from '../engine/index.js';
import { selectWithDependents } from '../config/graph.js';
import { isPortFree, processIdentity, processTable } from '../os/index.js';
import { LogSink, type LogLine } from './log-sink.js';
import type { LaunchPlan } from './plan.js';
import { ServiceRunner, type RunnerHost } from './service.js';
import { STACK_FILE_VERSION, ensureStackDir, logPath, writeStackRecord } from './stack-file.js';

/** How often the process table is read to follow each service's tree. */
export const TRACK_INTERVAL_MS = 200;
/** Longest a health check that changed nothing waits to be written to the stack record. */
export const RECORD_CHECKS_MS = 250;

/** States a service settles in: `up` has done what it can for it. */
const SETTLED = new Set(['healthy', 'running', 'completed', 'failed', 'unhealthy', 'disabled', 'stopped']);

/** Options of a supervisor. */
export interface SupervisorOptions {
  readonly stateDir: string;
  /** Every line of every service, as it comes. */
  readonly onLog?: (line: LogLine) => void;
  /** Every state change. */
  readonly onEvent?: (event: ServiceEvent) => void;
  /** A health check that changed no state (its history moved on). */
  readonly onChecked?: () => void;
}

export type { StopReport };

/** Runs one plan's services. */
export class Supervisor {
  private readonly runners: ServiceRunner[] = [];
  private readonly startedAt = new Date().toISOString();
  private tracker: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];
  private closed = false;
  private recordTimer: NodeJS.Timeout | null = null;
  /** Followers of the stack's new lines (the API's log follow, an attached berth up). */
  private readonly logFollowers = new Set<(line: LogLine) => void>();

  constructor(
    private readonly engine: Engine,
    private readonly ctx: ScopeContext,
    readonly plan: LaunchPlan,
    private readonly opts: SupervisorOptions,
  ) {
    ensureStackDir(opts.stateDir, plan.scope);
    const host: RunnerHost = {
      scope: plan.scope,
      holders: async (port) => (await engine.reality.who(ctx, port)).holders,
      isPortFree: (port) => isPortFree(port, 'tcp'),
      handLease: async (name, from, to) => {
        // Every ephemeral lease of the service: its own and its leases:.
        const names = this.plan.leases.filter((l) => l.ephemeral && this.leasesOf([name]).includes(l.name)).map((l) => l.name);
        if (names.length > 0) await engine.leases.handOver(ctx, names, from, to);
      },
      changed: (runner, previous) => this.changed(runner, previous),
      checked: () => {
        this.recordSoon();
        opts.onChecked?.();
      },
    };
    const onLine = (line: LogLine): void => {
      opts.onLog?.(line);
      for (const follow of this.logFollowers) follow(line);
    };
    for (const spec of plan.specs) {
      this.runners.push(new ServiceRunner(spec, host, new LogSink(spec.name, logPath(opts.stateDir, plan.scope, spec.name), onLine)));
    }
  }

  /** Every service's status, in start order. */
  statuses(): ServiceStatus[] {
    return this.runners.map((r) => r.status());
  }

  /** The in-memory lines of `service` (every service when omitted). */
  logs(service?: string): LogLine[] {
    return this.runners.filter((r) => service === undefined || r.name === service).flatMap((r) => r.sink.ring);
  }

  /**
   * Calls `listener` with every new line of `service` (every service when omitted) from now
   * on; returns the unsubscribe. Lines are written and announced synchronously, so the ring
   * read by {@link logs} just before subscribing and the lines after it neither overlap nor
   * leave a gap.
   */
  followLogs(listener: (line: LogLine) => void, service?: string): () => void {
    if (service !== undefined) this.runner(service);
    const follow = service === undefined ? listener : (line: LogLine): void => (line.service === service ? listener(line) : undefined);
    this.logFollowers.add(follow);
    return () => this.logFollowers.delete(follow);
  }

  /** Starts the stack: every service as soon as its dependencies allow. */
  start(): void {
    this.record();
    this.tracker = setInterval(() => this.track(), TRACK_INTERVAL_MS);
    this.advance();
  }

  /** Resolves when every service has settled (healthy, running, completed, failed, unhealthy) or `timeoutMs` passed; returns whether all are up. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.runners.every((r) => SETTLED.has(r.state)) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, Math.min(500, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.runners.every((r) => ['healthy', 'running', 'completed', 'disabled'].includes(r.state));
  }

  private track(): void {
    const table = processTable();
    for (const r of this.runners) r.refresh(table);
  }

  private changed(runner: ServiceRunner, previous: ServiceRunner['state']): void {
    if (runner.state !== previous) {
      const s = runner.status();
      this.opts.onEvent?.({ time: new Date().toISOString(), scope: s.scope, name: s.name, state: s.state, previous, reason: s.reason, pid: s.pid });
    }
    this.record();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
    if (!this.closed) this.advance();
  }

  /** Starts every pending service whose dependencies are met; fails those whose dependencies cannot be. */
  private advance(): void {
    for (const runner of this.runners) {
      if (runner.state !== 'pending') continue;
      let ready = true;
      for (const dep of runner.spec.launch.dependsOn) {
        const other = this.runners.find((r) => r.name === dep.name);
        if (other === undefined) continue; // --no-deps: not ours to wait for.
        const s = other.state;
        const met = dep.condition === 'started' ? ['running', 'starting', 'healthy', 'unhealthy', 'completed'].includes(s) : dep.condition === 'healthy' ? s === 'healthy' : s === 'completed';
        if (met) continue;
        ready = false;
        const hopeless = ['failed', 'disabled', 'stopped'].includes(s) || (dep.condition === 'healthy' && s === 'completed');
        if (hopeless) {
          runner.fail(`dependency ${dep.name} is ${s}${other.reason === null ? '' : ` (${other.reason})`}; not started`);
          return;
        }
      }
      if (ready) runner.start();
    }
  }

  /**
   * Stops `names` (default every service) in reverse dependency order, each whole: its
   * processes gone and its port free. Then releases the stack's ephemeral leases.
   */
  async stop(names?: readonly string[]): Promise<StopReport> {
    const all = names === undefined;
    if (all) this.closed = true;
    const problems: StopProblem[] = [];
    const stopped: string[] = [];
    for (const runner of [...this.runners].reverse()) {
      if (!all && !names.includes(runner.name)) continue;
      const problem = await runner.stop();
      if (problem === null) stopped.push(runner.name);
      else problems.push(problem);
    }
    if (all) {
      if (this.tracker !== null) clearInterval(this.tracker);
      // A service something still holds keeps its lease: the port is not free to hand out.
      const mine = this.plan.leases.filter((l) => l.ephemeral && this.leasesOf(stopped).includes(l.name)).map((l) => l.name);
      if (mine.length > 0) await this.engine.leases.releaseOwned(this.ctx, mine, [process.pid, ...this.runners.map((r) => r.leaseOwner)]).catch(() => undefined);
    }
    this.record();
    return { stopped, problems };
  }

  /** The lease names of `services`: each one's own and its leases:. */
  private leasesOf(services: readonly string[]): string[] {
    return this.plan.specs.filter((s) => services.includes(s.name)).flatMap((s) => s.ports.map((p) => p.name));
  }

  /** The runner of `name`; NotFoundError naming the stack's services otherwise. */
  private runner(name: string): ServiceRunner {
    const r = this.runners.find((x) => x.name === name);
    if (r === undefined) throw new NotFoundError(`no service '${name}' in the stack of scope ${this.plan.scope}. Services: ${this.plan.order.join(', ')}.`, { service: name });
    return r;
  }

  /** Stops `names` and every service that depends on them (dependents first); the rest runs on. */
  async stopServices(names: readonly string[]): Promise<StopReport> {
    for (const name of names) this.runner(name);
    const nodes = this.runners.map((r) => ({ name: r.name, needs: r.spec.launch.dependsOn.map((d) => d.name) }));
    return this.stop(selectWithDependents(nodes, names));
  }

  /**
   * Starts services that are not running (stopped, failed, completed), each once its
   * dependencies allow: all are made pending before any is started, so a dependent named
   * before its dependency waits for it instead of failing on its stopped state.
   */
  startServices(names: readonly string[]): void {
    const runners = names.map((n) => this.runner(n));
    for (const r of runners) if (!(LIVE_STATES.has(r.state) || r.state === 'restarting')) r.state = 'pending';
    this.closed = false;
    this.advance();
  }

  /**
   * Records checks that changed nothing else within RECORD_CHECKS_MS: while services start
   * they come up to fifty a second each, and the record is rewritten whole every time.
   */
  private recordSoon(): void {
    if (this.recordTimer !== null) return;
    this.recordTimer = setTimeout(() => this.record(), RECORD_CHECKS_MS);
    this.recordTimer.unref();
  }

  /** Writes the stack record (state directory) for other terminals and for `down` after a SIGKILL. */
  private record(): void {
    if (this.recordTimer !== null) clearTimeout(this.recordTimer);
    this.recordTimer = null;
    writeStackRecord(this.opts.stateDir, {
      version: STACK_FILE_VERSION,
      scope: this.plan.scope,
      configFile: this.plan.configFile,
      supervisor: { pid: process.pid, identity: processIdentity(process.pid), startedAt: this.startedAt },
      order: this.plan.order,
      services: this.runners.map((r) => r.record(logPath(this.opts.stateDir, this.plan.scope, r.name))),
    });
  }
}
