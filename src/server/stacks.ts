/**
 * The daemon's stacks: one launch supervisor per scope, started by `berth up -d` or the
 * API, their states served as plain data and their changes published to the event stream.
 * Stopping the daemon stops every stack the same clean way as `berth down`.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { Engine, KnownStack, ScopeContext, ServiceEvent, ServiceStatus, StackEvent, StackUpResult } from '../engine/index.js';

export type { StackUpResult };
import { Supervisor, downStack, heldMessage, listStackRecords, logPath, planLaunch, readLogFile, readStackRecord, recordedMembers, recordedOwnership, supervisorAlive, type LogLine, type StopReport } from '../launch/index.js';

/** How long `up` waits for a stack to settle by default. */
export const UP_WAIT_MS = 120_000;
/** Most often a running stack's statuses go out again (a `stack` event) as its health checks move on. */
export const CHECKS_EVENT_MS = 1000;
/** Log lines of a failed service that `up` returns. */
const LAST_LINES = 10;

/** Options of an `up` through the daemon. */
export interface StackUpOptions {
  readonly services?: readonly string[];
  readonly noDeps?: boolean;
  /** Kill processes holding leased ports first (the safety rules of berth kill). */
  readonly killStrangers?: boolean;
  readonly timeoutMs?: number;
  /**
   * The caller's environment, the base of every service's (berth's variables and the
   * service's `environment:` go over it). Without it a stack gets the daemon's, which is
   * the environment of whichever shell happened to start the daemon.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** The stacks one daemon runs. */
export class StackHost {
  private readonly stacks = new Map<string, Supervisor>();
  private readonly listeners = new Set<(event: ServiceEvent) => void>();
  private readonly stackListeners = new Set<(event: StackEvent) => void>();
  /** Per scope, the pending `stack` event that carries its newer checks. */
  private readonly checkTimers = new Map<string, NodeJS.Timeout>();
  /** Whole-stack stops under way, so a second down (or the attached client leaving) waits for the same one. */
  private readonly stopping = new Map<string, Promise<StopReport>>();
  /** Called once when a scope's stack is removed (stopped whole), with what its stop left. */
  private readonly removal = new Map<string, Set<(report: StopReport) => void>>();

  constructor(
    private readonly engine: Engine,
    /** Where stacks are recorded and callers leave their environments. */
    readonly stateDir: string,
  ) {}

  /** Calls `listener` with every service state change, and `onStack` when a stack is added or forgotten; returns the unsubscribe. */
  subscribe(listener: (event: ServiceEvent) => void, onStack?: (event: StackEvent) => void): () => void {
    this.listeners.add(listener);
    if (onStack !== undefined) this.stackListeners.add(onStack);
    return () => {
      this.listeners.delete(listener);
      if (onStack !== undefined) this.stackListeners.delete(onStack);
    };
  }

  /** Health history moved on: the stack's statuses go out again, at most every CHECKS_EVENT_MS. */
  private checked(scope: string): void {
    if (this.checkTimers.has(scope) || this.stackListeners.size === 0) return;
    const timer = setTimeout(() => {
      this.checkTimers.delete(scope);
      const running = this.stacks.get(scope);
      if (running !== undefined) this.stackChanged(scope, false, running.statuses());
    }, CHECKS_EVENT_MS);
    timer.unref();
    this.checkTimers.set(scope, timer);
  }

  private stackChanged(scope: string, removed: boolean, services: readonly ServiceStatus[]): void {
    const event: StackEvent = { time: new Date().toISOString(), scope, removed, services };
    this.stackListeners.forEach((l) => l(event));
  }

