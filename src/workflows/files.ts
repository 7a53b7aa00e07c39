/**
 * The caller's `.env` merged on disk, and finding and reading the compose file. Every read
 * and write goes through safe-read.ts (regular files only, bounded) and safe-write.ts
 * (atomic, regular files only, no other user's link); the writers are re-exported here.
 */
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { mergeDotenv, type NamedValue } from '../wiring/dotenv.js';
import type { ComposeService } from '../wiring/compose-ports.js';
import { MAX_TEXT_FILE_BYTES, readRegularFile } from '../fs/safe-read.js';
import { updateFile } from './safe-write.js';

export { NEW_FILE_MODE, TEMP_FILE_SUFFIX, writeError, writeFileAtomic } from './safe-write.js';

/** Compose file names, in the order docker compose looks for them. */
export const COMPOSE_FILE_NAMES: readonly string[] = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yml',
  'docker-compose.yaml',
];

/**
 * Merges variables into the `.env` file at `path` (see mergeDotenv), creating it when
 * missing, and writes it atomically; lines of the keys in `drop` that `vars` does not set
 * are removed (berth's variables of released leases). Bytes that are not valid UTF-8 are kept as they are.
 *
 * @returns whether the file was written; false when it already held these values (its
 *   mtime is then untouched, so file watchers do not restart anything).
 * @throws the UsageError or RefusedError of writeError when `path` cannot be written.
 */
export async function writeEnvFile(path: string, vars: readonly NamedValue[], drop: readonly string[] = []): Promise<boolean> {
  return updateFile(path, (old) => {
    if (old === null && vars.length === 0) return null;
    const utf8 = old === null ? '' : decodeUtf8(old);
    if (utf8 !== null) {
      const text = mergeDotenv(utf8, vars, drop);
      return old !== null && text === utf8 ? null : text;
    }
    // Not UTF-8: work on one char per byte so every unrelated byte survives, and write the
    // new values as their UTF-8 bytes.
    const bytes = old!.toString('latin1');
    const asBytes = vars.map((v) => ({ name: v.name, value: Buffer.from(v.value, 'utf8').toString('latin1') }));
    const text = mergeDotenv(bytes, asBytes, drop);
    return text === bytes ? null : Buffer.from(text, 'latin1');
  });
}

/** The compose file in `dir` (first of COMPOSE_FILE_NAMES that is a file), or null. */
export async function findComposeFile(dir: string): Promise<string | null> {
  for (const name of COMPOSE_FILE_NAMES) {
    const file = join(dir, name);
    if ((await statOrNull(file))?.isFile() === true) return file;
  }
  return null;
}

/** Reads a compose file and returns its services' published ports (composePublishedPorts). */
export async function readComposeServices(
  file: string,
  opts: { readonly vars?: Readonly<Record<string, string | undefined>>; readonly lenient?: boolean } = {},
): Promise<ComposeService[]> {
  // Loaded here, not at the top: the YAML parser costs ~30 ms of start-up that only compose work needs.
  const { composePublishedPorts } = await import('../wiring/compose-ports.js');
  const bytes = await readRegularFile(file, { maxBytes: MAX_TEXT_FILE_BYTES });
  if (bytes === null) {
    throw new UsageError(`cannot read compose file ${file}: it does not exist. Check the path, or pass --file FILE.`, { file });
  }
  return composePublishedPorts(bytes.toString('utf8'), file, opts);
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw error;
  }
}

function decodeUtf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Not valid UTF-8: the caller falls back to byte-preserving latin1 handling.
    return null;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}
