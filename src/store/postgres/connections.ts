/**
 * The connections a PostgresStore lends its transactions: the pool's, and at most one
 * parked with a read-only transaction still open. Ending a read-only transaction changes
 * nothing, and no caller needs its answer, so its COMMIT is not sent on its own: the
 * connection is parked, and the next transaction of the store takes it and writes COMMIT
 * ahead of its own first statement, in the same write (session.ts). An allocation's read
 * and write then cost one wake-up of each side fewer. A parked connection nobody takes
 * soon is committed and given back to the pool (PARK_MS), so an open snapshot never lingers.
 */
import type pg from 'pg';
import { pgStoreError } from './errors.js';
import { send, type Statement } from './session.js';

/** How long a connection stays parked before its COMMIT is sent on its own. */
export const PARK_MS = 20;

/** What a parked connection owes. */
const OWED_COMMIT: readonly Statement[] = [{ text: 'COMMIT' }];

/** A connection lent to one transaction. */
export interface Lent {
  readonly client: pg.PoolClient;
  /** What must be written before the first statement (COMMIT, on a parked connection). */
  readonly owed: readonly Statement[];
  /** The error the connection reported while lent (dropped by the server), if any. */
  broken(): Error | undefined;
  /** Gives the connection back; with an error (or one it reported), the pool closes it. */
  done(err?: Error): void;
}

/** The pool, and the parked connection. */
export class Connections {
  private parked: { readonly lent: Lent; readonly timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly location: string,
    /** Work close() must wait for (a COMMIT on its way). */
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** A connection: the parked one when there is one, else one of the pool. */
  async lend(): Promise<Lent> {
    const parked = this.unpark();
    if (parked !== undefined) {
      if (parked.broken() === undefined) return { ...parked, owed: OWED_COMMIT };
      parked.done();
    }
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw pgStoreError(err, this.location, 'transaction');
    }
    return watch(client);
  }

  /** Ends a lent connection's read-only transaction: parked, or committed now when another is parked already. */
  park(lent: Lent): void {
    if (this.parked !== undefined) {
      this.commit(lent);
      return;
    }
    const timer = setTimeout(() => {
      const idle = this.unpark();
      if (idle !== undefined) this.commit(idle);
    }, PARK_MS);
    timer.unref();
    this.parked = { lent, timer };
  }

  /** Commits the parked connection's transaction and gives it back (close: before the pool ends). */
  flush(): void {
    const parked = this.unpark();
    if (parked !== undefined) this.commit(parked);
  }

  private unpark(): Lent | undefined {
    const parked = this.parked;
    if (parked === undefined) return undefined;
    this.parked = undefined;
    clearTimeout(parked.timer);
    return parked.lent;
  }

  /** Sends COMMIT, and gives the connection back once it is answered (closed if that failed). */
  private commit(lent: Lent): void {
    this.track(
      send(lent.client, OWED_COMMIT[0]!).then(
        () => lent.done(),
        (err: Error) => lent.done(err),
      ),
    );
  }
}

/**
 * The server may drop a connection while it is lent or parked (shut down, terminated): the
 * pending query rejects with the reason, and the client's own 'error' event, with no
 * listener, would end the process. Noted here; the client is then not given back.
 */
function watch(client: pg.PoolClient): Lent {
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  return {
    client,
    owed: [],
    broken: () => broken,
    done: (err?: Error) => {
      client.off('error', onError);
      client.release(err ?? broken);
    },
  };
}
