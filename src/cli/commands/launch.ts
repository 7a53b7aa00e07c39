/**
 * Launch commands: `berth up` (foreground: prefixed logs, Ctrl-C / SIGTERM / SIGHUP stop
 * the stack in order) and `berth down`. They build data, render it, and leave the
 * supervising to src/launch/.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ConflictError, NotFoundError, RefusedError, StoreError, UsageError } from '../../errors.js';
import type { Engine, ScopeContext, ServiceEvent, ServiceStatus } from '../../engine/index.js';
import { stateDir } from '../../fs/state-dir.js';
import type { HeldPort, LaunchPlan } from '../../launch/index.js';
import { withEngine } from '../context.js';
import { parseCount } from '../options.js';
import { emit, forTerminal, note, table } from '../render.js';

/** True when `pid` is this state directory's running daemon. */
const runsInDaemon = async (pid: number): Promise<boolean> => (await import('../daemon-call.js')).runsInDaemon(pid);

/** The launch layer, loaded only by these commands: it stays off every other command's start-up path. */
const launch = () => import('../../launch/index.js');

/** Signals that stop a foreground stack, all the same way. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long `down` waits for a running supervisor to stop its stack. */
const DOWN_WAIT_MS = 120_000;

interface UpFlags {
  noDeps?: boolean;
  checkOnly?: boolean;
  nonInteractive?: boolean;
  killStrangers?: boolean;
  timeout?: string;
  detach?: boolean;
}

