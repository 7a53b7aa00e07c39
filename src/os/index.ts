/**
 * The os/ layer: what the operating system says about ports and processes. Imports only
 * ../types.js, ../errors.js and node builtins.
 */
export type { KillOptions, KillResult, ListenerQuery, PortRef, ProcessInfo, PublishedPort } from './types.js';
export { NOT_HOLDING } from './types.js';
export { listListeners } from './listeners.js';
export { compareListeners } from './listener-order.js';
export { listPublishedPorts, dockerEndpoint, DOCKER_TIMEOUT_MS, DEFAULT_DOCKER_SOCKET, type DockerOptions } from './docker.js';
export { attachContainers } from './attach-containers.js';
export { isPortFree, ephemeralPortRange, PROBE_ADDRESSES } from './bind-probe.js';
export { isAlive, processInfo, processIdentity, currentUid } from './processes.js';
export { killProcesses, killTree, DEFAULT_GRACE_MS, SIGKILL_WAIT_MS } from './kill.js';
export { parseProcNet, decodeProcAddress, formatIpv6, isListening, type ProcNetSocket } from './parse-proc-net.js';
export { parseLsof } from './parse-lsof.js';
export { parseContainersJson } from './parse-docker.js';
export { localMachine, type Machine } from './machine.js';
export { processTable, serviceMembers, portHolding, markedProcesses, environHas, type MemberQuery, type ProcessRow } from './process-group.js';
