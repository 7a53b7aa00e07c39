/**
 * Reality: who really holds a port, registry vs reality reconciled into conflicts, safe
 * kill, first free port. The engine's reality methods are built from these.
 */
export { expectationOf, holderMatches, isSelfOrDescendant, processNameMatches, type ParentOf } from './expect.js';
export { ListenerIndex, annotateListeners, leaseStatus, serviceOf } from './status.js';
export { findConflicts, fixedPortOf, type ConflictInput } from './conflicts.js';
export { CONTAINER_PORT_HOLDERS, containerStopCommand, killRefusals, parseKillTarget, type KillPolicyContext, type KillTarget } from './kill-policy.js';
export { killPort, FREE_CONFIRM_MS, type KillPortOptions } from './kill.js';
export { findFreePorts, freeSearch, type FreeSearch } from './free.js';
export { ancestorsOfSelf, liveParents } from './observe.js';
