/**
 * The registry as a whole: export, import, gc, reset and history. Every one acts on this
 * machine's rows only: on a shared registry one machine never exports, replaces or wipes
 * another's leases.
 */
import { UsageError } from '../errors.js';
import type {
  ExportOptions,
  GcResult,
  HistoryQuery,
  ImportOptions,
  ImportResult,
  RegistryApi,
  ResetResult,
  ScopeContext,
  Snapshot,
} from '../engine/index.js';
import type { RegistryEvent } from '../types.js';
import { parseSince } from '../config/durations.js';
import { collectGarbage } from './gc.js';
import type { EngineCore } from './shared.js';
import { checkLeaseName, checkScopeName } from './scope.js';
import { applySnapshot, checkSnapshotHost, parseSnapshot, takeSnapshot } from './snapshot.js';
import { checkLimit, checkPort } from './validate.js';

/** How many events `history` lists unless told. */
export const DEFAULT_HISTORY_LIMIT = 50;
/** The most one history call returns. */
export const MAX_HISTORY_LIMIT = 10_000;

/** The registry operations of the LocalEngine. */
export class RegistryService implements RegistryApi {
  constructor(private readonly core: EngineCore) {}

  async export(ctx: ScopeContext, opts: ExportOptions = {}): Promise<Snapshot> {
    this.core.check(ctx);
    const scope = opts.scope === undefined ? undefined : checkScopeName(opts.scope);
    return this.core.store.transaction('read', (tx) => takeSnapshot(tx, this.core.host, scope));
  }

  async import(ctx: ScopeContext, snapshot: unknown, opts: ImportOptions = {}): Promise<ImportResult> {
    this.core.check(ctx);
    const source = opts.source === undefined ? 'the snapshot' : String(opts.source);
    const snap = parseSnapshot(snapshot, source);
    // Before the write transaction, so rows of another machine are refused naming the source.
    checkSnapshotHost(snap, this.core.host, source);
    const result = await this.core.store.transaction('write', (tx) => applySnapshot(tx, snap, opts.replace === true, this.core.host), this.core.intent(ctx, 'import'));
    return result;
  }

  async gc(ctx: ScopeContext, opts: { readonly dryRun?: boolean } = {}): Promise<GcResult> {
    this.core.check(ctx);
    const dryRun = opts.dryRun === true;
    const isAlive = (pid: number) => this.core.machine.isAlive(pid);
    const result = await this.core.store.transaction(dryRun ? 'read' : 'write', (tx) => collectGarbage(tx, this.core.host, dryRun, isAlive), this.core.intent(ctx, 'gc'));
    return result;
  }

  async reset(ctx: ScopeContext): Promise<ResetResult> {
    this.core.check(ctx);
    const host = this.core.host;
    const leases = await this.core.store.transaction(
      'write',
      async (tx) => {
        const count = (await tx.listLeases({ host })).length;
        await tx.reset(host);
        return count;
      },
      this.core.intent(ctx, 'reset'),
    );
    return { reset: true, store: this.core.store.location, host, leases };
  }

  async history(ctx: ScopeContext, query: HistoryQuery = {}): Promise<RegistryEvent[]> {
    this.core.check(ctx);
    const q = checkHistoryQuery(query);
    return this.core.store.transaction('read', (tx) => tx.listEvents({ host: this.core.host, ...q, newestFirst: true }));
  }
}

/** A history query checked field by field (the daemon passes query strings straight through). */
function checkHistoryQuery(query: HistoryQuery): { name?: string; port?: number; scope?: string; since?: string; limit: number } {
  if (typeof query !== 'object' || query === null) throw new UsageError('invalid history query: expected an object.');
  const out: { name?: string; port?: number; scope?: string; since?: string; limit: number } = {
    limit: checkLimit(query.limit, 'limit', MAX_HISTORY_LIMIT) ?? DEFAULT_HISTORY_LIMIT,
  };
  if (query.name !== undefined) out.name = checkLeaseName(String(query.name));
  if (query.port !== undefined) out.port = checkPort(query.port);
  if (query.scope !== undefined) out.scope = checkScopeName(String(query.scope));
  if (query.since !== undefined) out.since = parseSince(String(query.since));
  return out;
}
