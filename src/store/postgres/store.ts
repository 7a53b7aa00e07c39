/**
 * The PostgreSQL-backed store: a pool of connections to one shared registry, on which
 * this process writes as one machine (`host`). Open it with openPostgresStore.
 *
 * A write transaction first takes a transaction-scoped advisory lock named after the
 * machine, so writers of one machine (any process, any machine that names it) run their
 * read-check-write one at a time, while writers of different machines do not wait for
 * each other; the unique keys of the schema hold whatever happens. The lock is taken on
 * the server, so waiting for it does not block this process's event loop, and it goes
 * with the transaction: a writer that dies or loses its connection releases it.
 */
import type pg from 'pg';
import { StoreError } from '../../errors.js';
import { PruneSchedule } from '../retention.js';
import type { Lease } from '../../types.js';
import type { ClaimScope, GuessBasis, HistoryRetention, NewClaim, Store, StoreTx, TxMode, WriteIntent } from '../store.js';
import { claimCall, claimedHints, claimedLeases, type ClaimAnswer, type ClaimHint } from './claim.js';
import { isConnectionLoss, pgCode, pgStoreError, type PgPhase } from './errors.js';
import { prunePgEvents } from './events.js';
import { eventChannel, writerLockKey } from './names.js';
import { Connections } from './connections.js';
import { PgSession, send, type Statement } from './session.js';
import { PgTx } from './tx.js';
import { RecallTx, Seen } from './recall.js';
import { bumpMachineSql } from './schema.js';

/** What a PostgresStore is made of (see openPostgresStore). */
export interface PgStoreParts {
  readonly pool: pg.Pool;
  /** A new connection outside the pool, for LISTEN (it stays open while anyone watches). */
  readonly listener: () => pg.Client;
  /** The URL as messages show it. */
  readonly location: string;
  readonly host: string;
  readonly schema: string;
  /** The schema as a quoted identifier. */
  readonly quoted: string;
  readonly retention: HistoryRetention;
}

/**
 * The server refused a statement prepared on this connection because a table under it
 * changed shape (0A000: another machine's newer berth migrated the schema). The
 * connection is closed rather than given back, so the next transaction prepares its
 * statements anew on another: one transaction fails, not every one after it.
 */
const stalePrepared = (err: unknown): boolean => pgCode(err) === '0A000';

/** A guess's basis from this store: the machine's version its remembered answers were (none: a fresh read's, which claim() need not check). */
interface PgBasis extends GuessBasis {
  readonly version?: number;
}

/** Guesses made on fresh reads after another writer of the machine showed up (PostgresStore.doubt). */
const DOUBT_GUESSES = 16;

