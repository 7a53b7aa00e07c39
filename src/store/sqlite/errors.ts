/**
 * SQLite's errors as StoreErrors a person can act on: the one place that reads SQLite's
 * error codes (read-only file or directory, full disk, I/O error, damaged file, missing
 * table, cannot open). Anything that is not an SQLite error passes through unchanged.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../../errors.js';
import { hasCode } from './files.js';

/** The SQLite error code of `err` (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, ...), or null when it is not an SQLite error. */
export function sqliteCode(err: unknown): string | null {
  if (!(err instanceof Error) || !('code' in err)) return null;
  const code = String((err as { code: unknown }).code);
  return code.startsWith('SQLITE_') ? code : null;
}

/** Why `file` cannot be written, and what to do about it; null when nothing explains it. */
function whyReadOnly(file: string): { why: string; fix: string } | null {
  const dir = path.dirname(file);
  const problem = (p: string): string | null => {
    try {
      accessSync(p, constants.W_OK);
      return null;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'EACCES';
    }
  };
  const ofFile = problem(file);
  const ofDir = problem(dir);
  if (ofFile === 'EROFS' || ofDir === 'EROFS') return { why: 'it is on a read-only file system', fix: 'Remount that file system read-write' };
  if (ofFile !== null && ofFile !== 'ENOENT') return { why: 'the file is read-only to this user', fix: `Make it writable (chmod u+w ${file}, as its owner)` };
  if (ofDir !== null) {
    const name = path.basename(file);
    return {
      why: `its directory ${dir} is read-only to this user, and SQLite must create ${name}-wal and ${name}-shm beside it`,
      fix: `Make the directory writable (chmod u+w ${dir}, as its owner)`,
    };
  }
  return null;
}

/** Whether the file system holding `file` has (next to) no space left. */
function diskFull(file: string): boolean {
  try {
    const stats = statfsSync(path.dirname(file));
    // Less than two blocks: SQLite's next page, or its shared-memory file, cannot be written.
    return stats.bavail * stats.bsize < 2 * Math.max(stats.bsize, 4096);
  } catch {
    // statfs failed (the directory vanished, say): the I/O error's own words will do.
    return false;
  }
}

/**
 * `err` as a StoreError naming the store at `location`, what happened and what to do, when
 * it is an SQLite error; otherwise `err` itself. `during` says what was being done when it
 * is not a transaction (`opening`), for the "nothing was changed" part of the message.
 */
export function storeErrorOf(err: unknown, location: string, during: 'transaction' | 'opening' = 'transaction'): unknown {
  const code = sqliteCode(err);
  if (code === null) return err;
  const said = (err as Error).message;
  const unchanged = during === 'transaction' ? 'Nothing was changed. ' : 'It was left as it was. ';
  const details = { file: location, sqlite: code };
  if (code.startsWith('SQLITE_READONLY')) {
    const { why, fix } = whyReadOnly(location) ?? { why: 'SQLite cannot write it', fix: 'Check its permissions and those of its directory' };
    return new StoreError(`the store ${location} is read-only: ${why} (${said}). ${unchanged}${fix}, or pass --db PATH to use another store.`, details);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    const { why, fix } = whyReadOnly(location) ?? { why: 'SQLite cannot open it', fix: `Check that ${path.dirname(location)} exists and is writable` };
    return new StoreError(`cannot open the store ${location}: ${why} (${said}). ${fix}, or pass --db PATH to use another store.`, details);
  }
  if (code === 'SQLITE_FULL' || (code.startsWith('SQLITE_IOERR') && diskFull(location))) {
    return new StoreError(`the disk holding the store ${location} is full (${said}). ${unchanged}Free some space there (df ${path.dirname(location)}), then try again.`, details);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new StoreError(`the store ${location} could not be read or written (${said}, ${code}). ${unchanged}Check the disk it is on, then try again.`, details);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StoreError(
      `the store ${location} is damaged (${said}). It was left as it was. Move it aside (keep it: \`sqlite3 FILE .recover\` may save its leases) ` +
        'and let berth start a new store there, or pass --db PATH to use another store.',
      details,
    );
  }
  const missing = code === 'SQLITE_ERROR' ? /^no such (table|column|index): (\S+)/.exec(said) : null;
  if (missing) {
    return new StoreError(
      `the store ${location} is damaged: its ${missing[1]} ${missing[2]} is missing (${said}). It was left as it was. ` +
        'Move it aside (keep it: `sqlite3 FILE .dump` shows what is left) and let berth start a new store there, or pass --db PATH to use another store.',
      details,
    );
  }
  if (hasCode(err, 'SQLITE_BUSY')) {
    return new StoreError(`the store ${location} stayed locked by another process (${said}). Try again; if it persists, look for a stuck berth process.`, details);
  }
  return new StoreError(`the store ${location} failed: ${said} (${code}). ${unchanged}Try again; if it persists, pass --db PATH to use another store.`, details);
}
