/**
 * berth as a library. `openBerth()` gives the same engine the CLI uses.
 *
 * ```ts
 * import { openBerth } from 'berth';
 * const berth = await openBerth({ scope: 'my-app' });
 * const [web] = await berth.allocate([{ name: 'web' }]);
 * console.log(web.port);
 * console.log(await berth.url('web')); // http://localhost:PORT (WEB_HOST / BERTH_HOST set the host)
 * await berth.close();
 * ```
 */
export { openBerth, Berth, type OpenOptions, type AllocateOptions, type ListFilter } from './core/engine.js';
export type { AllocationRequest } from './core/strategy.js';
export type { PoolStatus, SlotStatus } from './core/pools.js';
export type { Snapshot, ImportResult } from './core/snapshot.js';
export type { GcResult } from './core/gc.js';
export type { Store, StoreTx } from './store/store.js';
export { openSqliteStore, defaultDbPath } from './store/sqlite-store.js';
export * from './wiring/index.js';
export * from './workflows/index.js';
export {
  CONFLICT_KINDS,
  ConflictsFoundError,
  KillIncompleteError,
  findConflicts,
  killRefusals,
  parseKillTarget,
  parseSignal,
  type Conflict,
  type ConflictKind,
  type Expectation,
  type FreeOptions,
  type FreeResult,
  type KillReport,
  type KilledProcess,
  type LeaseRef,
  type LeaseState,
  type LeaseStatus,
  type PortEntry,
  type PortKillOptions,
  type RealityFilter,
  type Refusal,
  type RefusalKind,
  type WhoResult,
} from './core/reality/index.js';
export * from './errors.js';
export * from './types.js';