/** What begins a read-only transaction: one snapshot for all its statements. */
const BEGIN_READ: readonly Statement[] = [{ text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' }];

/** A store over a PostgreSQL database, shared with other machines. */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly location: string;
  readonly host: string;
  private readonly prunes = new PruneSchedule();
  /** A prune due, for the next write transaction to make (claimNew asks for one so). */
  private pruneOwed = false;
  /** BEGIN and this machine's writer lock, sent with a write's first statement (see PgSession). */
  private readonly beginWrite: readonly Statement[];
  private readonly running = new Set<Promise<unknown>>();
  private readonly conns: Connections;
  private closed = false;
  /** The channel writers NOTIFY when they commit events, as an identifier; and as a name (pg_notify). */
  private readonly channel: string;
  private readonly channelName: string;
  /** This machine's writer lock (pg_advisory_xact_lock). */
  private readonly lockKey: string;
  private readonly watchers = new Set<() => void>();
  private listening: pg.Client | undefined;
  /**
   * What this store remembers of its machine's rows, as of the machine's `version`
   * (recall.ts): the last guess read's answers and what this store's claims wrote since.
   * Dropped when a write transaction of this store or a refused claim says it is stale.
   */
  private memory: { readonly seen: Seen; version: number } | null = null;
  /**
   * Guesses still to make on fresh reads before trusting the memory again: set when
   * another writer of the machine showed up (a claim found the version moved by more than
   * its own write, or refused a remembered guess). Writers of one machine racing would
   * otherwise see most remembered guesses refused, and pay a round trip for each.
   */
  private doubt = 0;
  /** What every write transaction sends before its events: the machine's version raised. */
  private readonly bump: Statement;

  constructor(private readonly parts: PgStoreParts) {
    this.location = parts.location;
    this.conns = new Connections(parts.pool, parts.location, (work) => this.track(work));
    this.host = parts.host;
    this.channelName = eventChannel(parts.schema);
    this.channel = `"${this.channelName}"`;
    this.lockKey = writerLockKey(parts.schema, parts.host);
    this.beginWrite = [{ text: 'BEGIN' }, { text: 'SELECT pg_advisory_xact_lock($1)', values: [this.lockKey] }];
    this.bump = { text: bumpMachineSql(parts.quoted), values: [parts.host] };
  }

  transaction<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent?: WriteIntent): Promise<T> {
    return this.tracked(() => this.run(mode, fn, intent));
  }

  /** Runs `work` unless the store is closed; close() waits for it (and for what it leaves running, see track). */
  private tracked<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError(`the store ${this.location} was closed; open it again to use it.`));
    const run = work();
    this.track(run);
    return run;
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined);
    this.running.add(tracked);
    void tracked.then(() => this.running.delete(tracked));
  }

  /**
   * An allocation's read (Store.guess): from what the store remembers when it covers what
   * `fn` asks, else a read-only transaction that also reads the machine's version, whose
   * answers are then remembered.
   */
  guess<T>(fn: (tx: StoreTx, basis: GuessBasis) => Promise<T>): Promise<T> {
    return this.tracked(async () => {
      if (this.doubt > 0) {
        // Nothing remembered, nothing to remember: the version is not even read.
        this.doubt--;
        return this.run('read', (tx) => fn(tx, { store: this }), undefined);
      }
      const memory = this.memory;
      if (memory !== null) {
        const basis: PgBasis = { store: this, version: memory.version, remembered: true };
        try {
          return await fn(new RecallTx(memory.seen, this.host), basis);
        } catch {
          // Not remembered (Unremembered), or an answer fn refused (a port it says is held,
          // a pool it says is there) that may no longer be so: a fresh read says.
        }
      }
      return this.run('read', async (tx) => {
        const version = (tx as PgTx).machineVersion(this.host);
        // Observed below; when fn fails too, its failure is the one reported.
        version.catch(() => undefined);
        const result = await fn(tx, { store: this });
        this.memory = { seen: (tx as PgTx).seen!, version: await version };
        return result;
      }, undefined);
    });
  }

  private async run<T>(mode: TxMode, fn: (tx: StoreTx) => Promise<T>, intent: WriteIntent | undefined): Promise<T> {
    const { quoted, retention } = this.parts;
    let phase: PgPhase = 'transaction';
    const lent = await this.conns.lend();
    let failed: Error | undefined;
    let parked = false;
    const session = new PgSession(lent.client, [...lent.owed, ...(mode === 'write' ? this.beginWrite : BEGIN_READ)]);
    try {
      const tx = new PgTx(session, quoted, intent, mode === 'read');
      const result = await fn(tx);
      if (mode === 'read') {
        // Its COMMIT goes with the next transaction's first statement (connections.ts).
        if (session.begun) {
          this.conns.park(lent);
          parked = true;
        }
        return result;
      }
      // A write that sent nothing changed nothing: it has nothing to prune after either.
      if (session.begun && (this.pruneOwed || this.prunes.due())) {
        this.pruneOwed = false;
        await tx.events.flush(session, quoted);
        this.prunes.done(await prunePgEvents(session, quoted, retention, Date.now()));
      }
      phase = 'commit';
      // A write that changed the machine's rows raises its version (a guess made before it
      // is refused), and what this store remembers may no longer be the registry. One that
      // changed none (a get-or-allocate that found its leases, a prune) leaves both.
      const changed = tx.changed;
      if (changed) this.memory = null;
      await tx.events.flushAndCommit(session, quoted, this.channelName, changed ? this.bump : null);
      return result;
    } catch (err) {
      if (phase !== 'commit') {
        await session.rollback().catch((rollbackError: Error) => {
          // The connection is gone or broken: the server rolls back what it had; this
          // client is not given back to the pool.
          failed = rollbackError;
        });
      } else {
        failed = err as Error;
      }
      if (stalePrepared(err)) failed ??= err as Error;
      throw pgStoreError(err, this.location, phase);
    } finally {
      // Nothing sent on a parked connection: its read-only transaction is still open, parked again.
      if (!parked && !session.begun && lent.owed.length > 0) this.conns.park(lent);
      else if (!parked) lent.done(failed ?? lent.broken());
    }
  }

  /**
   * An allocation's write in one round trip (claim.ts). Null, with nothing written, when
   * a name or port is taken, the scope is tied to another directory, or the leases are
   * not all of `scope` on this machine.
   */
  claimNew(scope: ClaimScope, claims: readonly NewClaim[], intent?: WriteIntent, basis?: GuessBasis): Promise<Lease[] | null> {
    return this.tracked(async () => {
      if (scope.host !== this.host) return null;
      if (this.prunes.due()) {
        // The history is due for pruning, as every so many writes: a write of its own prunes
        // it (it changes none of the machine's rows, so a guess stays good).
        this.pruneOwed = true;
        await this.run('write', (tx) => tx.lastEventId(), undefined);
      }
      return this.claimOnce(scope, claims, intent, basis);
    });
  }

  /** The claim itself: one statement, its own transaction (claim.ts). */
  private async claimOnce(scope: ClaimScope, claims: readonly NewClaim[], intent: WriteIntent | undefined, basis: GuessBasis | undefined): Promise<Lease[] | null> {
    const expect = basis?.store === this ? ((basis as PgBasis).version ?? null) : null;
    const call = claimCall({ s: this.parts.quoted, lockKey: this.lockKey, channel: this.channelName }, scope, claims, intent, expect);
    if (call === null) return null;
    const { client, owed, done, broken } = await this.conns.lend();
    let failed: Error | undefined;
    try {
      // After a parked read's COMMIT, in the same write.
      const answers = [...owed, call].map((statement) => send<ClaimAnswer>(client, statement));
      const answer = (await Promise.all(answers)).at(-1)!.rows[0]!;
      const leases = claimedLeases(call, answer.port);
      this.remember(leases, leases === null ? [] : claimedHints(call, answer.port!), Number(answer.version), expect);
      return leases;
    } catch (err) {
      this.memory = null;
      // The call was its own transaction: the server rolled it back, unless the
      // connection went, which leaves its outcome unknown.
      if (isConnectionLoss(err)) {
        failed = err as Error;
        throw pgStoreError(err, this.location, 'commit');
      }
      // A key taken after all (the check and the insert disagree): the general path says why.
      if (pgCode(err) === '23505') return null;
      // A parked read's COMMIT that failed leaves the connection in an aborted
      // transaction (the call behind it refused too): it is not given back.
      if (owed.length > 0 || stalePrepared(err)) failed = err as Error;
      throw pgStoreError(err, this.location, 'transaction');
    } finally {
      done(failed ?? broken());
    }
  }

  /**
   * Adds a claim's writes to what the store remembers when the claim was the machine's
   * next version (nothing else changed since what it remembers); else forgets it all.
   * `expect`: the version the claim's guess stood on, when it was remembered.
   */
  private remember(leases: readonly Lease[] | null, hints: readonly ClaimHint[], version: number, expect: number | null): void {
    const memory = this.memory;
    // A read that finished after this claim remembers it already.
    if (leases !== null && memory !== null && memory.version >= version) return;
    if (leases === null || memory === null || memory.version !== version - 1) {
      // Another writer of the machine wrote since what the store remembers: guess from
      // fresh reads for a while. A remembered guess refused at the version it stood on
      // met no other writer, only a name the store had not read.
      const alone = leases === null && expect !== null && version === expect;
      if (memory !== null && !alone) this.doubt = DOUBT_GUESSES;
      this.memory = null;
      return;
    }
    for (const lease of leases) memory.seen.leased(lease);
    for (const h of hints) memory.seen.setHint(this.host, h.protocol, h.start, h.next);
    memory.version = version;
  }

  /**
   * Calls `onChange` when any machine commits events (LISTEN on one connection of its own,
   * opened for the first watcher, closed with the last). A lost listening connection is
   * not reopened: the feeds poll anyway, and read by event id, so they miss nothing.
   */
  watch(onChange: () => void): () => void {
    this.watchers.add(onChange);
    if (this.listening === undefined && !this.closed) this.listen();
    return () => {
      this.watchers.delete(onChange);
      if (this.watchers.size === 0) this.unlisten();
    };
  }

  private listen(): void {
    const client = this.parts.listener();
    this.listening = client;
    client.on('notification', () => {
      for (const watcher of [...this.watchers]) watcher();
    });
    client.on('error', () => {
      // The connection went: hints stop, polling goes on (see watch).
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${this.channel}`))
      .catch(() => {
        // No listening connection: the feeds still poll.
      });
  }

  private unlisten(): void {
    const client = this.listening;
    this.listening = undefined;
    void client?.end().catch(() => {
      // Already closed or never connected: nothing to end.
    });
  }

  /** Waits for the transactions asked for so far, then closes the connections. Closing twice does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    await Promise.all(this.running);
    this.conns.flush();
    await Promise.all(this.running);
    await this.parts.pool.end();
  }
}
