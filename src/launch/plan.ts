/**
 * Before anything starts: the services a selection brings up, in order, each with its
 * lease, its command (framework port flag added), its environment, and every leased port
 * checked for a holder. Plain data: `berth up --check-only` prints it, `berth up` acts on it.
 */
import { ConfigError, UsageError } from '../errors.js';
import type { Engine, ScopeContext } from '../engine/index.js';
import { selectWithDependencies } from '../config/graph.js';
import { injectPortFlag, injectPortFlagShell } from '../wiring/framework-flags.js';
import type { Lease, Listener, ServiceConfig } from '../types.js';
import { describeHolder } from './health.js';
import type { NamedPort, RunnerSpec } from './spec.js';

/** A leased port someone else holds before the stack starts. */
export interface HeldPort {
  readonly service: string;
  /** The lease of the port: the service's own, or one of its `leases:`. */
  readonly lease: string;
  readonly port: number;
  readonly holders: readonly Listener[];
  /** `port 5001 (api) is held by pid 4242 (node) of user ann`. */
  readonly message: string;
}

/** One service as planned. */
export interface PlannedService {
  readonly name: string;
  /** Its own lease's port. */
  readonly port: number;
  /** Every port it owns, its own first, then its `leases:`. */
  readonly ports: readonly NamedPort[];
  /** The command as it will run, for people. */
  readonly command: string;
  readonly framework: string | null;
  readonly note: string | null;
  readonly dependsOn: readonly { readonly name: string; readonly condition: string }[];
  readonly health: string | null;
  readonly enabled: boolean;
  /** berth's variables in its environment (PORT, its own and its dependencies' _PORT/_URL). */
  readonly env: Readonly<Record<string, string>>;
}

/** What `up` would do. */
export interface LaunchPlan {
  readonly scope: string;
  readonly configFile: string | null;
  /** Start order; shutdown is the reverse. */
  readonly order: readonly string[];
  readonly services: readonly PlannedService[];
  readonly held: readonly HeldPort[];
  /** The leases, for handing them over and releasing them. */
  readonly leases: readonly Lease[];
  /** Spawn specs, in start order. */
  readonly specs: readonly RunnerSpec[];
}

