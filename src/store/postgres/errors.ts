/**
 * PostgreSQL's errors as StoreErrors a person can act on: the one place that reads
 * SQLSTATE codes and the driver's connection errors. A BerthError passes through.
 */
import { BerthError, StoreError } from '../../errors.js';

/** Where a failure happened: what the message can promise about the data. */
export type PgPhase = 'opening' | 'transaction' | 'commit';

/** The SQLSTATE (`23505`) or Node error code (`ECONNREFUSED`) of `err`, if any. */
export function pgCode(err: unknown): string | null {
  if (!(err instanceof Error) || !('code' in err)) return null;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : null;
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether the connection itself failed (refused, dropped, server shut down), not one statement. */
export function isConnectionLoss(err: unknown): boolean {
  const code = pgCode(err);
  if (code !== null && (NETWORK.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  return err instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(err.message);
}

/**
 * `err` as a StoreError naming the registry at `location`, what happened and what to do.
 * Errors of berth itself (ConflictError from a lease write, say) pass through unchanged.
 */
export function pgStoreError(err: unknown, location: string, phase: PgPhase): unknown {
  if (err instanceof BerthError) return err;
  const said = err instanceof Error ? err.message : String(err);
  const code = pgCode(err);
  const details = { store: location, ...(code ? { code } : {}) };
  // Only a connection lost while COMMIT was on its way leaves the outcome unknown; any
  // other failure, and a connection lost before, rolls the whole transaction back.
  const outcome =
    phase === 'commit' && isConnectionLoss(err)
      ? 'The change may or may not have been committed (the connection went while committing): check with `berth list` before retrying. '
      : phase === 'opening'
        ? ''
        : 'Nothing was changed: PostgreSQL rolls back a transaction that fails or whose connection is lost. ';
  if (isConnectionLoss(err) && phase === 'opening') {
    return new StoreError(`cannot connect to the PostgreSQL registry ${location} (${said}). Check that the server is up and reachable, and the URL (--db or BERTH_DB).`, details);
  }
  if (isConnectionLoss(err)) {
    return new StoreError(`lost the connection to the PostgreSQL registry ${location} (${said}). ${outcome}Check that the server is up and reachable, then try again.`, details);
  }
  if (code === '28P01' || code === '28000') {
    return new StoreError(`PostgreSQL at ${location} refused the login (${said}). Check the user and password in the URL, PGPASSWORD or ~/.pgpass.`, details);
  }
  if (code === '3D000') {
    return new StoreError(`PostgreSQL at ${location} has no such database (${said}). Create it (createdb NAME) or name another in the URL.`, details);
  }
  if (code === '42501') {
    return new StoreError(`PostgreSQL at ${location} refused berth (${said}). Nothing was changed. Grant the user CREATE on the database (for the berth schema) or use a user that may.`, details);
  }
  if (code === '55P03') {
    return new StoreError(`the PostgreSQL registry ${location} stayed locked by another writer of this machine (${said}). ${outcome}Try again; if it persists, look for a stuck berth process.`, details);
  }
  if (code === '40001' || code === '40P01') {
    return new StoreError(`the PostgreSQL registry ${location} gave up a transaction to let another go on (${said}). Nothing was changed. Try again.`, details);
  }
  return new StoreError(`the PostgreSQL registry ${location} failed (${said}${code ? `, ${code}` : ''}). ${outcome}`.trimEnd(), details);
}
