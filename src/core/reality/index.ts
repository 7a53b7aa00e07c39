/**
 * Reality: who really holds a port, registry vs reality reconciled into conflicts, safe
 * kill, first free port. The engine's reality methods are built from these.
 */
export * from './types.js';
export { ConflictsFoundError, KillIncompleteError } from './errors.js';
export { expectationOf, holderMatches, isSelfOrDescendant, processNameMatches, describeHolder, describeExpectation, printable, type ParentOf } from './expect.js';
export { ListenerIndex, annotateListeners, leaseStatus, serviceOf } from './status.js';
export { findConflicts, fixedPortOf, type ConflictInput } from './conflicts.js';
export { CONTAINER_PORT_HOLDERS, containerStopCommand, killRefusals, parseKillTarget, parseSignal, type KillPolicyContext, type KillTarget } from './kill-policy.js';
export { killPort, FREE_CONFIRM_MS, type KillPortOptions } from './kill.js';
export { findFreePorts, freeSearch, type FreeSearch } from './free.js';
export { observeListeners, liveParents } from './observe.js';
