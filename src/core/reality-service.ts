/**
 * Reality as an engine service: who holds a port, every listener, each lease's live state,
 * conflicts, the first free ports, and safe kill. Everything the OS says comes from the
 * Machine; the registry from the store.
 */
import { NotFoundError, UsageError } from '../errors.js';
import type {
  Conflict,
  FreeOptions,
  FreeResult,
  KillReport,
  LeaseRef,
  LeaseStatus,
  PortEntry,
  PortKillOptions,
  ProjectInfo,
  RealityApi,
  RealityFilter,
  ScopeContext,
  WhoResult,
} from '../engine/index.js';
import { MAX_PORT, type Protocol } from '../types.js';
import { parseProtocol } from '../config/ports.js';
import { checkLimit, checkName, checkNames, checkPort, checkRange } from './validate.js';
import { didYouMean } from './suggest.js';
import { parseSignal } from '../config/signals.js';
import { planFor } from './strategy.js';
import {
  ListenerIndex,
  annotateListeners,
  findConflicts,
  findFreePorts,
  freeSearch,
  killPort,
  leaseStatus,
  liveParents,
  parseKillTarget,
  serviceOf,
} from './reality/index.js';
import type { EngineCore } from './shared.js';
import { poolSlotChanges } from './reality/pool-changes.js';

const protocolOr = (value: unknown, fallback: Protocol): Protocol => (value === undefined ? fallback : parseProtocol(value));

/** The reality operations of the LocalEngine. */
export class RealityService implements RealityApi {
  constructor(private readonly core: EngineCore) {}

  async who(ctx: ScopeContext, port: number, protocol?: Protocol): Promise<WhoResult> {
    this.core.check(ctx);
    const at = checkPort(port);
    const proto = protocolOr(protocol, 'tcp');
    const [holders, lease] = await Promise.all([
      this.core.machine.listeners({ port: at, protocol: proto, everyHolder: true }),
      this.core.store.transaction('read', (tx) => tx.leaseAt(this.core.host, proto, at)),
    ]);
    return { port: at, protocol: proto, lease, holders };
  }

  async ports(ctx: ScopeContext, opts: { readonly protocol?: Protocol } = {}): Promise<PortEntry[]> {
    this.core.check(ctx);
    const protocol = opts.protocol === undefined ? undefined : parseProtocol(opts.protocol);
    const [listeners, leases] = await Promise.all([
      this.core.machine.listeners({ protocol }),
      this.core.store.transaction('read', (tx) => tx.listLeases({ host: this.core.host })),
    ]);
    return annotateListeners(listeners, leases);
  }

  async status(ctx: ScopeContext, filter: RealityFilter = {}): Promise<LeaseStatus[]> {
    const names = filter.names === undefined ? null : checkNames(filter.names);
    const project = await this.core.resolve(ctx);
    const { statuses } = await this.observe(project, filter);
    if (names === null || names.length === 0) return statuses;
    const mine = statuses.filter((s) => s.lease.scope === project.scope);
    const missing = names.filter((n) => !mine.some((s) => s.lease.name === n));
    if (missing.length > 0) {
      const hint = missing.length === 1 ? didYouMean(missing[0]!, mine.map((s) => s.lease.name)) : '';
      throw new NotFoundError(`no lease ${missing.map((n) => `'${n}'`).join(', ')} in scope ${project.scope}.${hint} See \`berth list --scope ${project.scope}\`.`, { scope: project.scope, missing });
    }
    return names.map((n) => mine.find((s) => s.lease.name === n)!);
  }

  async check(ctx: ScopeContext, filter: RealityFilter = {}): Promise<Conflict[]> {
    const project = await this.core.resolve(ctx);
    const seen = await this.observe(project, filter);
    // Pools are the project's, whichever scope holds their slots: every held slot is checked.
    const pools = poolSlotChanges(project.config.pools, seen.allLeases);
    const found = findConflicts({
      ...seen,
      services: project.config.services,
      scope: project.scope,
      configFile: project.config.file,
      isAlive: (pid: number) => this.core.machine.isAlive(pid),
      preferredOf: (lease) => preferredPort(lease.name, project),
    });
    return [...found, ...pools];
  }

