/**
 * `berth run -- CMD`: get-or-allocate leases, put every port in the command's environment,
 * run it like exec would, and with `ephemeral` tie the new leases to the command's pid and
 * release them when it ends, however it ends.
 */
import { basename } from 'node:path';
import type { Lease, ServiceConfig } from '../types.js';
import { ChildExitStatus, UsageError } from '../errors.js';
import type { Engine, ScopeContext } from '../engine/index.js';
import { describeConfigDrift } from '../wiring/describe.js';
import { envObject } from '../wiring/json.js';
import { leaseSpeaksHttp } from '../wiring/http.js';
import { injectPortFlag } from '../wiring/framework-flags.js';
import { watchChildPorts, type PortWatchSources } from './port-watch.js';
import { runChild, type ChildOutcome } from './run-child.js';

/** The lease `berth run` uses when neither the command line nor berth.yaml names one. */
export const DEFAULT_RUN_LEASE = 'app';

/** Options of `berth.run()`. */
export interface RunOptions {
  /** Leases to get or allocate; default every service in berth.yaml, else DEFAULT_RUN_LEASE. */
  readonly names?: readonly string[];
  /**
   * Tie the leases this run creates to the command's pid and release them when it exits.
   * Leases that existed before keep their owner (a sticky lease stays sticky).
   */
  readonly ephemeral?: boolean;
  /** Host in the `<NAME>_URL` variables; default BERTH_HOST, else localhost. */
  readonly host?: string;
  /** Working directory of the command; default this process's. */
  readonly cwd?: string;
  /** Environment the variables are added to; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Receives advice for people (port checks, ownership notes); default: dropped. */
  readonly warn?: (message: string) => void;
  /** Check after start which ports the command listens on (default true when `portSources` is given). */
  readonly checkPorts?: boolean;
  /** Where the port check reads the OS; without it there is no port check. */
  readonly portSources?: PortWatchSources;
}

/** How a run ended, and what it was given. */
export interface RunOutcome extends ChildOutcome {
  /** The leases named for the run, in order; `PORT` is the first one's port. */
  readonly leases: readonly Lease[];
  /** The variables added to the command's environment (`PORT` and the scope's variables). */
  readonly variables: Readonly<Record<string, string>>;
  /** Ephemeral leases released after the command ended. */
  readonly released: readonly Lease[];
}

/**
 * Runs `command args` with the scope's ports in its environment:
 * - the names are got or allocated in one all-or-none step (ephemeral ones owned by this
 *   process first, so a crash before the command starts leaves them to `berth gc`);
 * - the environment gets every variable of the scope (`<NAME>_PORT`, and `<NAME>_URL` for
 *   HTTP services) and `PORT` = the first name's port;
 * - with `ephemeral`, as soon as the command runs its new leases (and ephemeral leases of
 *   the same names whose owner is dead) are handed to its pid; after it exits they are
 *   released. If this process dies first, the command's pid still owns them and `berth gc`
 *   reclaims them once it is gone too;
 * - stdio is inherited; SIGINT, SIGTERM and SIGHUP are passed on (see runChild);
 * - with `checkPorts`, a few background polls in the first seconds warn when the command
 *   listens on a port that is not a lease of the scope, or another process holds its
 *   lease port (see watchChildPorts).
 *
 * Resolves with the command's outcome whatever its status; rejects only when it cannot
 * start (UsageError: an empty command, `command not found` with details.shellStatus 127;
 * see runChild) or the leases cannot be had. A command that never starts releases the
 * leases this run created (sticky ones by name, ephemeral ones by owner); leases that
 * existed before stay.
 */