export function registerLaunchCommands(program: Command): void {
  program
    .command('up')
    .description('start the services of berth.yaml that have a command, on their leases, in dependency order; Ctrl-C stops them all')
    .argument('[services...]', 'only these (and what they depend on)')
    .option('--no-deps', 'start only the named services, not their dependencies')
    .option('--check-only', 'check config, order, leases, holders and environment; start nothing')
    .option('--non-interactive', 'a leased port held by another process fails the command (exit 4), nothing started')
    .option('--kill-strangers', 'kill processes holding the leased ports first (the same safety rules as berth kill)')
    .option('--timeout <seconds>', 'fail (exit 1, stack stopped) when not every service is up within this time')
    .option('-d, --detach', 'run the stack in the daemon and return once it is up')
    .action(async (services: string[], flags: UpFlags & { deps?: boolean }, cmd: Command) => {
      const timeoutMs = flags.timeout === undefined ? null : parseCount(flags.timeout, '--timeout seconds') * 1000;
      if (flags.detach) return upDetached(cmd, services, flags, timeoutMs);
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        await refuseRunningStack((await engine.project(ctx)).scope);
        const interactive = !flags.nonInteractive && !flags.killStrangers && !flags.checkOnly && process.stdin.isTTY === true && process.stderr.isTTY === true;
        // The daemon plans again and refuses a held port itself; this process plans first only
        // to show the plan (--check-only), to ask the person at the terminal about a holder, or
        // to name the holders it kills (--kill-strangers).
        if (flags.checkOnly || interactive || flags.killStrangers) {
          const plan = await (await launch()).planLaunch(engine, ctx, { services, noDeps: flags.deps === false });
          let keep: ReadonlySet<string> = new Set();
          try {
            const { held, moved } = await settleHeldPorts(engine, ctx, plan, flags);
            keep = moved;
            if (flags.checkOnly) {
              emit(json, { ...plan, specs: undefined, leases: undefined, held }, renderPlan);
            }
            if (held.length > 0) throw new ConflictError((await launch()).heldMessage(held), { held });
          } finally {
            await releasePlanLeases(engine, ctx, plan, keep);
          }
          // A lease moved at the prompt stays, handed to the daemon, whose plan starts the service on it.
          if (keep.size > 0) await engine.leases.handOver(ctx, [...keep], process.pid, (await startDaemon(cmd)).pid);
          if (flags.checkOnly) return;
        }
        await runAttached(cmd, ctx, services, flags, timeoutMs, json);
      });
    });

  registerServiceCommand(program, 'stop', 'stop services of the running stack (and what depends on them): processes gone, ports free');
  registerServiceCommand(program, 'start', 'start stopped services of the running stack');
  registerServiceCommand(program, 'restart', 'stop, then start services of the running stack');

  program
    .command('down')
    .description('stop the stack of this scope in reverse dependency order: every process gone, every port free (also after berth up or the daemon was killed); with services, only those and what depends on them')
    .argument('[services...]', 'only these and the services that depend on them; the rest runs on')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const scope = (await engine.project(ctx)).scope;
        const record = (await launch()).readStackRecord(stateDir(), scope);
        if (record !== null && (await runsInDaemon(record.supervisor.pid))) {
          const { daemonCall } = await import('../daemon-call.js');
          const body = services.length > 0 ? { services } : {};
          const report = (await daemonCall('stacks.down', { scope }, body, ctx)) as { stopped: string[]; problems: { service: string; message: string }[] };
          emit(json, { scope, via: 'daemon', ...report }, (r) => `stopped ${r.stopped.join(', ') || 'nothing'} (run by the daemon)`);
          if (report.problems.length > 0) throw new RefusedError(`not everything stopped: ${report.problems.map((p) => `${p.service}: ${p.message}`).join('; ')}`, { problems: report.problems });
          return;
        }
        if (services.length > 0) throw new UsageError(`berth down SERVICE works on a stack the daemon runs (berth up, attached or -d); scope ${scope} has ${record === null ? 'none' : 'one whose supervisor is gone'}: berth down stops all of it.`, { scope });
        const report = await (await launch()).downStack(stateDir(), scope, DOWN_WAIT_MS);
        if (record !== null && report.via === 'record') {
          // The supervisor is gone: the leases its services owned are ours to release.
          const { names, pids } = (await launch()).recordedOwnership(record);
          await engine.leases.releaseOwned(ctx, names, pids).catch(() => undefined);
        }
        emit(json, report, (r) => (r.via === 'none' ? `no stack of scope ${scope} was started here` : `stopped ${r.stopped.length === 0 ? 'nothing' : r.stopped.join(', ')}${r.via === 'record' ? ' (its berth up was gone; stopped from the record)' : ''}`));
        if (report.problems.length > 0) throw new RefusedError(`not everything stopped: ${report.problems.map((p) => `${p.service}: ${p.message}`).join('; ')}`, { problems: report.problems });
      });
    });
}

/** `berth stop|start|restart SERVICE...`: one service of a stack the daemon runs. */
function registerServiceCommand(program: Command, action: 'start' | 'stop' | 'restart', description: string): void {
  program
    .command(action)
    .description(description)
    .argument('<services...>', 'services of the stack')
    .action(async (services: string[], _flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const scope = (await engine.project(ctx)).scope;
        const record = (await launch()).readStackRecord(stateDir(), scope);
        if (record === null || !(await runsInDaemon(record.supervisor.pid))) {
          // Every berth up runs its stack in the daemon; a live supervisor elsewhere is an older berth's.
          const where = record !== null && (await launch()).supervisorAlive(record) ? `a berth up of an older berth (pid ${record.supervisor.pid}) that runs it in its own process; stop it there or with berth down` : 'no running stack; start one with berth up';
          throw new NotFoundError(`berth ${action} works on a running stack; scope ${scope} has ${where}.`, { scope });
        }
        const { daemonCall } = await import('../daemon-call.js');
        let statuses: unknown = [];
        for (const name of services) statuses = await daemonCall(`services.${action}`, { scope, name }, {}, ctx);
        emit(json, statuses as { name: string; state: string; pid: number | null }[], (list) => table(['NAME', 'STATE', 'PID'], list.map((s) => [s.name, s.state, s.pid])));
      });
    });
}

