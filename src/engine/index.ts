/**
 * The engine contract: types only, no I/O. See engine.ts.
 */
export type { Engine, EngineInfo } from './engine.js';
export type { ProjectInfo, ScopeContext } from './context.js';
export type { AllocateOptions, AllocatedLease, AllocationRequest, LeasesApi, ListFilter, ReassignOptions } from './leases.js';
export type { PoolStatus, PoolsApi, ReserveOptions, SlotStatus } from './pools.js';
export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from './registry.js';
export type { ExportOptions, GcResult, HistoryQuery, ImportOptions, ImportResult, RegistryApi, ResetResult, Snapshot } from './registry.js';
export * from './reality.js';
export type { EnvOptions, WiringApi } from './wiring.js';
export type { EventsApi, SubscribeOptions, Unsubscribe } from './events.js';
export { CHECK_HISTORY, LIVE_STATES, formatUptime, type KnownStack, type LogLine, type ServiceCheck, type ServiceEvent, type ServiceExit, type ServicePort, type ServiceState, type ServiceStatus, type StackEvent, type StackUpResult, type StopProblem, type StopReport } from './services.js';