/** Options of {@link planLaunch}. */
export interface PlanOptions {
  readonly services?: readonly string[];
  readonly noDeps?: boolean;
  /** The environment services start from (default this process's): the caller's shell, when the daemon runs the stack. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The launchable services of berth.yaml (those with `command:`). */
export function launchable(services: readonly ServiceConfig[]): (ServiceConfig & { launch: NonNullable<ServiceConfig['launch']> })[] {
  return services.filter((s): s is ServiceConfig & { launch: NonNullable<ServiceConfig['launch']> } => s.launch !== undefined);
}

/**
 * Reads berth.yaml, picks the services, gets or allocates their leases (all or none; new
 * ones ephemeral, owned by this process until a service's process takes them) and asks
 * who holds each port.
 *
 * @throws ConfigError when berth.yaml launches nothing; UsageError for an unknown service.
 */
export async function planLaunch(engine: Engine, ctx: ScopeContext, opts: PlanOptions = {}): Promise<LaunchPlan> {
  const project = await engine.project(ctx);
  const all = launchable(project.config.services);
  if (all.length === 0) {
    throw new ConfigError(project.config.file ?? `${project.projectDir}/berth.yaml`, 'services', 'no service has a command:, so there is nothing to launch. Add command: (and depends_on:, health:) to the services berth should run.');
  }
  const selected = opts.services ?? [];
  for (const name of selected) {
    if (!all.some((s) => s.name === name)) throw new UsageError(`no service '${name}' with a command in ${project.config.file}. Launchable: ${all.map((s) => s.name).join(', ')}.`, { service: name });
  }
  const nodes = all.map((s) => ({ name: s.name, needs: s.launch.dependsOn.map((d) => d.name) }));
  const order = selectWithDependencies(nodes, selected, opts.noDeps === true);
  // force: a fixed port some process holds is still leased here, so the check below can name
  // the holder (and --kill-strangers or a prompt deal with it) instead of a bare refusal.
  const owned = (name: string): string[] => [name, ...all.find((x) => x.name === name)!.launch.leases];
  const leases = await engine.leases.allocate(ctx, order.flatMap(owned).map((name) => ({ name })), { ephemeral: true, pid: process.pid, force: true });
  const portOf = new Map(leases.map((l) => [l.name, l]));
  const vars = await engine.wiring.env(ctx, { urls: true });
  const services: PlannedService[] = [];
  const specs: RunnerSpec[] = [];
  for (const name of order) {
    const s = all.find((x) => x.name === name)!;
    const port = portOf.get(name)!.port;
    const ports = owned(name).map((n) => ({ name: n, port: portOf.get(n)!.port }));
    const healthPort = ports.find((p) => p.name === (s.launch.health?.port ?? name))!.port;
    // Its own ports' variables and its dependencies' (each dependency's leases: too, when it was planned).
    const mine = new Set([...owned(name), ...s.launch.dependsOn.flatMap((d) => (order.includes(d.name) ? owned(d.name) : [d.name]))]);
    const env: Record<string, string> = { PORT: String(port) };
    for (const v of vars) if (mine.has(v.lease.name) && v.lease.pool === null) env[v.name] = v.value;
    let file: string;
    let args: string[];
    let shown: string;
    let framework: string | null;
    let note: string | null;
    if ('argv' in s.launch.command) {
      const r = injectPortFlag(s.launch.command.argv, port);
      [file, ...args] = r.argv as [string, ...string[]];
      ({ framework, note } = r);
      shown = r.argv.join(' ');
    } else {
      const r = injectPortFlagShell(s.launch.command.shell, port);
      file = '/bin/sh';
      args = ['-c', r.line];
      ({ framework, note } = r);
      shown = r.line;
    }
    services.push({
      name,
      port,
      ports,
      command: shown,
      framework,
      note,
      dependsOn: s.launch.dependsOn,
      health: s.launch.health === null ? null : `${s.launch.health.kind}${s.launch.health.target === '' ? '' : ` ${s.launch.health.target}`}`,
      enabled: s.launch.enabled,
      env,
    });
    specs.push({ name, launch: s.launch, file, args, env: { ...stringEnv(opts.env ?? process.env), ...env, ...s.launch.environment }, port, ports, healthPort, description: s.purpose });
  }
  const held = await heldPorts(engine, ctx, services);
  return { scope: project.scope, configFile: project.config.file, order, services, held, leases, specs };
}

/** Every leased port a process already holds (each port of each service), with the holders named. */
export async function heldPorts(engine: Engine, ctx: ScopeContext, services: readonly { readonly name: string; readonly ports: readonly NamedPort[] }[]): Promise<HeldPort[]> {
  const held: HeldPort[] = [];
  for (const s of services) {
    for (const p of s.ports) {
      const who = await engine.reality.who(ctx, p.port);
      if (who.holders.length === 0) continue;
      const names = [...new Set(who.holders.map((h) => `${describeHolder(h)}${h.command === null ? '' : `: ${h.command}`}`))];
      held.push({ service: s.name, lease: p.name, port: p.port, holders: who.holders, message: `port ${p.port} (${p.name === s.name ? s.name : `${p.name} of ${s.name}`}) is held by ${names.join('; ')}` });
    }
  }
  return held;
}

function stringEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('BERTH_LAUNCH')) out[k] = v;
  return out;
}

/** Why nothing was started when leased ports are held, with what the user can do about it. */
export function heldMessage(held: readonly HeldPort[]): string {
  return `${held.map((h) => h.message).join('; ')}. Nothing was started. Stop it (berth kill PORT), pass --kill-strangers, or move the lease (berth reassign NAME PORT).`;
}