  /**
   * Plans and starts the stack of `ctx` (all leases, ports checked first); returns at once.
   * Throws before anything starts when the stack runs already or a port is held.
   */
  async launch(ctx: ScopeContext, opts: StackUpOptions = {}): Promise<{ scope: string; supervisor: Supervisor }> {
    const scope = (await this.engine.project(ctx)).scope;
    const running = this.stacks.get(scope);
    if (running !== undefined) throw new ConflictError(`the stack of scope ${scope} already runs in this daemon; berth down first, or start one service with POST /v1/services/${encodeURIComponent(scope)}/NAME/start.`);
    const record = readStackRecord(this.stateDir, scope);
    if (record !== null && (supervisorAlive(record) || record.services.some((s) => recordedMembers(s).length > 0))) {
      throw new ConflictError(`the stack of scope ${scope} already runs (supervisor pid ${record.supervisor.pid}) or left processes behind; stop it with berth down first.`);
    }
    const planOpts = { services: opts.services, noDeps: opts.noDeps, env: opts.env };
    let plan = await planLaunch(this.engine, ctx, planOpts);
    if (plan.held.length > 0 && opts.killStrangers === true) {
      for (const h of plan.held) await this.engine.reality.kill(ctx, h.port);
      plan = await planLaunch(this.engine, ctx, planOpts);
    }
    if (plan.held.length > 0) {
      const mine = plan.leases.filter((l) => l.ephemeral && l.pid === process.pid).map((l) => l.name);
      if (mine.length > 0) await this.engine.leases.releaseOwned(ctx, mine, [process.pid]);
      throw new ConflictError(heldMessage(plan.held), { held: plan.held });
    }
    // A second launch of the same scope while this one planned: the first one wins.
    if (this.stacks.has(scope)) throw new ConflictError(`the stack of scope ${scope} was just started by another request; berth down first.`);
    const supervisor = new Supervisor(this.engine, ctx, plan, { stateDir: this.stateDir, onEvent: (e) => this.listeners.forEach((l) => l(e)), onChecked: () => this.checked(scope) });
    this.stacks.set(scope, supervisor);
    this.stackChanged(scope, false, supervisor.statuses());
    supervisor.start();
    return { scope, supervisor };
  }

  /** Plans and starts the stack of `ctx` and waits until it settles. */
  async up(ctx: ScopeContext, opts: StackUpOptions = {}): Promise<StackUpResult> {
    const { scope, supervisor } = await this.launch(ctx, opts);
    return settle(scope, supervisor, opts.timeoutMs ?? UP_WAIT_MS);
  }

  /** The running stack of `scope`, or undefined. */
  running(scope: string): Supervisor | undefined {
    return this.stacks.get(scope);
  }

