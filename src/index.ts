/**
 * berth as a library. `openBerth()` gives the same engine the CLI uses.
 *
 * ```ts
 * import { openBerth } from 'berth';
 * const berth = await openBerth({ scope: 'my-app' });
 * const [web] = await berth.allocate([{ name: 'web' }]);
 * console.log(web.port);
 * await berth.close();
 * ```
 */
export { openBerth, Berth, type OpenOptions, type AllocateOptions, type ListFilter } from './core/engine.js';
export type { AllocationRequest } from './core/strategy.js';
export type { BerthConfig, ServiceConfig, PoolConfig, StrategyName } from './core/config/types.js';
export type { PoolStatus, SlotStatus } from './core/pools.js';
export type { Snapshot, ImportResult } from './core/snapshot.js';
export type { GcResult } from './core/gc.js';
export type { Store, StoreTx } from './store/store.js';
export { openSqliteStore, defaultDbPath } from './store/sqlite-store.js';
export * from './errors.js';
export * from './types.js';
