/**
 * Input checks shared by the os/ entry points. They throw UsageError (exit 2), so a bad
 * port from the command line is reported as bad input rather than as "nothing listens".
 */
import { UsageError } from '../errors.js';
import { MAX_PORT } from '../types.js';

/** Throws unless `port` is an integer from 1 to 65535. */
export function assertPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
    throw new UsageError(`Invalid port ${String(port)}: give a whole number from 1 to ${MAX_PORT}.`, { port });
  }
}

/** Throws unless `pid` is a positive integer. */
export function assertPid(pid: number): void {
  if (!Number.isInteger(pid) || pid < 1) {
    throw new UsageError(`Invalid pid ${String(pid)}: give a positive whole number.`, { pid });
  }
}
