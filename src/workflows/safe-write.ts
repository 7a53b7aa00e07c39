/**
 * The one home for writing the caller's files: `env --write` (every format),
 * `compose-override --write`, `export -o`, and templates to come.
 *
 * - The path is resolved one component at a time. A symbolic link is followed only when it
 *   belongs to the user berth runs as, or to root (system links such as `/var/run`): your
 *   own `.env -> shared.env` is followed as editors follow it (the target is replaced, the
 *   link stays; a link to a missing file creates that file). A link anyone else owns, as
 *   planted in a shared sticky `/tmp`, is refused, dangling or not, and nothing is written.
 * - The target must be absent or a regular file: a device (`/dev/null` even as root), FIFO,
 *   socket or directory is refused with a message naming what it is.
 * - The data goes to a new temp file in the target's directory, created with
 *   O_CREAT|O_EXCL|O_NOFOLLOW (never through a link), fsynced, then renamed over the
 *   target (rename replaces a directory entry; it never writes through one); the directory
 *   is fsynced last. An existing file keeps its permission bits (and, as root, its owner);
 *   a new one gets NEW_FILE_MODE less the umask.
 * - The old content, when a writer needs it (merging, or leaving an identical file
 *   untouched), is read by safe-read.ts's rules from the resolved path.
 *
 * Every refusal is a UsageError (exit 2) naming the path; system errors go through
 * writeError.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, parse, resolve, sep } from 'node:path';
import { BerthError, RefusedError, UsageError } from '../errors.js';
import { MAX_TEXT_FILE_BYTES, describeFileType, readRegularFile } from '../fs/safe-read.js';

/** Mode of a new file before the umask, as fs.writeFile uses. */
export const NEW_FILE_MODE = 0o666;

/** Suffix of the temporary files the writers leave behind only if the machine dies. */
export const TEMP_FILE_SUFFIX = '.berth-tmp';

/** Links followed in one path before giving up, as the kernel's MAXSYMLINKS. */
const MAX_LINK_HOPS = 40;

/** O_NOFOLLOW where the platform has it. */
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** A path checked for writing: where the data lands, and what is there now. */
export interface WriteTarget {
  /** The path as given, for messages. */
  readonly path: string;
  /** The absolute path with every link followed (see the module comment). */
  readonly file: string;
  /** The regular file there now, or null when there is none. */
  readonly existing: Stats | null;
}

/**
 * Checks `path` for writing: not empty, no link owned by another user on the way, and
 * absent or a regular file at the end.
 *
 * @throws UsageError (exit 2) naming the path and what is wrong; writeError's errors.
 */
export async function resolveWriteTarget(path: string): Promise<WriteTarget> {
  if (path === '') throw new UsageError('cannot write to an empty path. Name a file, such as .env.', { file: path });
  try {
    const file = await followOwnLinks(path);
    const existing = await lstatOrNull(file);
    if (existing !== null && !existing.isFile()) {
      const where = file === resolve(path) ? 'it is' : `it leads to ${file}, which is`;
      throw new UsageError(
        `cannot write ${path}: ${where} ${describeFileType(existing)}, not a regular file; berth only creates or replaces regular files. Name a regular file.`,
        { file: path, type: describeFileType(existing) },
      );
    }
    return { path, file, existing };
  } catch (error) {
    throw writeError(path, error);
  }
}

/**
 * Replaces the file at `path` with `data`, atomically (readers see the old file or the
 * new one, never a part), by the rules of the module comment.
 *
 * @throws UsageError when `path` is refused; writeError's errors when it cannot be written.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await replaceTarget(await resolveWriteTarget(path), data);
}

/**
 * writeFileAtomic, unless the file already holds exactly `data`: then it is not touched
 * (its mtime stays, so file watchers do not fire). Returns whether it wrote.
 */
export async function writeFileIfChanged(path: string, data: string | Uint8Array): Promise<boolean> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const target = await resolveWriteTarget(path);
  if (target.existing !== null && target.existing.size === bytes.length) {
    // Unreadable (say, write-only): compare nothing and replace it; the write says what fails.
    const old = await readTarget(target, bytes.length).catch(() => null);
    if (old !== null && old.equals(bytes)) return false;
  }
  await replaceTarget(target, bytes);
  return true;
}

