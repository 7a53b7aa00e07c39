/**
 * The only wiring module that touches the file system: atomic writes, the `.env` merge on
 * disk, and finding and reading the compose file. Everything else in wiring is pure.
 */
import { randomBytes } from 'node:crypto';
import { chown, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BerthError, RefusedError, UsageError } from '../errors.js';
import { mergeDotenv, type NamedValue } from '../wiring/dotenv.js';
import type { ComposeService } from '../wiring/compose-ports.js';

/** Mode of a new file before the umask, as fs.writeFile uses. */
export const NEW_FILE_MODE = 0o666;

/** Suffix of the temporary files writeFileAtomic leaves behind only if the machine dies. */
export const TEMP_FILE_SUFFIX = '.berth-tmp';

/** Compose file names, in the order docker compose looks for them. */
export const COMPOSE_FILE_NAMES: readonly string[] = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yml',
  'docker-compose.yaml',
];

/**
 * Replaces a file's content so that readers see the old file or the new one, never a
 * part: the data goes to a temporary file in the same directory, is fsynced, and is
 * renamed over the target; then the directory is fsynced.
 *
 * - An existing file keeps its permission bits (and, when running as root, its owner).
 * - A symlink is followed: the file it points to is replaced, the link stays.
 * - On any error the temporary file is removed and the target is untouched; a path that
 *   cannot be written (missing directory, a directory, no permission) throws the BerthError
 *   of {@link writeError}.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await replaceFile(path, data);
  } catch (error) {
    throw writeError(path, error);
  }
}

/**
 * The error to throw when writing `path` failed with `error`: a UsageError (exit 2) for a
 * path that cannot name a file (no such directory, a directory, a file used as a
 * directory), a RefusedError (exit 4) for the other system errors (permissions, read-only
 * or full disk). Anything that is not a system error is returned as it is.
 */
export function writeError(path: string, error: unknown): unknown {
  if (error instanceof BerthError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return error;
  const what = `cannot write ${path}`;
  switch (code) {
    case 'ENOENT':
      return new UsageError(`${what}: no such directory ${dirname(path)}. Create it first, or choose another path.`, { file: path });
    case 'ENOTDIR':
      return new UsageError(`${what}: part of ${dirname(path)} is a file, not a directory. Choose another path.`, { file: path });
    case 'EISDIR':
      return new UsageError(`${what}: it is a directory. Name a file, not a directory.`, { file: path });
    case 'EACCES':
    case 'EPERM':
      return new RefusedError(`${what}: permission denied. Check the permissions of the file and its directory, or choose another path.`, { file: path });
    default:
      return new RefusedError(`${what}: ${(error as Error).message}. Choose another path, or fix the file system.`, { file: path, code });
  }
}

async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  const target = await followLink(path);
  const dir = dirname(target);
  const existing = await statOrNull(target);
  if (existing?.isDirectory() === true) throw Object.assign(new Error(`${target} is a directory`), { code: 'EISDIR' });
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_FILE_SUFFIX}`);
  const handle = await open(temp, 'wx', existing === null ? NEW_FILE_MODE : existing.mode & 0o7777);
  let renamed = false;
  try {
    await handle.writeFile(data);
    if (existing !== null) {
      // open() applies the umask; put back the exact bits the old file had.
      await handle.chmod(existing.mode & 0o7777);
      if (process.getuid?.() === 0) await chown(temp, existing.uid, existing.gid);
    }
    await handle.sync();
    await handle.close();
    await rename(temp, target);
    renamed = true;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => {
        // Already closed (the failure came after close): nothing left to release.
      });
      await unlink(temp).catch(() => {
        // The temp file is gone already or was never fully created; the target is untouched.
      });
    }
  }
  await syncDirectory(dir);
}

/**
 * Merges variables into the `.env` file at `path` (see mergeDotenv), creating it when
 * missing, and writes it atomically. Bytes that are not valid UTF-8 are kept as they are.
 *
 * @returns whether the file was written; false when it already held these values (its
 *   mtime is then untouched, so file watchers do not restart anything).
 * @throws the UsageError or RefusedError of writeError when `path` cannot be written.
 */
export async function writeEnvFile(path: string, vars: readonly NamedValue[]): Promise<boolean> {
  let old: Buffer | null = null;
  try {
    old = await readFile(path);
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw writeError(path, error);
  }
  if (old === null && vars.length === 0) return false;
  const utf8 = old === null ? '' : decodeUtf8(old);
  if (utf8 !== null) {
    const text = mergeDotenv(utf8, vars);
    if (old !== null && text === utf8) return false;
    await writeFileAtomic(path, text);
    return true;
  }
  // Not UTF-8: work on one char per byte so every unrelated byte survives, and write the
  // new values as their UTF-8 bytes.
  const bytes = old!.toString('latin1');
  const asBytes = vars.map((v) => ({ name: v.name, value: Buffer.from(v.value, 'utf8').toString('latin1') }));
  const text = mergeDotenv(bytes, asBytes);
  if (text === bytes) return false;
  await writeFileAtomic(path, Buffer.from(text, 'latin1'));
  return true;
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
export async function readComposeServices(file: string): Promise<ComposeService[]> {
  // Loaded here, not at the top: the YAML parser costs ~30 ms of start-up that only compose work needs.
  const { composePublishedPorts } = await import('../wiring/compose-ports.js');
  return composePublishedPorts(await readFile(file, 'utf8'), file);
}

async function followLink(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return path;
    throw error;
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot open or fsync a directory (Windows, some network file
    // systems). The rename has already happened atomically; this only hurries it to disk.
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
