/**
 * The file side of opening a SQLite store: refuse what is not a database before SQLite
 * touches it, create the directory, and name the file the same way whatever path led to it.
 */
import { closeSync, mkdirSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../../errors.js';

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_HEADER = 'SQLite format 3\u0000';

/** Whether `err` carries this error code (an errno name, or an SQLite code and its extended codes). */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith(code);
}

/**
 * Refuses, without writing a byte, a path that exists but is not an SQLite database file
 * (a directory, a device, a text file). Opening such a file and setting WAL mode could
 * otherwise touch it.
 */
export function assertDatabaseFile(file: string): void {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (err) {
    // Absent, or a parent is a file: nothing to protect; creating the directory says why.
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ENOTDIR')) return;
    throw new StoreError(`cannot read the store ${file}: ${(err as Error).message}. Check its permissions, or pass --db PATH.`, { file });
  }
  if (!stats.isFile()) {
    const [what, example] = stats.isDirectory() ? ['a directory', ` (e.g. ${path.join(file, 'berth.db')})`] : ['not a regular file', ''];
    throw new StoreError(
      `the store ${file} is ${what}, not a berth database. It was left untouched. ` +
        `Point berth at a file with --db PATH or BERTH_DB${example}.`,
      { file },
    );
  }
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return; // removed since the stat: a fresh store
    throw new StoreError(`cannot read the store ${file}: ${(err as Error).message}. Check its permissions, or pass --db PATH.`, { file });
  }
  try {
    const header = Buffer.alloc(16);
    const read = readSync(fd, header, 0, 16, 0);
    if (read === 0) return; // an empty file is a fresh database to SQLite
    if (read < 16 || header.toString('latin1') !== SQLITE_HEADER) {
      throw new StoreError(
        `the store ${file} is not a berth database (not an SQLite file). It was left untouched. ` +
          `Move it aside, or point berth at another file with --db PATH or BERTH_DB.`,
        { file },
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time. mkdirSync's recursive
 * mode loops forever where mkdir(2) says ENOENT under an existing parent (/proc); this
 * fails on the first error instead.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; ; ) {
    let stats: Stats | null = null;
    try {
      stats = statSync(current);
    } catch (err) {
      // ENOTDIR: an ancestor is a file; going up finds it and says so.
      if (!hasCode(err, 'ENOENT') && !hasCode(err, 'ENOTDIR')) throw err;
    }
    if (stats !== null) {
      if (!stats.isDirectory()) throw new Error(`${current} is not a directory`);
      break;
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    missing.push(current);
    current = parent;
  }
  for (const each of missing.reverse()) {
    try {
      mkdirSync(each);
    } catch (err) {
      // Another process may have created it meanwhile; anything else is fatal.
      if (!hasCode(err, 'EEXIST') || !statSync(each).isDirectory()) throw err;
    }
  }
}

/**
 * The file's real path (symlinks and `..` resolved), or for a file not created yet its
 * directory's real path and its name: two opens of one file by different paths get the
 * same key, and so share one connection.
 */
export function canonicalPath(location: string): string {
  try {
    return realpathSync(location);
  } catch {
    // Absent (a fresh store): the directory exists by now, and the file will be made there.
    try {
      return path.join(realpathSync(path.dirname(location)), path.basename(location));
    } catch {
      // The directory vanished meanwhile; opening the file will say why.
      return location;
    }
  }
}
