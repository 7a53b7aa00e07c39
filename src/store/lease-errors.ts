/**
 * The errors a lease write throws, worded once so that every backend says the same thing
 * (the conformance suite checks the holder they name).
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { Protocol } from '../types.js';

/** The (scope, name) already holds a port. */
export function nameTaken(scope: string, name: string, port: number): ConflictError {
  return new ConflictError(`${scope}/${name} already holds port ${port}. Release it first, or use reassign to move it.`);
}

/** The port is held: by `holder` (scope/name), or by a lease that could not be read. */
export function portTaken(port: number, protocol: Protocol, holder: { scope: string; name: string } | undefined | null): ConflictError {
  const who = holder ? `${holder.scope}/${holder.name}` : 'another lease';
  return new ConflictError(`port ${port}/${protocol} is held by ${who}. Choose another port, or release that lease first.`, { port, holder: who });
}

/** No lease of that (scope, name) to change. */
export function noLease(scope: string, name: string): NotFoundError {
  return new NotFoundError(`no lease ${scope}/${name}. See \`berth list\`.`);
}
