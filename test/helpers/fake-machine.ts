/**
 * A programmable Machine for fast engine tests: listeners, processes, occupied ports, the
 * current uid and the ephemeral range are plain state a test sets, and kills follow the
 * same rules and report the same rows as src/os/kill.ts without any real process or
 * wait. Only the OS is faked: the engine above it runs for real.
 */
import { DEFAULT_GRACE_MS } from '../../src/os/kill.js';
import { compareListeners } from '../../src/os/listener-order.js';
import type { Machine } from '../../src/os/machine.js';
import { NOT_HOLDING, type KillOptions, type KillResult, type ListenerQuery, type ProcessInfo } from '../../src/os/types.js';
import { assertPid, assertPort } from '../../src/os/validate.js';
import type { Listener, PortRange, Protocol } from '../../src/types.js';

/** Linux's limit on a process name (comm), beyond which the kernel cuts it. */
const COMM_MAX_CHARS = 15;

/**
 * A process to put on the fake machine; everything but the pid has a default. `name` is
 * cut to 15 characters as Linux cuts comm; `executable` defaults to the full name.
 */
export interface FakeProcessSpec extends Partial<Omit<ProcessInfo, 'pid'>> {
  readonly pid: number;
  /** Survives every catchable first signal (SIGTERM, SIGINT, ...) and dies only on SIGKILL. */
  readonly ignoresTerm?: boolean;
  /** Signals to it fail with this code (`EPERM`: another user's process); it never dies. */
  readonly refusesSignals?: string;
}

/** A listener to put on the fake machine: the port is required, the rest has defaults. */
export type FakeListenerSpec = Partial<Listener> & { readonly port: number };

/** One signal the fake delivered, in order, for tests that check who was signalled. */
export interface SentSignal {
  readonly pid: number;
  readonly signal: NodeJS.Signals;
}

interface FakeProcess {
  readonly info: ProcessInfo;
  /** Bumped on every addProcess, so a re-added pid gets a new identity (pid reuse). */
  readonly start: number;
  readonly ignoresTerm: boolean;
  readonly refusesSignals: string | null;
}

/**
 * An in-memory {@link Machine}. Defaults: no processes, no listeners, uid 1000, no
 * ephemeral range (as off Linux). Kills take no real time: the grace period advances
 * {@link FakeMachine.clockMs} instead, after yielding once to the event loop so other
 * pending work interleaves as it would during a real wait.
 */
export class FakeMachine implements Machine {
  /** Virtual milliseconds spent waiting in kills (grace periods), for tests that check escalation. */
  clockMs = 0;
  /** Every signal delivered, in order. */
  readonly sent: SentSignal[] = [];
  private readonly procs = new Map<number, FakeProcess>();
  private held: Listener[] = [];
  private readonly occupied = new Set<string>();
  private starts = 0;
  private uid: number | null = 1000;
  private range: PortRange | null = null;

  /** Adds (or replaces: pid reuse) a running process and returns what processInfo will say. */
  addProcess(spec: FakeProcessSpec): ProcessInfo {
    assertPid(spec.pid);
    const uid = spec.uid ?? this.uid ?? 0;
    const name = spec.name ?? 'node';
    // Like Linux: the name is comm, cut to 15 characters; the executable keeps its full name.
    const info: ProcessInfo = { pid: spec.pid, ppid: spec.ppid ?? 1, name: name.slice(0, COMM_MAX_CHARS), command: spec.command ?? null, executable: spec.executable ?? name, user: spec.user ?? String(uid), uid };
    // A new process on an old pid does not inherit the old one's sockets.
    if (this.procs.has(spec.pid)) this.exit(spec.pid);
    this.procs.set(spec.pid, { info, start: ++this.starts, ignoresTerm: spec.ignoresTerm ?? false, refusesSignals: spec.refusesSignals ?? null });
    return info;
  }

  /** The process exits on its own (a crash): it and its listeners are gone. No-op when absent. */
  exit(pid: number): void {
    this.procs.delete(pid);
    this.held = this.held.filter((l) => l.pid !== pid);
  }

  /**
   * Adds a listener. Defaults: tcp on 127.0.0.1, no pid, no container; process, command
   * and user are taken from the holding process when it has a pid.
   *
   * @throws Error when `pid` names no process: add the process first.
   */
  addListener(spec: FakeListenerSpec): Listener {
    assertPort(spec.port);
    const pid = spec.pid ?? null;
    const proc = pid === null ? undefined : this.procs.get(pid)?.info;
    if (pid !== null && proc === undefined) throw new Error(`fake machine: no process ${pid}; addProcess it before its listener`);
    const listener: Listener = {
      protocol: spec.protocol ?? 'tcp',
      address: spec.address ?? '127.0.0.1',
      port: spec.port,
      pid,
      process: spec.process ?? proc?.name ?? null,
      command: spec.command ?? proc?.command ?? null,
      user: spec.user ?? proc?.user ?? null,
      container: spec.container ?? null,
    };
    this.held.push(listener);
    return listener;
  }