/**
 * Reads the file at `path` (null when there is none; at most `maxBytes`), and writes what
 * `update` makes of it atomically; `update` returns null to leave the file untouched.
 * Returns whether it wrote.
 */
export async function updateFile(
  path: string,
  update: (old: Buffer | null) => string | Uint8Array | null,
  maxBytes = MAX_TEXT_FILE_BYTES,
): Promise<boolean> {
  const target = await resolveWriteTarget(path);
  const old = target.existing === null ? null : await readTarget(target, maxBytes);
  const data = update(old);
  if (data === null) return false;
  await replaceTarget(target, data);
  return true;
}

/** The target's current bytes; O_NOFOLLOW, since its path was resolved to have no links. */
function readTarget(target: WriteTarget, maxBytes: number): Promise<Buffer | null> {
  return readRegularFile(target.file, { maxBytes, noFollow: true, label: target.path });
}

async function replaceTarget(target: WriteTarget, data: string | Uint8Array): Promise<void> {
  const { file, existing } = target;
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_FILE_SUFFIX}`);
  let handle: FileHandle | undefined;
  let renamed = false;
  try {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;
    handle = await open(temp, flags, existing === null ? NEW_FILE_MODE : existing.mode & 0o7777);
    await handle.writeFile(data);
    if (existing !== null) {
      // The owner first (chown clears set-id bits), then the exact bits the old file had:
      // open() applied the umask.
      if (process.getuid?.() === 0) await handle.chown(existing.uid, existing.gid);
      await handle.chmod(existing.mode & 0o7777);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
    renamed = true;
  } catch (error) {
    throw writeError(target.path, error);
  } finally {
    if (!renamed) {
      await handle?.close().catch(() => {
        // Closing after a failed write: the descriptor is released either way.
      });
      await unlink(temp).catch(() => {
        // The temp file is gone already or was never created; the target is untouched.
      });
    }
  }
  await syncDirectory(dir);
}

/**
 * `path` made absolute with every symbolic link on the way followed, one component at a
 * time, refusing a link that neither the current user nor root owns. A missing component
 * ends the walk (the rest is appended as it is; writing then fails with ENOENT).
 */
async function followOwnLinks(path: string): Promise<string> {
  const absolute = resolve(path);
  const uid = process.geteuid?.();
  // No owners to compare (Windows): the system follows links as it does for every program.
  if (uid === undefined) return absolute;
  const { root } = parse(absolute);
  let done = root;
  let pending = absolute.slice(root.length).split(sep);
  let hops = 0;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done = dirname(done);
      continue;
    }
    const next = join(done, name);
    const info = await lstatOrNull(next).catch((error: unknown) => {
      if (isCode(error, 'ENOTDIR')) return null;
      throw error;
    });
    if (info === null) return join(next, ...pending);
    if (!info.isSymbolicLink()) {
      done = next;
      continue;
    }
    if (info.uid !== uid && info.uid !== 0) {
      throw new UsageError(
        `cannot write ${path}: ${next} is a symbolic link owned by another user (uid ${info.uid}); berth follows only links owned by you or root. Remove the link, or name another path.`,
        { file: path, link: next, owner: info.uid },
      );
    }
    hops += 1;
    if (hops > MAX_LINK_HOPS) throw new UsageError(`cannot write ${path}: too many levels of symbolic links. Name a regular file.`, { file: path });
    const target = await readlink(next);
    if (isAbsolute(target)) done = parse(target).root;
    pending = [...target.split(sep), ...pending];
  }
  return done;
}

/**
 * The error to throw when writing `path` failed with `error`: a UsageError (exit 2) for a
 * path that cannot name a file (no such directory, a directory, a file used as a
 * directory), a RefusedError (exit 4) for the other system errors (permissions, read-only
 * or full disk). A BerthError, or anything that is not a system error, is returned as it is.
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
    case 'ELOOP':
      return new UsageError(`${what}: too many levels of symbolic links, or a link where none may be. Choose another path.`, { file: path });
    case 'EACCES':
    case 'EPERM':
      return new RefusedError(`${what}: permission denied. Check the permissions of the file and its directory, or choose another path.`, { file: path });
    default:
      return new RefusedError(`${what}: ${(error as Error).message}. Choose another path, or fix the file system.`, { file: path, code });
  }
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
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

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}