export async function runLeased(engine: Engine, ctx: ScopeContext, command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutcome> {
  checkCommand(command, args);
  const warn = opts.warn ?? (() => undefined);
  const project = await engine.project(ctx);
  const held = await engine.leases.list(ctx, { scope: project.scope });
  const names = opts.names && opts.names.length > 0 ? opts.names : defaultNames(project.config.services, held);
  const ephemeral = opts.ephemeral === true;
  // Which names this run creates, so that a command that never starts takes none with it.
  const existing = new Set(held.map((l) => l.name));
  const leases = await engine.leases.allocate(
    ctx,
    names.map((name) => ({ name })),
    ephemeral ? { ephemeral: true, pid: process.pid } : {},
  );
  for (const l of leases) if (l.configPort !== undefined) warn(describeConfigDrift(l.name, l.port, l.configPort));
  const candidates = ephemeral ? leases.filter((l) => l.ephemeral).map((l) => l.name) : [];
  const created = leases.filter((l) => !l.ephemeral && !existing.has(l.name)).map((l) => l.name);
  if (ephemeral) {
    for (const l of leases.filter((x) => !x.ephemeral)) {
      warn(`lease ${l.name} (port ${l.port}) was allocated without --ephemeral before; it stays after the command ends.`);
    }
  }
  let childPid: number | undefined;
  let stopWatch = (): void => undefined;
  try {
    const vars = envObject(await engine.wiring.env(ctx, { urls: true, host: opts.host }));
    const variables = { ...vars, PORT: String(leases[0]!.port) };
    const label = basename(command);
    // A lease port someone already holds: said before the spawn, since the command would
    // most likely die at once on EADDRINUSE without naming who is in the way.
    for (const lease of leases) {
      const holders = (await engine.reality.who(ctx, lease.port, lease.protocol)).holders;
      if (holders.length > 0) warn(`port ${lease.port} (${lease.name}) is already held by ${holders.map(holderText).join(', ')}; the command may fail to listen on it.`);
    }
    // Dev servers that ignore PORT get their own port flag (one table: launch uses it too).
    const injection = injectPortFlag([command, ...args], leases[0]!.port);
    if (injection.injected) warn(`${injection.framework} ignores PORT; running it with ${injection.argv.slice(1 + args.length).join(' ')}.`);
    if (injection.note !== null) warn(injection.note);
    const outcome = await runChild(command, injection.argv.slice(1), { ...(opts.env ?? process.env), ...variables }, {
      cwd: opts.cwd,
      onSpawn: async (pid) => {
        childPid = pid;
        if (candidates.length > 0) {
          const taken = new Set((await engine.leases.handOver(ctx, candidates, process.pid, pid)).map((l) => l.name));
          for (const name of candidates.filter((n) => !taken.has(n))) {
            warn(`lease ${name} belongs to another running process; it stays with that process.`);
          }
        }
        if (opts.checkPorts !== false && opts.portSources !== undefined) {
          const scopeLeases = await engine.leases.list(ctx, { scope: leases[0]!.scope });
          stopWatch = watchChildPorts({ pid, command: label, leases, scopeLeases, warn, sources: opts.portSources });
        }
      },
    });
    stopWatch();
    const kept = await keepListening(engine, ctx, leases.filter((l) => candidates.includes(l.name)), outcome.pid, warn);
    const rest = candidates.filter((n) => !kept.includes(n));
    const released = rest.length > 0 ? await engine.leases.releaseOwned(ctx, rest, [process.pid, outcome.pid]) : [];
    return { ...outcome, leases, variables, released };
  } catch (error) {
    stopWatch();
    if (candidates.length > 0) {
      const owners = childPid === undefined ? [process.pid] : [process.pid, childPid];
      await engine.leases.releaseOwned(ctx, candidates, owners).catch((releaseError: unknown) => {
        // The command's own failure is what the caller must see; the leases stay owned by
        // pids that are gone, so `berth gc` reclaims them.
        warn(`could not release the ephemeral leases (${(releaseError as Error).message}); \`berth gc\` will.`);
      });
    }
    if (childPid === undefined && created.length > 0) {
      // The command never ran: the sticky leases made for it would only hold ports for nothing.
      await engine.leases.release(ctx, created).catch((releaseError: unknown) => {
        // The failure to start is what the caller must see; the leases are named so they can be released by hand.
        warn(`could not release the leases made for the command (${(releaseError as Error).message}); release them with \`berth release ${created.join(' ')}\`.`);
      });
    }
    throw error;
  }
}

/** Refuses a command that cannot be run whatever PATH holds: empty, or with a NUL byte. */
function checkCommand(command: string, args: readonly string[]): void {
  if (typeof command !== 'string' || command.trim() === '') {
    throw new UsageError('the command to run is empty: name it after --, as in berth run [NAME...] -- CMD [ARGS...]', { command });
  }
  if ([command, ...args].some((word) => typeof word !== 'string' || word.includes('\0'))) {
    throw new UsageError(`cannot run ${JSON.stringify(command)}: the command and its arguments must be strings without NUL bytes.`, { command });
  }
}

/**
 * Every service of berth.yaml; else the roles of the pool slot the scope holds (a
 * Conductor workspace runs on its slot's ports, `PORT` = the first HTTP role's, else the
 * first role's), not a new `app` lease; else DEFAULT_RUN_LEASE.
 */
function defaultNames(services: readonly ServiceConfig[], held: readonly Lease[]): string[] {
  if (services.length > 0) return services.map((s) => s.name);
  const slot = held.filter((l) => l.pool !== null && l.pool === held.find((h) => h.pool !== null)!.pool);
  if (slot.length === 0) return [DEFAULT_RUN_LEASE];
  const first = slot.find((l) => leaseSpeaksHttp(l, null)) ?? slot[0]!;
  return [first.name, ...slot.filter((l) => l !== first).map((l) => l.name)];
}

/** The error for a command's non-zero status: the CLI exits with that same status. */
export function childExitStatus(command: string, outcome: ChildOutcome): ChildExitStatus {
  return new ChildExitStatus(
    outcome.signal === null
      ? `${command} exited with status ${outcome.exitCode}`
      : `${command} was ended by ${outcome.signal} (exit status ${outcome.exitCode})`,
    { command, code: outcome.code, signal: outcome.signal, status: outcome.exitCode },
  );
}

function holderText(l: { readonly pid: number | null; readonly process: string | null; readonly user: string | null }): string {
  return l.pid === null ? 'a process berth cannot see' : `pid ${l.pid} (${l.process ?? '?'})${l.user === null ? '' : ` of user ${l.user}`}`;
}

/**
 * Ephemeral leases whose port is still listened on after the command exited (a dev
 * server that daemonised): each stays, handed to the process that listens, so `berth gc`
 * reclaims it only once that process is gone too. Returns the names kept.
 */
async function keepListening(engine: Engine, ctx: ScopeContext, leases: readonly Lease[], exited: number, warn: (m: string) => void): Promise<string[]> {
  const kept: string[] = [];
  for (const lease of leases) {
    const holder = (await engine.reality.who(ctx, lease.port, lease.protocol)).holders.find((h) => h.pid !== null && h.pid !== process.pid);
    if (holder === undefined) continue;
    const moved = await engine.leases.handOver(ctx, [lease.name], exited, holder.pid!);
    if (moved.length === 0) continue;
    kept.push(lease.name);
    warn(`lease ${lease.name} (port ${lease.port}) stays: the command exited but ${holderText(holder)} still listens on it and now owns it; berth gc releases it once that process is gone.`);
  }
  return kept;
}
