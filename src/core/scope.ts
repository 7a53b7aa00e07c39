/**
 * Naming: which scope a command acts for, which directory it belongs to, and which names
 * are valid for scopes and leases.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError, printable } from '../errors.js';
import type { BerthConfig } from '../types.js';

const SCOPE_RE = /^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ALL_DIGITS_RE = /^\d+$/;

/** Throws UsageError unless `scope` is a valid scope name (`conductor/ws-7`). */
export function checkScopeName(scope: string): string {
  if (!SCOPE_RE.test(scope) || scope.length > 200) {
    throw new UsageError(`invalid scope '${printable(scope)}': use letters, digits and . _ - / : @, starting with a letter or digit.`);
  }
  return scope;
}

/**
 * Throws UsageError unless `name` is a valid lease or service name. All digits are
 * refused: `berth kill 3000` and `berth history 3000` read such a word as a port, so a
 * lease called `3000` could never be named there.
 */
export function checkLeaseName(name: string): string {
  if (!NAME_RE.test(name) || name.length > 100) {
    throw new UsageError(`invalid name '${printable(name)}': use letters, digits, '.', '_' and '-', starting with a letter or digit.`);
  }
  if (ALL_DIGITS_RE.test(name)) {
    throw new UsageError(`invalid name '${name}': a name of digits alone reads as a port (berth kill ${name} means port ${name}). Add a letter, e.g. 'svc-${name}'.`);
  }
  return name;
}

/** The nearest directory from `dir` upward that holds `.git`, or null. */
function gitRoot(dir: string): string | null {
  let current = path.resolve(dir);
  for (;;) {
    if (existsSync(path.join(current, '.git'))) return current;
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/** The project directory: the one holding berth.yaml, else the git root, else `cwd`. */
export function projectDir(cwd: string, config: BerthConfig): string {
  return config.file ? config.dir : (gitRoot(cwd) ?? path.resolve(cwd));
}

/**
 * The scope to act for: `explicit` (--scope or BERTH_SCOPE), else `project:` in berth.yaml,
 * else the project directory's basename.
 */
export function resolveScope(explicit: string | undefined, config: BerthConfig, cwd: string): string {
  if (explicit) return checkScopeName(explicit);
  if (config.project) return config.project;
  const base = path.basename(projectDir(cwd, config));
  const cleaned = base.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return checkScopeName(cleaned || 'default');
}
