/**
 * The daemon's stacks: one launch supervisor per scope, started by `berth up -d` or the
 * API, their states served as plain data and their changes published to the event stream.
 * Stopping the daemon stops every stack the same clean way as `berth down`.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { Engine, KnownStack, ScopeContext, ServiceEvent, ServiceStatus, StackEvent } from '../engine/index.js';
import { Supervisor, listStackRecords, logPath, planLaunch, readLogFile, readStackRecord, recordedMembers, supervisorAlive, type LogLine, type StopReport } from '../launch/index.js';

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
}

/** What an `up` answers: every service's state, and the failed ones with their last lines. */
export interface StackUpResult {
  readonly scope: string;
  readonly ok: boolean;
  readonly services: readonly ServiceStatus[];
  readonly failed: readonly { readonly name: string; readonly state: string; readonly reason: string | null; readonly lastLines: readonly string[] }[];
}

/** The stacks one daemon runs. */
export class StackHost {
  private readonly stacks = new Map<string, Supervisor>();
  private readonly listeners = new Set<(event: ServiceEvent) => void>();
  private readonly stackListeners = new Set<(event: StackEvent) => void>();
  /** Per scope, the pending `stack` event that carries its newer checks. */
  private readonly checkTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly engine: Engine,
    private readonly stateDir: string,
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

  /** Plans and starts the stack of `ctx` (all leases, ports checked first) and waits until it settles. */
  async up(ctx: ScopeContext, opts: StackUpOptions = {}): Promise<StackUpResult> {
    const scope = (await this.engine.project(ctx)).scope;
    const running = this.stacks.get(scope);
    if (running !== undefined) throw new ConflictError(`the stack of scope ${scope} already runs in this daemon; berth down first, or start one service with POST /v1/services/${encodeURIComponent(scope)}/NAME/start.`);
    const record = readStackRecord(this.stateDir, scope);
    if (record !== null && (supervisorAlive(record) || record.services.some((s) => recordedMembers(s).length > 0))) {
      throw new ConflictError(`the stack of scope ${scope} already runs (supervisor pid ${record.supervisor.pid}) or left processes behind; stop it with berth down first.`);
    }
    let plan = await planLaunch(this.engine, ctx, { services: opts.services, noDeps: opts.noDeps });
    if (plan.held.length > 0 && opts.killStrangers === true) {
      for (const h of plan.held) await this.engine.reality.kill(ctx, h.port);
      plan = await planLaunch(this.engine, ctx, { services: opts.services, noDeps: opts.noDeps });
    }
    if (plan.held.length > 0) {
      const mine = plan.leases.filter((l) => l.ephemeral && l.pid === process.pid).map((l) => l.name);
      if (mine.length > 0) await this.engine.leases.releaseOwned(ctx, mine, [process.pid]);
      throw new ConflictError(`${plan.held.map((h) => h.message).join('; ')}. Nothing was started.`, { held: plan.held });
    }
    const supervisor = new Supervisor(this.engine, ctx, plan, { stateDir: this.stateDir, onEvent: (e) => this.listeners.forEach((l) => l(e)), onChecked: () => this.checked(scope) });
    this.stacks.set(scope, supervisor);
    this.stackChanged(scope, false, supervisor.statuses());
    supervisor.start();
    const ok = await supervisor.settled(opts.timeoutMs ?? UP_WAIT_MS);
    const services = supervisor.statuses();
    const failed = services
      .filter((s) => !['healthy', 'running', 'completed', 'disabled'].includes(s.state))
      .map((s) => ({ name: s.name, state: s.state, reason: s.reason, lastLines: supervisor.logs(s.name).slice(-LAST_LINES).map((l) => (l.stream === 'berth' ? `[berth] ${l.text}` : l.text)) }));
    return { scope, ok, services, failed };
  }

  private stack(scope: string): Supervisor {
    const s = this.stacks.get(scope);
    if (s === undefined) throw new NotFoundError(`no stack of scope ${scope} runs in this daemon; start it with berth up -d.`, { scope });
    return s;
  }

  /** Stops the stack of `scope` whole, in reverse order. */
  async down(scope: string): Promise<StopReport> {
    const report = await this.stack(scope).stop();
    this.stacks.delete(scope);
    // After the stop events: a page drops the stack's rows instead of keeping them stopped.
    this.stackChanged(scope, true, []);
    return report;
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

  /** start, stop or restart one service of a running stack. */
  async service(scope: string, name: string, action: 'start' | 'stop' | 'restart'): Promise<ServiceStatus[]> {
    const stack = this.stack(scope);
    if (action !== 'start') await stack.stopService(name);
    if (action !== 'stop') stack.startService(name);
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