/** Refuses to start a stack that is already up, or whose processes a killed `up` left. */
async function refuseRunningStack(scope: string): Promise<void> {
  const { readStackRecord, recordedMembers, supervisorAlive } = await launch();
  const record = readStackRecord(stateDir(), scope);
  if (record === null) return;
  // A stack of the daemon's: the daemon itself refuses a second start, and knows whether it still runs.
  if (supervisorAlive(record) && (await runsInDaemon(record.supervisor.pid))) return;
  if (supervisorAlive(record)) throw new ConflictError(`the stack of scope ${scope} is already up (berth up, pid ${record.supervisor.pid}); see berth ps, or stop it with berth down.`, { pid: record.supervisor.pid });
  const left = record.services.filter((s) => recordedMembers(s).length > 0).map((s) => s.name);
  if (left.length > 0) throw new ConflictError(`${left.join(', ')} of scope ${scope} still run from a berth up that was killed; stop them with berth down first.`, { services: left });
}

/** Kills or reassigns away from strangers as asked (flag or prompt); returns what is still held. */
async function settleHeldPorts(engine: Engine, ctx: ScopeContext, plan: LaunchPlan, flags: UpFlags): Promise<{ held: HeldPort[]; moved: ReadonlySet<string> }> {
  let held = [...plan.held];
  if (held.length === 0) return { held, moved: new Set() };
  /** Services moved to another port: their old port's holder is no longer in their way. */
  const movedAway = new Set<string>();
  const interactive = !flags.nonInteractive && !flags.killStrangers && !flags.checkOnly && process.stdin.isTTY === true && process.stderr.isTTY === true;
  if (flags.killStrangers) {
    for (const h of held) {
      note(`berth: ${h.message}; killing it (--kill-strangers)`);
      await engine.reality.kill(ctx, h.port);
    }
  } else if (interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      for (const h of held) {
        const answer = (await rl.question(`${forTerminal(h.message)}.\n[k]ill it, [r]eassign ${h.lease} to a free port, or [a]bort? `)).trim().toLowerCase();
        if (answer.startsWith('k')) await engine.reality.kill(ctx, h.port);
        else if (answer.startsWith('r')) {
          const free = await engine.reality.free(ctx, { from: h.port + 1 });
          const moved = await engine.leases.reassign(ctx, h.lease, free.ports[0]!);
          // The daemon plans again from the leases, so every service gets the new port's variables.
          note(`berth: ${h.lease} now leases port ${moved.port}.`);
          movedAway.add(h.service);
        } else throw new ConflictError(`aborted: ${h.message}.`, { held });
      }
    } finally {
      rl.close();
    }
  } else return { held, moved: movedAway };
  held = await (await launch()).heldPorts(engine, ctx, plan.services.filter((s) => !movedAway.has(s.name)));
  return { held, moved: movedAway };
}


async function releasePlanLeases(engine: Engine, ctx: ScopeContext, plan: LaunchPlan, keep: ReadonlySet<string> = new Set()): Promise<void> {
  const mine = plan.leases.filter((l) => l.ephemeral && l.pid === process.pid && !keep.has(l.name)).map((l) => l.name);
  if (mine.length > 0) await engine.leases.releaseOwned(ctx, mine, [process.pid]);
}

