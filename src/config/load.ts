/**
 * Finding and reading berth.yaml: read, normalise, validate. Every message names the file
 * and the key.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BerthError, ConfigError, yamlProblem } from '../errors.js';
import { readRegularFileSync } from '../fs/safe-read.js';
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
export async function loadConfig(cwd: string, explicitFile?: string, memo?: ConfigMemo): Promise<BerthConfig> {
  const file = explicitFile ? path.resolve(cwd, explicitFile) : findConfigFile(cwd);
  if (!file) return emptyConfig(path.resolve(cwd));
  const text = readConfigText(file);
  const known = memo?.get(file, text);
  if (known) return known;
  const config = await parseConfigText(text, file);
  memo?.set(file, text, config);
  return config;
}

/**
 * Parsed configs by file and exact text, for a long-lived engine (the daemon reads
 * berth.yaml on every request): the file is still read every time, so an edit is seen at
 * once, whatever the file system's timestamps; only an unchanged text skips the parse.
 */
export class ConfigMemo {
  private readonly byFile = new Map<string, { readonly text: string; readonly config: BerthConfig }>();

  /** Files remembered at most: a daemon serving many projects keeps the latest ones. */
  static readonly MAX_FILES = 64;

  get(file: string, text: string): BerthConfig | undefined {
    const entry = this.byFile.get(file);
    return entry !== undefined && entry.text === text ? entry.config : undefined;
  }

  set(file: string, text: string, config: BerthConfig): void {
    this.byFile.delete(file);
    if (this.byFile.size >= ConfigMemo.MAX_FILES) this.byFile.delete(this.byFile.keys().next().value!);
    this.byFile.set(file, { text, config });
  }
}

/**
 * The text of the config file, by the one set of rules for reading a caller's file
 * (fs/safe-read.ts): a regular file only (a FIFO, /dev/zero, a /proc/self/fd link to a
 * pipe or a directory is refused before anything is read), never more than
 * MAX_CONFIG_BYTES.
 *
 * @throws ConfigError (exit 2) naming the file and the problem.
 */
function readConfigText(file: string): string {
  try {
    const bytes = readRegularFileSync(file, { maxBytes: MAX_CONFIG_BYTES });
    if (bytes === null) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return bytes.toString('utf8');
  } catch (err) {
    const detail = err instanceof BerthError ? err.details?.problem : undefined;
    const problem = typeof detail === 'string' ? detail : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    throw new ConfigError(file, '', `cannot read the config file (${problem}). Check the path given to --config or BERTH_CONFIG.`);
  }
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