  /** Calls `listener` once when the stack of `scope` is removed; returns the unsubscribe. */
  onRemoved(scope: string, listener: (report: StopReport) => void): () => void {
    let set = this.removal.get(scope);
    if (set === undefined) this.removal.set(scope, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private stack(scope: string): Supervisor {
    const s = this.stacks.get(scope);
    if (s === undefined) throw new NotFoundError(`no stack of scope ${scope} runs in this daemon; start it with berth up -d.`, { scope });
    return s;
  }

  /**
   * Stops the stack of `scope` whole, in reverse order, and forgets it. With `services`:
   * only those and what depends on them (dependents first); the rest runs on.
   */
  async down(scope: string, services?: readonly string[]): Promise<StopReport> {
    const inProgress = this.stopping.get(scope);
    if (inProgress !== undefined) return services === undefined ? inProgress : { stopped: [], problems: [] };
    if (!this.stacks.has(scope) && (services === undefined || services.length === 0)) return this.downFromRecord(scope);
    const stack = this.stack(scope);
    if (services !== undefined && services.length > 0) return stack.stopServices(services);
    const stop = stack.stop().finally(() => {
      this.stacks.delete(scope);
      this.stopping.delete(scope);
    });
    this.stopping.set(scope, stop);
    const report = await stop;
    // After the stop events: a page drops the stack's rows instead of keeping them stopped.
    this.stackChanged(scope, true, []);
    const listeners = this.removal.get(scope);
    this.removal.delete(scope);
    listeners?.forEach((l) => l(report));
    return report;
  }

  /**
   * A down of a stack this daemon does not run (any more): whatever its record says may
   * still run is stopped (after the daemon was killed, or its attached client's stop came
   * first); a down of a stack already stopped is done, not an error.
   */
  private async downFromRecord(scope: string): Promise<StopReport> {
    const record = readStackRecord(this.stateDir, scope);
    const report = await downStack(this.stateDir, scope, UP_WAIT_MS);
    if (record !== null && report.via === 'record') {
      const { names, pids } = recordedOwnership(record);
      await this.engine.leases.releaseOwned({ scope }, names, pids).catch(() => undefined);
    }
    // A page showing the stack as running elsewhere learns that it is down.
    if (record !== null) this.stackChanged(scope, true, []);
    return { stopped: report.stopped, problems: report.problems };
  }

  /** The scope of a context. */
  async scopeOf(ctx: ScopeContext): Promise<string> {
    return (await this.engine.project(ctx)).scope;
  }

  /**
   * Every stack with a record in the state directory (the records outlive a down), so the
   * dashboard can offer `up` for one that is down without knowing its project directory.
   */
  known(): KnownStack[] {
    return listStackRecords(this.stateDir).map((r) => ({
      scope: r.scope,
      configFile: r.configFile,
      services: r.order,
      state: this.stacks.has(r.scope) ? 'running' : supervisorAlive(r) || r.services.some((s) => recordedMembers(s).length > 0) ? 'elsewhere' : 'down',
    }));
  }

  /** Every service of the daemon's stacks (one scope's when given). */
  list(scope?: string): ServiceStatus[] {
    return [...this.stacks.entries()].filter(([s]) => scope === undefined || s === scope).flatMap(([, sup]) => sup.statuses());
  }

  /** start, stop or restart one service of a running stack (stop and restart: with its dependents). */
  async service(scope: string, name: string, action: 'start' | 'stop' | 'restart'): Promise<ServiceStatus[]> {
    const stack = this.stack(scope);
    if (action === 'start') stack.startServices([name]);
    else {
      const { stopped } = await stack.stopServices([name]);
      // A restart brings back what its stop took down with it (the dependents), in order.
      if (action === 'restart') stack.startServices(stopped);
    }
    return stack.statuses();
  }

  /**
   * The last lines of a service (every service of the stack when no name): from memory for
   * a stack this daemon runs, else from the log files a stack left in the state directory
   * (a foreground berth up, a stopped stack); none when the scope never launched here.
   */
  logs(scope: string, name?: string, tail?: number, since?: string): LogLine[] {
    const running = this.stacks.get(scope);
    let lines: LogLine[];
    if (running !== undefined) lines = running.logs(name);
    else {
      const record = readStackRecord(this.stateDir, scope);
      if (record === null) return [];
      if (name !== undefined && !record.order.includes(name)) throw new NotFoundError(`no service '${name}' in the stack of scope ${scope}. Services: ${record.order.join(', ')}.`, { service: name });
      lines = (name === undefined ? record.order : [name]).flatMap((n) => readLogFile(logPath(this.stateDir, scope, n)));
    }
    lines = lines.filter((l) => since === undefined || l.time >= since).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    return tail === undefined ? lines : lines.slice(Math.max(0, lines.length - tail));
  }

  /** Stops every stack (daemon shutdown). */
  async close(): Promise<void> {
    for (const scope of [...this.stacks.keys()]) await this.down(scope).catch(() => undefined);
  }
}

/** Waits until `supervisor`'s services settle (or `timeoutMs`), then says which are not up, with their last lines. */
export async function settle(scope: string, supervisor: Supervisor, timeoutMs: number): Promise<StackUpResult> {
  const ok = await supervisor.settled(timeoutMs);
  const services = supervisor.statuses();
  const failed = services
    .filter((s) => !['healthy', 'running', 'completed', 'disabled'].includes(s.state))
    .map((s) => ({ name: s.name, state: s.state, reason: s.reason, lastLines: supervisor.logs(s.name).slice(-LAST_LINES).map((l) => (l.stream === 'berth' ? `[berth] ${l.text}` : l.text)) }));
  return { scope, ok, services, failed };
}
