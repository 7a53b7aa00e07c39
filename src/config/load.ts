/**
 * Finding and reading berth.yaml: read, normalise, validate. Every message names the file
 * and the key.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ConfigError, yamlProblem } from '../errors.js';
import { DEFAULT_BASE_PORT, DEFAULT_RANGES } from './categories.js';
import type { BerthConfig } from '../types.js';
import { normaliseConfig } from './normalise.js';

/** Most bytes berth reads from a config file: a real berth.yaml is a few kB. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** File names berth looks for, in order, in each directory walking upward. */
export const CONFIG_NAMES = ['berth.yaml', 'berth.yml'] as const;

/** Looks for berth.yaml from `dir` upward; returns its absolute path or null. */
export function findConfigFile(dir: string): string | null {
  let current = path.resolve(dir);
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const candidate = path.join(current, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/** The config used when there is no berth.yaml: built-in ranges, no services. */
export function emptyConfig(dir: string): BerthConfig {
  return { file: null, dir, project: null, base: DEFAULT_BASE_PORT, ranges: DEFAULT_RANGES, reserved: [], services: [], pools: [], defaults: { strategy: null } };
}

/**
 * Loads the config: `explicitFile` if given (it must exist), else berth.yaml found upward
 * from `cwd`, else the empty config rooted at `cwd`.
 */
export async function loadConfig(cwd: string, explicitFile?: string): Promise<BerthConfig> {
  const file = explicitFile ? path.resolve(cwd, explicitFile) : findConfigFile(cwd);
  if (!file) return emptyConfig(path.resolve(cwd));
  return parseConfigText(readConfigText(file), file);
}

/**
 * The text of the config file: a regular file only (a FIFO, a device such as /dev/zero, a
 * /proc/self/fd link to a pipe or a directory is refused before anything is read), opened
 * without blocking, and never more than MAX_CONFIG_BYTES. These are the rules of
 * workflows/safe-read.ts's readRegularFile, which config may not import (DESIGN.md).
 *
 * @throws ConfigError (exit 2) naming the file and the problem.
 */
function readConfigText(file: string): string {
  const refuse = (problem: string): ConfigError =>
    new ConfigError(file, '', `cannot read the config file (${problem}). Check the path given to --config or BERTH_CONFIG.`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENXIO' ? 'it is a socket, not a regular file' : (code ?? (err as Error).message));
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw refuse(`it is ${fileType(info)}, not a regular file`);
    const tooLarge = `it holds more than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, the most berth reads from a config file`;
    if (info.size > MAX_CONFIG_BYTES) throw refuse(tooLarge);
    // Sized from fstat, plus one byte to see the end; grown for a file that grew (or a
    // /proc file that says 0), but never past one byte over the limit.
    let buffer = Buffer.allocUnsafe(Math.min(Math.max(info.size + 1, 4096), MAX_CONFIG_BYTES + 1));
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        if (total > MAX_CONFIG_BYTES) throw refuse(tooLarge);
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_CONFIG_BYTES + 1));
        buffer.copy(bigger, 0, 0, total);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, total, buffer.length - total, null);
      if (n === 0) break;
      total += n;
    }
    return buffer.toString('utf8', 0, total);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw refuse((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  } finally {
    closeSync(fd);
  }
}

function fileType(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Parses config text that came from `file` (used for messages and the project directory). */
export async function parseConfigText(text: string, file: string): Promise<BerthConfig> {
  // yaml is loaded only when a config exists: commands without one start faster.
  const { LineCounter, parseDocument, isMap, isScalar, visit } = await import('yaml');
  const lines = new LineCounter();
  // The library's own duplicate-key check compares every key with every other (a
  // 50,000-key mapping took 80 s); this one is a Set per mapping.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const first = doc.errors[0];
  if (first !== undefined) throw new ConfigError(file, '', yamlProblem(first.message, lines.linePos(first.pos[0])));
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const at = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]) : null;
        throw new ConfigError(file, '', yamlProblem(`Map keys must be unique: ${JSON.stringify(String(key)).slice(0, 80)} appears twice`, at));
      }
    },
  });
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // An alias with no anchor, or too many aliases: the syntax is fine, the document is not.
    throw new ConfigError(file, '', yamlProblem((err as Error).message, null));
  }
  return normaliseConfig(raw ?? {}, file);
}
