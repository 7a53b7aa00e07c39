/**
 * The one home for reading the caller's files: the `.env` being merged, compose files,
 * snapshots (`import FILE`, `import -`). config/load.ts reads berth.yaml by the same rules;
 * the import rules keep config from importing this module.
 *
 * Only regular files are read: the file is opened without blocking (a FIFO cannot hang
 * berth) and checked with fstat on the descriptor that is then read, so a FIFO, a device
 * such as `/dev/zero`, a socket, a directory or `/proc/self/fd/N` of a pipe is refused
 * before anything is read. No read goes past a byte limit (MAX_TEXT_FILE_BYTES,
 * MAX_SNAPSHOT_BYTES), whatever the file or stream says about its size. Every refusal is a
 * UsageError (exit 2) naming the file; system errors go through readError.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { BerthError, RefusedError, UsageError } from '../errors.js';

const MIB = 1024 * 1024;

/** Most bytes berth reads from a `.env`, compose file or config file. */
export const MAX_TEXT_FILE_BYTES = 8 * MIB;

/** Most bytes `berth import` reads from a snapshot (a file or stdin). */
export const MAX_SNAPSHOT_BYTES = 64 * MIB;

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
  return new UsageError(`cannot read ${what}: it holds more than ${limitText(maxBytes)}, the most berth reads from it. Check that it is the right file.`, { file: what, maxBytes, problem: `it holds more than ${limitText(maxBytes)}, the most berth reads from it` });
}

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
  return readRegularFileSync(path, opts);
}

/**
 * readRegularFile, synchronously: the one implementation. Synchronous on purpose: the
 * files are small and local, a FIFO or device is refused at open (O_NONBLOCK) before any
 * read could wait, and berth.yaml is read on every command's start-up path, where the
 * promise machinery of fs/promises cost more than the read itself.
 */
export function readRegularFileSync(path: string, opts: ReadOptions = {}): Buffer | null {
  const maxBytes = opts.maxBytes ?? MAX_TEXT_FILE_BYTES;
  const label = opts.label ?? path;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | O_NONBLOCK | O_NOCTTY | (opts.noFollow === true ? O_NOFOLLOW : 0));
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    throw readError(label, error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      throw new UsageError(`cannot read ${label}: it is ${describeFileType(info)}, not a regular file. Name a regular file.`, { file: label, problem: `it is ${describeFileType(info)}, not a regular file` });
    }
    if (info.size > maxBytes) throw tooLarge(label, maxBytes);
    return readAll(fd, label, maxBytes, info.size);
  } catch (error) {
    throw readError(label, error);
  } finally {
    closeSync(fd);
  }
}

/** Reads to the end, but never more than `maxBytes` (a file may grow, /proc files say 0). */
function readAll(fd: number, path: string, maxBytes: number, sizeHint: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // At least one byte past what is expected, so the end (or the overflow) is seen.
    const want = Math.min(Math.max(sizeHint - total + 1, READ_CHUNK_BYTES), maxBytes + 1 - total);
    const buffer = Buffer.allocUnsafe(want);
    const bytesRead = readSync(fd, buffer, 0, want, null);
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
      return new UsageError(`cannot read ${path}: it is a socket or a device without a reader, not a regular file. Name a regular file.`, { file: path, problem: `it is a socket or a device without a reader, not a regular file` });
    case 'ELOOP':
      return new UsageError(`cannot read ${path}: it is a symbolic link, or a path with too many links. Name a regular file.`, { file: path, problem: `it is a symbolic link, or a path with too many links` });
    case 'EISDIR':
      return new UsageError(`cannot read ${path}: it is a directory, not a regular file. Name a regular file.`, { file: path, problem: `it is a directory, not a regular file` });
    case 'ENOTDIR':
      return new UsageError(`cannot read ${path}: part of ${dirname(path)} is a file, not a directory. Check the path.`, { file: path, problem: `part of ${dirname(path)} is a file, not a directory` });
    case 'EACCES':
    case 'EPERM':
      return new RefusedError(`cannot read ${path}: permission denied. Check the permissions of the file and its directory.`, { file: path, problem: `permission denied` });
    default:
      return new RefusedError(`cannot read ${path}: ${(error as Error).message}. Check the file.`, { file: path, code, problem: `${(error as Error).message}` });
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}
