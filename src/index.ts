/**
 * berth as a library. `openBerth()` gives the same engine the CLI uses, bound to a scope.
 *
 * ```ts
 * import { openBerth } from 'berth';
 * const berth = await openBerth({ scope: 'my-app' });
 * const [web] = await berth.allocate([{ name: 'web' }]);
 * console.log(web.port);
 * console.log(await berth.url('web')); // http://localhost:PORT (WEB_HOST / BERTH_HOST set the host)
 * console.log(await berth.history({ port: web.port })); // who allocated, moved, released it
 * await berth.close();
 * ```
 *
 * `berth.engine` is the engine contract itself (src/engine/): every call takes a scope
 * context, so one engine serves many scopes. `new RemoteEngine({ socketPath, token })` is
 * the same contract through a running daemon; its `services` reads and stops the stacks
 * the daemon launched (`berth up -d`).
 */
export { openBerth, openEngine, contextOf, portSourcesOf, type OpenOptions } from './open.js';
export { LocalEngine, type LocalEngineOptions } from './core/local-engine.js';
// The same contract over a running daemon's API (`berth serve`): its unix socket or a URL, with its token.
export { RemoteEngine, type RemoteEngineOptions } from './client/remote-engine.js';
// Launched stacks through that daemon: `remote.services.list(ctx)`, `.stop(ctx, name)`, `.down(ctx)`.
export type { RemoteServices } from './client/remote-services.js';
export type * from './engine/index.js';
export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, CONFLICT_KINDS, ADVISORY_KINDS } from './engine/index.js';
export type { Store, StoreTx } from './store/store.js';
export { openSqliteStore, defaultDbPath } from './store/sqlite-store.js';
export { openMemoryStore } from './store/memory/memory-store.js';
export { localMachine, type Machine } from './os/machine.js';
export * from './wiring/index.js';
export * from './workflows/index.js';
export { findConflicts, killRefusals, parseKillTarget } from './core/reality/index.js';
export { parseSignal } from './config/signals.js';
export * from './errors.js';
export * from './types.js';