  async free(ctx: ScopeContext, opts: FreeOptions = {}): Promise<FreeResult> {
    const project = await this.core.resolve(ctx);
    const search = freeSearch(
      {
        from: opts.from === undefined ? undefined : checkPort(opts.from, 'from'),
        range: opts.range === undefined ? undefined : checkRange(opts.range),
        count: checkLimit(opts.count, 'count', MAX_PORT),
        protocol: protocolOr(opts.protocol, 'tcp'),
      },
      project.config.base,
    );
    const exclusions = await this.core.exclusions(project);
    return this.core.store.transaction('read', (tx) => findFreePorts(this.core.allocContext(tx, project, exclusions), search));
  }

  async kill(ctx: ScopeContext, target: string | number, opts: PortKillOptions = {}): Promise<KillReport> {
    const aim = typeof target === 'number' ? { port: checkPort(target) } : typeof target === 'string' ? parseKillTarget(target) : null;
    if (aim === null) throw new UsageError(`invalid kill target ${JSON.stringify(target)}: give :PORT, PORT or a lease name.`);
    const signal = parseSignal(opts.signal ?? 'SIGTERM');
    const graceMs = opts.graceMs;
    if (graceMs !== undefined && (!Number.isInteger(graceMs) || graceMs < 0)) throw new UsageError(`invalid grace ${String(graceMs)}: give whole milliseconds, 0 or more.`);
    let port: number;
    let protocol: Protocol;
    let lease: LeaseRef | null = null;
    if ('lease' in aim) {
      checkName(aim.lease);
      const held = await this.core.lease(await this.core.resolve(ctx), aim.lease);
      ({ port, protocol } = held);
      lease = { scope: held.scope, name: held.name };
    } else {
      port = aim.port;
      protocol = protocolOr(opts.protocol, 'tcp');
      const held = await this.core.store.transaction('read', (tx) => tx.leaseAt(this.core.host, protocol, port));
      if (held) lease = { scope: held.scope, name: held.name };
    }
    return killPort({ port, protocol, lease, signal, graceMs, force: opts.force === true, machine: this.core.machine, stopContainer: opts.stopContainer === true });
  }

  /** The leases of the scope (every scope with `all`) next to what listens on their ports. */
  private async observe(project: ProjectInfo, filter: RealityFilter) {
    const { machine } = this.core;
    const [listeners, allLeases] = await Promise.all([machine.listeners(), this.core.store.transaction('read', (tx) => tx.listLeases({ host: this.core.host }))]);
    const listenersIndex = new ListenerIndex(listeners);
    const parentOf = liveParents(machine);
    const leases = filter.all ? allLeases : allLeases.filter((l) => l.scope === project.scope);
    const statuses = leases.map((l) => leaseStatus(l, serviceOf(l, project.config, project.scope), listenersIndex.at(l.protocol, l.port), parentOf));
    return { statuses, allLeases, listeners: listenersIndex, parentOf };
  }
}

/**
 * The port a lease of `name` would be given first if it were allocated now with nothing
 * said on the command line: the preferred strategy's port (berth.yaml's prefer:, or a
 * well-known name's customary port), else null. The same plan allocation makes.
 */
function preferredPort(name: string, project: ProjectInfo): number | null {
  const svc = project.config.services.find((s) => s.name === name) ?? null;
  try {
    const plan = planFor({ name }, svc, project.config, project.scope);
    return plan.strategy === 'preferred' ? plan.first : null;
  } catch {
    // A plan berth.yaml cannot make (an unknown category): nothing is preferred.
    return null;
  }
}