  /** Removes listeners on `port` (and `protocol`, and `pid`, when given); returns how many. */
  removeListener(port: number, protocol?: Protocol, pid?: number | null): number {
    const before = this.held.length;
    this.held = this.held.filter((l) => !(l.port === port && (protocol === undefined || l.protocol === protocol) && (pid === undefined || l.pid === pid)));
    return before - this.held.length;
  }

  /** Marks a port busy with no visible listener (another user's socket, a TIME_WAIT bind...). */
  occupy(port: number, protocol: Protocol = 'tcp'): void {
    assertPort(port);
    this.occupied.add(`${protocol}/${port}`);
  }

  /** Undoes {@link occupy}. */
  release(port: number, protocol: Protocol = 'tcp'): void {
    this.occupied.delete(`${protocol}/${port}`);
  }

  /** Sets what {@link currentUid} answers (null: an OS without uids). */
  setCurrentUid(uid: number | null): void {
    this.uid = uid;
  }

  /** Sets what {@link ephemeralRange} answers. */
  setEphemeralRange(range: PortRange | null): void {
    this.range = range;
  }

  /** Like the real one, minus containers unless a listener was given one; `everyHolder` is moot: the fake lists what it holds. */
  async listeners(query: ListenerQuery = {}): Promise<Listener[]> {
    if (query.port !== undefined) assertPort(query.port);
    return this.held.filter((l) => (query.port === undefined || l.port === query.port) && (query.protocol === undefined || l.protocol === query.protocol)).sort(compareListeners);
  }

  processInfo(pid: number): ProcessInfo | null {
    return this.procs.get(pid)?.info ?? null;
  }

  processIdentity(pid: number): string | null {
    const proc = this.procs.get(pid);
    return proc === undefined ? null : `${pid}@${proc.start}`;
  }

  isAlive(pid: number): boolean {
    return this.procs.has(pid);
  }

  currentUid(): number | null {
    return this.uid;
  }

  async isPortFree(port: number, protocol: Protocol): Promise<boolean> {
    assertPort(port);
    return !this.occupied.has(`${protocol}/${port}`) && !this.held.some((l) => l.port === port && l.protocol === protocol);
  }

  ephemeralRange(): PortRange | null {
    return this.range;
  }

  /** Containers stopped through stopContainer, in order. */
  readonly stoppedContainers: string[] = [];

  /** Stops a container: its listeners go away, as the engine's proxy exits. */
  async stopContainer(id: string): Promise<void> {
    this.stoppedContainers.push(id);
    this.held = this.held.filter((l) => l.container?.id !== id);
  }

  /**
   * The real kill's rules (src/os/kill.ts): pids deduplicated, name and command captured
   * before the first signal, a pid already gone gets no signal and `exited: true`, a
   * refused signal is reported in `error` and not escalated, survivors of the first
   * signal get SIGKILL after `graceMs`. Before every signal the pid must still have the
   * identity of `opts.expect` (else the one it had when the kill started): a pid re-added
   * since (reused) is reported gone and never signalled. With `opts.holding`, a pid with
   * no listener on that port before the first signal is left alone with `error`
   * NOT_HOLDING.
   *
   * @throws UsageError when a pid is not a positive integer.
   */
  async killProcesses(pids: readonly number[], opts: KillOptions = {}): Promise<KillResult[]> {
    const signal = opts.signal ?? 'SIGTERM';
    const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    pids.forEach(assertPid);
    const targets = [...new Set(pids)].map((pid) => {
      const identity = opts.expect?.get(pid) ?? this.processIdentity(pid);
      const info = identity !== null && this.processIdentity(pid) === identity ? this.processInfo(pid) : null;
      return { pid, name: info?.name ?? null, command: info?.command ?? null, identity, signals: [] as NodeJS.Signals[], error: null as string | null };
    });
    // Still the process meant: a pid reused since is someone else's.
    const running = (t: (typeof targets)[number]): boolean => t.identity !== null && this.processIdentity(t.pid) === t.identity;
    const holds = (pid: number): boolean =>
      opts.holding === undefined || this.held.some((l) => l.pid === pid && l.port === opts.holding!.port && l.protocol === opts.holding!.protocol);
    const send = (t: (typeof targets)[number], sig: NodeJS.Signals): void => {
      if (!running(t)) return;
      const proc = this.procs.get(t.pid)!;
      if (proc.refusesSignals !== null) {
        t.error = proc.refusesSignals;
        return;
      }
      t.signals.push(sig);
      this.sent.push({ pid: t.pid, signal: sig });
      if (sig === 'SIGKILL' || !proc.ignoresTerm) this.exit(t.pid);
    };

    const first = targets.filter((t) => {
      if (!running(t)) return false;
      if (!holds(t.pid)) {
        t.error = NOT_HOLDING;
        return false;
      }
      send(t, signal);
      return t.signals.length > 0;
    });
    const survivors = signal === 'SIGKILL' ? [] : first.filter(running);
    if (survivors.length > 0) {
      // The real kill waits the whole grace when someone survives; here time is virtual.
      await new Promise((resolve) => setImmediate(resolve));
      this.clockMs += graceMs;
      survivors.forEach((t) => send(t, 'SIGKILL'));
    }
    return targets.map((t) => ({ pid: t.pid, name: t.name, command: t.command, signals: [...t.signals], exited: !running(t), error: t.error }));
  }
}
