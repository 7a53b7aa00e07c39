/**
 * The one home for the caller's files that berth reads and writes: `.env` files, env
 * outputs, compose files and overrides, snapshots (the config file is read by the same
 * rules in config/load.ts, which the import rules keep from importing this module).
 *
 * Reading ({@link readRegularFile}, {@link readBoundedStream}): only regular files, opened
 * without blocking (a FIFO cannot hang berth) and checked with fstat on the descriptor
 * that is then read; never more than a byte limit ({@link MAX_TEXT_FILE_BYTES},
 * {@link MAX_SNAPSHOT_BYTES}), so `/dev/zero` or a runaway file cannot be read without end.
 *
 * Writing ({@link writeFileAtomic}, {@link writeFileIfChanged}, {@link updateFile}):
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
 *
 * Every refusal is a UsageError (exit 2) naming the path; system errors go through
 * {@link writeError}.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chown, lstat, open, readlink, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, parse, resolve, sep } from 'node:path';
import { BerthError, RefusedError, UsageError } from '../errors.js';

const MIB = 1024 * 1024;

/** Most bytes berth reads from a `.env`, compose file or config file. */
export const MAX_TEXT_FILE_BYTES = 8 * MIB;

/** Most bytes `berth import` reads from a snapshot (a file or stdin). */
export const MAX_SNAPSHOT_BYTES = 64 * MIB;

/** Mode of a new file before the umask, as fs.writeFile uses. */
export const NEW_FILE_MODE = 0o666;

/** Suffix of the temporary files the writers leave behind only if the machine dies. */
export const TEMP_FILE_SUFFIX = '.berth-tmp';

/** Links followed in one path before giving up, as the kernel's MAXSYMLINKS. */
const MAX_LINK_HOPS = 40;

/** Smallest read from a file whose size fstat does not tell (files in /proc say 0). */
const READ_CHUNK_BYTES = 64 * 1024;

/** Open flags that do not exist on every platform; 0 where they do not. */
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const O_NOCTTY = constants.O_NOCTTY ?? 0;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** What a file that is not a regular file is, for messages: `a FIFO (named pipe)`. */
export function describeFileType(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** The size limit in words: `8 MiB`. */
function limitText(maxBytes: number): string {
  return maxBytes % MIB === 0 ? `${maxBytes / MIB} MiB` : `${maxBytes} bytes`;
}

function tooLarge(what: string, maxBytes: number): UsageError {
  return new UsageError(
    `cannot read ${what}: it holds more than ${limitText(maxBytes)}, the most berth reads from it. Check that it is the right file.`,
    { file: what, maxBytes },
  );
}

// ---- Reading ---------------------------------------------------------------------------

/** Options of {@link readRegularFile}. */
export interface ReadOptions {
  /** Refuse a file larger than this; default MAX_TEXT_FILE_BYTES. */
  readonly maxBytes?: number;
  /** Refuse a symbolic link at `path` itself (for a path already resolved by the writer). */
  readonly noFollow?: boolean;
  /** The name of the file in messages; default `path`. */
  readonly label?: string;
}

/**
 * The bytes of the regular file at `path`, or null when there is none.
 *
 * @throws UsageError (exit 2) when `path` is not a regular file (FIFO, device, socket,
 *   directory, `/proc/self/fd/N` of a pipe) or holds more than `maxBytes`; permission and
 *   other system errors as the RefusedError of readError.
 */
export async function readRegularFile(path: string, opts: ReadOptions = {}): Promise<Buffer | null> {
  const maxBytes = opts.maxBytes ?? MAX_TEXT_FILE_BYTES;
  const label = opts.label ?? path;
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
    handle = await open(path, constants.O_RDONLY | O_NONBLOCK | O_NOCTTY | (opts.noFollow === true ? O_NOFOLLOW : 0));
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw readError(label, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new UsageError(`cannot read ${label}: it is ${describeFileType(info)}, not a regular file. Name a regular file.`, { file: label });
    }
    if (info.size > maxBytes) throw tooLarge(label, maxBytes);
    return await readAll(handle, label, maxBytes, info.size);
  } catch (error) {
    throw readError(label, error);
  } finally {
    await handle.close();
  }
}

/** Reads to the end, but never more than `maxBytes` (a file may grow, /proc files say 0). */
async function readAll(handle: FileHandle, path: string, maxBytes: number, sizeHint: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // At least one byte past what is expected, so the end (or the overflow) is seen.
    const want = Math.min(Math.max(sizeHint - total + 1, READ_CHUNK_BYTES), maxBytes + 1 - total);
    const buffer = Buffer.allocUnsafe(want);
    const { bytesRead } = await handle.read(buffer, 0, want, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) throw tooLarge(path, maxBytes);
  }
}

/**
 * Everything `stream` gives until its end (stdin for `berth import -`), but never more
 * than `maxBytes`: past that the stream is destroyed and a UsageError names `what`.
 */
export async function readBoundedStream(stream: NodeJS.ReadableStream, what: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > maxBytes) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw tooLarge(what, maxBytes);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}

/** The BerthError for a failed read of `path`: a socket is bad input, the rest refused. */
export function readError(path: string, error: unknown): unknown {
  if (error instanceof BerthError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return error;
  switch (code) {
    case 'ENXIO':
      return new UsageError(`cannot read ${path}: it is a socket or a device without a reader, not a regular file. Name a regular file.`, { file: path });
    case 'ELOOP':
      return new UsageError(`cannot read ${path}: it is a symbolic link, or a path with too many links. Name a regular file.`, { file: path });
    case 'EISDIR':
      return new UsageError(`cannot read ${path}: it is a directory, not a regular file. Name a regular file.`, { file: path });
    case 'ENOTDIR':
      return new UsageError(`cannot read ${path}: part of ${dirname(path)} is a file, not a directory. Check the path.`, { file: path });
    case 'EACCES':
    case 'EPERM':
      return new RefusedError(`cannot read ${path}: permission denied. Check the permissions of the file and its directory.`, { file: path });
    default:
      return new RefusedError(`cannot read ${path}: ${(error as Error).message}. Check the file.`, { file: path, code });
  }
}

// ---- Writing ---------------------------------------------------------------------------

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
      // open() applies the umask; put back the exact bits the old file had.
      await handle.chmod(existing.mode & 0o7777);
      if (process.getuid?.() === 0) await handle.chown(existing.uid, existing.gid);
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
