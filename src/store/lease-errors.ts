/**
 * The errors a lease write throws, worded once so that every backend says the same thing
 * (the conformance suite checks the holder they name).
 */
import { ConflictError, NotFoundError, UsageError } from '../errors.js';
import { MAX_PORT, PROTOCOLS, type Protocol } from '../types.js';

/** The (scope, name) already holds a port. */
export function nameTaken(scope: string, name: string, port: number): ConflictError {
  return new ConflictError(`${scope}/${name} already holds port ${port}. Release it first, or use reassign to move it.`);
}

/** The port is held by the lease `holder`. */
export function portTaken(port: number, protocol: Protocol, holder: { scope: string; name: string }): ConflictError {
  const who = `${holder.scope}/${holder.name}`;
  return new ConflictError(`port ${port}/${protocol} is held by ${who}. Choose another port, or release that lease first.`, { port, holder: who });
}

/** Whether a lease may hold this port and protocol (what the SQLite schema checks). */
export function isLeasable(port: number, protocol: Protocol): boolean {
  return Number.isInteger(port) && port >= 1 && port <= MAX_PORT && PROTOCOLS.includes(protocol);
}

/** A port or protocol no lease can hold. */
export function notLeasable(port: number, protocol: Protocol): UsageError {
  return new UsageError(`port ${port}/${protocol} cannot be leased: ports run from 1 to ${MAX_PORT}, over tcp or udp.`);
}

/** No lease of that (scope, name) to change. */
export function noLease(scope: string, name: string): NotFoundError {
  return new NotFoundError(`no lease ${scope}/${name}. See \`berth list\`.`);
}
