/**
 * Who should hold a lease's port, and whether a listener is that holder. Pure: the
 * process tree comes in as a function.
 */
import type { Lease, Listener } from '../../types.js';
import type { ServiceConfig } from '../../types.js';
import type { Expectation } from '../../types.js';

/** pid -> parent pid, or null when the pid is gone or hidden. */
export type ParentOf = (pid: number) => number | null;

/** Longest ancestor chain walked: deeper trees do not occur on real machines, loops must end. */
const MAX_ANCESTRY_DEPTH = 256;

/** Linux keeps 15 characters of a process name (TASK_COMM_LEN - 1). */
const COMM_MAX_CHARS = 15;

/**
 * The expected holder of a lease: its pid for an ephemeral lease, else the `process:` of
 * its service in berth.yaml (`service`, null when the lease is not a configured service
 * of the scope), else anyone.
 */
export function expectationOf(lease: Lease, service: ServiceConfig | null): Expectation {
  if (lease.ephemeral && lease.pid !== null) return { kind: 'pid', pid: lease.pid };
  if (service?.process) return { kind: 'process', name: service.process };
  return { kind: 'any' };
}

/** True when `pid` is `ancestor` or one of its descendants. */
export function isSelfOrDescendant(pid: number, ancestor: number, parentOf: ParentOf): boolean {
  let current: number | null = pid;
  for (let depth = 0; current !== null && current > 0 && depth < MAX_ANCESTRY_DEPTH; depth++) {
    if (current === ancestor) return true;
    const parent = parentOf(current);
    if (parent === current) return false;
    current = parent;
  }
  return false;
}

/** The last path segment of the command's first word: `/usr/bin/python3 app.py` -> `python3`. */
function programOf(command: string | null): string | null {
  if (!command) return null;
  const first = command.split(' ', 1)[0]!;
  return first.slice(first.lastIndexOf('/') + 1) || null;
}

/**
 * Whether a process called `actual` is the one named `expected`: the same name, the name
 * Linux truncated to 15 characters, or the name with a version suffix (`python` matches
 * `python3` and `python3.12`).
 */
export function processNameMatches(expected: string, actual: string | null): boolean {
  if (!actual) return false;
  if (actual === expected) return true;
  if (expected.length > COMM_MAX_CHARS && actual === expected.slice(0, COMM_MAX_CHARS)) return true;
  return actual.startsWith(expected) && /^[\d.]+$/.test(actual.slice(expected.length));
}

/**
 * Whether `holder` is the expected holder. A process name matches the holder's name, its
 * program (first word of the command line) or its container's name. A holder berth cannot
 * inspect (pid null, no container) matches only `any`.
 */
export function holderMatches(expected: Expectation, holder: Listener, parentOf: ParentOf): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'pid':
      return holder.pid !== null && isSelfOrDescendant(holder.pid, expected.pid, parentOf);
    case 'process':
      return (
        processNameMatches(expected.name, holder.process) ||
        processNameMatches(expected.name, programOf(holder.command)) ||
        (holder.container !== null && holder.container.name === expected.name)
      );
  }
}

/** A compose project name as compose makes one from a directory name: lower case, `[a-z0-9_-]` only. */
function composeProjectName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

/**
 * Whether `holder` is the container compose made for this lease: its compose service
 * label is the service's `compose:` (else the lease name) and its project label is the
 * scope (or the scope's last segment, as compose names a project after a directory). The
 * new stack's `orchestra-postgres-1` is then the expected holder of orchestra/postgres; an
 * old stack's container (another project) is not.
 */
export function isComposeHolder(lease: Lease, service: ServiceConfig | null, holder: Listener): boolean {
  const compose = holder.container?.compose;
  if (!compose || compose.service !== (service?.compose ?? lease.name)) return false;
  if (compose.project === null) return true;
  const last = lease.scope.slice(lease.scope.lastIndexOf('/') + 1);
  return compose.project === composeProjectName(lease.scope) || compose.project === composeProjectName(last);
}