function renderPlan(p: Omit<LaunchPlan, 'specs' | 'leases'> & { held: readonly HeldPort[] }): string {
  const rows = p.services.map((s) => [s.name, s.ports.map((x) => (x.name === s.name ? x.port : `${x.name}=${x.port}`)).join(' '), s.dependsOn.map((d) => `${d.name}(${d.condition})`).join(' '), s.health, s.enabled ? s.command : 'disabled']);
  const lines = [`scope ${p.scope}: start order ${p.order.join(' → ')}; shutdown ${[...p.order].reverse().join(' → ')}`, table(['SERVICE', 'PORT', 'WAITS FOR', 'HEALTH', 'COMMAND'], rows)];
  for (const s of p.services) if (s.note !== null) lines.push(`note: ${s.note}`);
  for (const s of p.services) lines.push(`${s.name}: ${Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  lines.push(p.held.length === 0 ? 'every leased port is free' : p.held.map((h) => `held: ${h.message}`).join('\n'));
  return lines.join('\n');
}

/**
 * A foreground `berth up`: the daemon runs the stack attached to this process's connection
 * (the same supervisor as -d, so ps, logs, stop, start, restart and down work on it from
 * any terminal), and its lines and states stream back here. Ctrl-C, SIGTERM and SIGHUP ask
 * the daemon to stop the stack and wait for what the stop left; should this process die
 * without asking (SIGKILL), the daemon sees the connection close and stops it itself.
 */
async function runAttached(cmd: Command, ctx: ScopeContext, services: string[], flags: UpFlags & { deps?: boolean }, timeoutMs: number | null, json: boolean): Promise<void> {
  await startDaemon(cmd);
  const { daemonCall, daemonStream, logLineOf } = await import('../daemon-call.js');
  const { StackConsole } = await import('../stack-console.js');
  const { body, release } = await upBody(services, flags, timeoutMs);
  let view: InstanceType<typeof StackConsole> | null = null;
  let scope = ctx.scope ?? '-';
  let stopReason = '';
  let settled: { ok: boolean } | null = null;
  let ended: { stopped: string[]; problems: { service: string; message: string }[] } | null = null;
  let wake: () => void = () => undefined;
  const wakeUp = (): void => wake();
  const stream = await daemonStream('stacks.attach', { scope }, {}, body, ctx, (event, data) => {
    if (event === 'started') {
      const d = data as { scope: string; services: ServiceStatus[] };
      scope = d.scope;
      view = new StackConsole(d.scope, json);
      view.start(d.services);
    } else if (event === 'log') view?.line(logLineOf(data));
    else if (event === 'service') view?.change(data as ServiceEvent);
    else if (event === 'settled') {
      settled = data as { ok: boolean };
      if (!settled.ok && timeoutMs !== null) stopReason ||= 'timeout';
      else view?.note(`berth: ${scope}: ${view.snapshot().map((s) => `${s.name} ${s.state}`).join(', ')}; Ctrl-C stops the stack`);
    } else if (event === 'end') ended = data as typeof ended;
    wakeUp();
  }).finally(release);
  const onSignal = (signal: NodeJS.Signals): void => {
    stopReason ||= signal;
    wakeUp();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  let gone = false;
  void stream.done.then(() => {
    gone = true;
    wakeUp();
  });
  const v = (): InstanceType<typeof StackConsole> | null => view;
  const over = (): boolean => {
    const states = v()?.snapshot() ?? [];
    // Once up, a stack whose every service has ended (failed, completed) has nothing left to run.
    // (Stopped is not such an end: a whole stop sends `end`, and services stopped one by one may be started again.)
    return settled !== null && states.length > 0 && states.every((s) => ['failed', 'completed', 'disabled'].includes(s.state));
  };
  let failed: { name: string; state: string; reason: string | null }[] = [];
  let notUp: typeof failed = [];
  try {
    while (!gone && ended === null && stopReason === '' && !over()) await new Promise<void>((resolve) => (wake = resolve));
    failed = (v()?.snapshot() ?? []).filter((s) => s.state === 'failed' || s.state === 'unhealthy');
    notUp = (v()?.snapshot() ?? []).filter((s) => !['healthy', 'running', 'completed', 'disabled'].includes(s.state));
    if (!gone && ended === null) {
      v()?.note(`berth: stopping ${scope}${stopReason === '' ? '' : ` (${stopReason})`}`);
      const report = (await daemonCall('stacks.down', { scope }, {}, ctx)) as NonNullable<typeof ended>;
      ended ??= report;
      await stream.done;
    }
  } finally {
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
    stream.close();
    v()?.close();
  }
  const report = ended as { stopped: string[]; problems: { service: string; message: string }[] } | null;
  if (report === null) throw new StoreError(`the berth daemon ended ${scope}'s stream without stopping it (was it stopped or killed?). See berth ps; berth down stops what is left.`);
  if (report.problems.length > 0) throw new RefusedError(`not everything stopped: ${report.problems.map((p) => `${p.service}: ${p.message}`).join('; ')}`, { problems: report.problems });
  if (stopReason === 'timeout') throw new NotFoundError(`not up within the timeout: ${notUp.map((s) => `${s.name} ${s.state}`).join(', ')}; stack stopped.`);
  if (failed.length > 0 && stopReason === '') throw new NotFoundError(failed.map((s) => `${s.name} ${s.state}${s.reason === null ? '' : ` (${s.reason})`}`).join('; '), { failed });
}

/** This state directory's daemon, started (and said so) when it is not running. */
async function startDaemon(cmd: Command): Promise<{ pid: number }> {
  const { globals } = await import('../context.js');
  const opts = globals(cmd);
  const { ensureDaemon } = await import('../ensure-daemon.js');
  const { lock, started } = await ensureDaemon(opts.db ? { ...process.env, BERTH_DB: opts.db } : process.env);
  if (started) note('berth: started the daemon');
  return { pid: lock.pid };
}

/** `berth up -d`: the daemon (started when absent) runs the stack; returns once it is up, or exit 1 naming what failed. */
async function upDetached(cmd: Command, services: string[], flags: UpFlags & { deps?: boolean }, timeoutMs: number | null): Promise<void> {
  if (flags.checkOnly) throw new UsageError('--check-only starts nothing: leave out -d.');
  const { globals, scopeContext } = await import('../context.js');
  const opts = globals(cmd);
  const ctx = scopeContext(opts);
  await startDaemon(cmd);
  const { daemonCall } = await import('../daemon-call.js');
  const { body, release } = await upBody(services, flags, timeoutMs);
  const result = (await daemonCall('stacks.up', { scope: ctx.scope ?? '-' }, body, ctx).finally(release)) as {
    scope: string;
    ok: boolean;
    services: { name: string; state: string; pid: number | null; ports: { port: number }[] }[];
    failed: { name: string; state: string; reason: string | null; lastLines: string[] }[];
  };
  emit(opts.json === true, result, (r) => table(['NAME', 'STATE', 'PID', 'PORT'], r.services.map((s) => [s.name, s.state, s.pid, s.ports.map((p) => p.port).join(' ')])));
  if (!result.ok) {
    const lines = result.failed.map((f) => `${f.name} ${f.state}${f.reason === null ? '' : ` (${f.reason})`}${f.lastLines.length === 0 ? '' : `; last lines:\n  ${f.lastLines.join('\n  ')}`}`);
    throw new NotFoundError(`not up: ${lines.join('\n')}\nThe stack keeps running in the daemon; berth down stops it.`, { failed: result.failed });
  }
}

/**
 * The body of an up or attach request. The stack gets this shell's environment: the
 * daemon may have been started from another shell (another PATH, another virtualenv), and
 * a service should run with the variables of the terminal that asked for it, as when
 * started by hand there. They go through the state directory (leaveCallerEnv), never over
 * HTTP; `release` removes them if the daemon never took them.
 */
async function upBody(services: readonly string[], flags: UpFlags & { deps?: boolean }, timeoutMs: number | null): Promise<{ body: Record<string, unknown>; release: () => void }> {
  const { leaveCallerEnv, dropCallerEnv } = await import('../../server/state.js');
  const dir = stateDir();
  const callerEnv = leaveCallerEnv(dir, process.env);
  return {
    body: { services, noDeps: flags.deps === false, killStrangers: flags.killStrangers === true, callerEnv, ...(timeoutMs === null ? {} : { timeoutMs }) },
    release: () => dropCallerEnv(dir, callerEnv),
  };
}
