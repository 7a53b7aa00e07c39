/**
 * `Berth`: the library's scope-bound face of an engine. Every method is one engine call
 * (or one workflow) with the scope context fixed at open, so `berth.allocate([...])`
 * reads like the CLI. `engine` and `context` are there for calls on other scopes.
 */
import type {
  AllocateOptions,
  AllocationRequest,
  Conflict,
  Engine,
  FreeOptions,
  FreeResult,
  GcResult,
  HistoryQuery,
  ImportResult,
  KillReport,
  LeaseStatus,
  ListFilter,
  PoolStatus,
  PortEntry,
  PortKillOptions,
  RealityFilter,
  ReserveOptions,
  ResetResult,
  ScopeContext,
  Snapshot,
  WhoResult,
  EnvOptions,
} from '../engine/index.js';
import type { EnvVar, Lease, PoolUrl, Protocol, RegistryEvent, ScopeUrl } from '../types.js';
import type { ComposeOverrideOptions, ComposeOverrideResult } from './compose-build.js';
import type { EnvFormat } from './env-format.js';
import { renderScopeTemplate, rerenderScope, writeScopeEnv, type RenderOptions, type RenderResult, type RerenderOutcome, type ScopeEnvResult } from './scope-files.js';
import { urlHost } from '../wiring/hosts.js';
import { runLeased, type RunOptions, type RunOutcome } from './run-leased.js';
import { serviceUrl, type ServiceUrlOptions } from './url.js';

/** An engine with a scope context: what `openBerth()` returns. */
export class Berth {
  constructor(
    /** The engine every call goes through (local, or the daemon's). */
    readonly engine: Engine,
    /** Who the calls act for. */
    readonly context: ScopeContext,
    /** Defaults for `run` (the port check's view of the OS). */
    private readonly runDefaults: Pick<RunOptions, 'portSources'> = {},
  ) {}

  /** The scope this Berth acts for. */
  async scope(): Promise<string> {
    return (await this.engine.project(this.context)).scope;
  }

  allocate(requests?: readonly AllocationRequest[], opts?: AllocateOptions): Promise<Lease[]> {
    return this.engine.leases.allocate(this.context, requests, opts);
  }
  get(name: string): Promise<Lease> {
    return this.engine.leases.get(this.context, name);
  }
  release(names?: readonly string[]): Promise<Lease[]> {
    return this.engine.leases.release(this.context, names);
  }
  list(filter?: ListFilter): Promise<Lease[]> {
    return this.engine.leases.list(this.context, filter);
  }
  /** Moves lease `name` to `port`; with `port` null, to the next free port of its category. */
  reassign(name: string, port: number | null, force = false): Promise<Lease> {
    return this.engine.leases.reassign(this.context, name, port, { force });
  }
  reserve(pool?: string, opts: Omit<ReserveOptions, 'pool'> = {}): Promise<Lease[]> {
    return this.engine.pools.reserve(this.context, { ...opts, pool });
  }
  pools(): Promise<PoolStatus[]> {
    return this.engine.pools.status(this.context);
  }
  poolUrls(pool?: string): Promise<PoolUrl[]> {
    return this.engine.pools.urls(this.context, pool);
  }
  exportSnapshot(scope?: string): Promise<Snapshot> {
    return this.engine.registry.export(this.context, { scope });
  }
  importSnapshot(snapshot: unknown, replace = false): Promise<ImportResult> {
    return this.engine.registry.import(this.context, snapshot, { replace });
  }
  gc(dryRun = false): Promise<GcResult> {
    return this.engine.registry.gc(this.context, { dryRun });
  }
  reset(): Promise<ResetResult> {
    return this.engine.registry.reset(this.context);
  }
  history(query?: HistoryQuery): Promise<RegistryEvent[]> {
    return this.engine.registry.history(this.context, query);
  }
  who(port: number, protocol?: Protocol): Promise<WhoResult> {
    return this.engine.reality.who(this.context, port, protocol);
  }
  ports(opts?: { readonly protocol?: Protocol }): Promise<PortEntry[]> {
    return this.engine.reality.ports(this.context, opts);
  }
  status(filter?: RealityFilter): Promise<LeaseStatus[]> {
    return this.engine.reality.status(this.context, filter);
  }
  check(filter?: RealityFilter): Promise<Conflict[]> {
    return this.engine.reality.check(this.context, filter);
  }
  free(opts?: FreeOptions): Promise<FreeResult> {
    return this.engine.reality.free(this.context, opts);
  }
  kill(target: string | number, opts?: PortKillOptions): Promise<KillReport> {
    return this.engine.reality.kill(this.context, target, opts);
  }
  env(opts?: EnvOptions): Promise<EnvVar[]> {
    return this.engine.wiring.env(this.context, opts);
  }
  urls(opts?: { readonly host?: string }): Promise<ScopeUrl[]> {
    return this.engine.wiring.urls(this.context, opts);
  }

  /** Writes the scope's variables to `file` atomically (dotenv merges, keeping every other line). */
  async writeEnv(file: string, opts: EnvOptions & { readonly format?: EnvFormat } = {}): Promise<ScopeEnvResult> {
    return writeScopeEnv(this.engine, this.context, file, opts.format ?? 'dotenv', opts);
  }
  /** Fills a template file (or a built-in) with the scope's variables; with `write`, writes and records it (`berth render`). */
  render(template: string, opts: Partial<RenderOptions> = {}): Promise<RenderResult> {
    return renderScopeTemplate(this.engine, this.context, template, { ...opts, host: opts.host ?? urlHost() });
  }
  /** Re-renders every file berth wrote for this scope (after ports moved); says what happened to each. */
  async rerender(): Promise<RerenderOutcome[]> {
    return rerenderScope(this.engine, await this.scope());
  }
  /** `http://HOST:PORT` of the lease `name`, HOST from `<NAME>_HOST`, `BERTH_HOST`, else localhost. */
  url(name: string, opts?: ServiceUrlOptions): Promise<string> {
    return serviceUrl(this.engine, this.context, name, opts);
  }
  /** A docker compose override publishing each service's ports on the scope's leases. */
  async composeOverride(opts?: ComposeOverrideOptions): Promise<ComposeOverrideResult> {
    // Loaded on demand: the YAML library is needed only for compose work.
    const { buildComposeOverride } = await import('./compose-build.js');
    return buildComposeOverride(this.engine, this.context, opts);
  }
  /** Runs a command with the scope's ports in its environment (`berth run`). */
  run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunOutcome> {
    return runLeased(this.engine, this.context, command, args, { ...this.runDefaults, ...opts });
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
