/**
 * What a PostgresStore remembers of its own machine's rows, so that an allocation's read
 * (Store.guess) can cost no round trip: a lone writer of a machine allocating one name
 * after another would otherwise ask the server, every time, for answers it already has.
 *
 * `Seen` holds the answers of read-only transactions (PgTx fills it as it reads: one
 * snapshot, so an answer once read stays the answer). The store keeps the last guess
 * read's Seen with the machine's version at that read (`machines.version`, raised by every
 * write of the machine's leases, scan hints or pools: claims and write transactions
 * alike), and adds what each of its own claims wrote, for as long as each claim is the
 * next version. A guess made from it passes that version to claim(), which refuses when
 * the version moved: whatever another writer changed meanwhile (a release below the scan
 * hint, a pool defined, a lease taken), nothing is claimed on a stale answer. Remembered
 * answers serve that claim only: what the guess concludes otherwise (a port refused, a
 * general write transaction instead of a claim) is concluded again on a fresh read.
 */
import type { Lease, PoolConfig, Protocol } from '../../types.js';
import type { SlotHolder, StoreTx } from '../store.js';

/** Ports after a scan hint whose leases one read brings along (see hintWindowSql in tx.ts). */
export const HINT_WINDOW = 64;

/**
 * Answers read in one snapshot, or remembered since, keyed by what was asked. Each getter
 * answers undefined for what was not asked (null: asked, and there is none).
 */
export class Seen {
  /** Scan hints by `host protocol start`. */
  private readonly hints = new Map<string, number | null>();
  /** The lease at `host protocol port`. */
  private readonly at = new Map<string, Lease | null>();
  /** Windows of HINT_WINDOW ports after a hint whose leases were all read: a port there not in `at` is unleased. */
  private readonly windows: { readonly host: string; readonly protocol: Protocol; readonly from: number }[] = [];
  /** The lease named `host scope name`. */
  private readonly names = new Map<string, Lease | null>();
  /** Recorded pool definitions by host. */
  private readonly pools = new Map<string, PoolConfig[]>();
  /** Slot holders by `host pool`. */
  private readonly slots = new Map<string, SlotHolder[]>();

  hint(host: string, protocol: Protocol, start: number): number | null | undefined {
    return this.hints.get(`${host} ${protocol} ${start}`);
  }

  setHint(host: string, protocol: Protocol, start: number, next: number | null): void {
    this.hints.set(`${host} ${protocol} ${start}`, next);
  }

  /** The lease at a port, from one asked for or a window read. */
  leaseAt(host: string, protocol: Protocol, port: number): Lease | null | undefined {
    const known = this.at.get(`${host} ${protocol} ${port}`);
    if (known !== undefined) return known;
    return this.windows.some((w) => w.host === host && w.protocol === protocol && port >= w.from && port < w.from + HINT_WINDOW) ? null : undefined;
  }

  setLeaseAt(host: string, protocol: Protocol, port: number, lease: Lease | null): void {
    this.at.set(`${host} ${protocol} ${port}`, lease);
  }

  /** Records that every lease of the HINT_WINDOW ports from `from` was read. */
  addWindow(host: string, protocol: Protocol, from: number): void {
    this.windows.push({ host, protocol, from });
  }

  lease(host: string, scope: string, name: string): Lease | null | undefined {
    return this.names.get(`${host} ${scope} ${name}`);
  }

  setLease(host: string, scope: string, name: string, lease: Lease | null): void {
    this.names.set(`${host} ${scope} ${name}`, lease);
  }

  poolsOf(host: string): PoolConfig[] | undefined {
    return this.pools.get(host);
  }

  setPools(host: string, pools: PoolConfig[]): void {
    this.pools.set(host, pools);
  }

  slotsOf(host: string, pool: string): SlotHolder[] | undefined {
    return this.slots.get(`${host} ${pool}`);
  }

  setSlots(host: string, pool: string, slots: SlotHolder[]): void {
    this.slots.set(`${host} ${pool}`, slots);
  }

  /** Records a lease that now holds its name and port (a claim's). */
  leased(lease: Lease): void {
    this.setLeaseAt(lease.host, lease.protocol, lease.port, lease);
    this.setLease(lease.host, lease.scope, lease.name, lease);
  }
}

/** Thrown by a RecallTx asked what it does not remember: the guess is made again on a fresh read. */
class Unremembered extends Error {
  constructor(what: string) {
    super(`not remembered: ${what}`);
  }
}

/**
 * The reads of a guess answered from a Seen, for `host` only. A name it has not seen is
 * answered as unleased: claim() checks every name it writes, so a wrong "none" costs a
 * refused claim (and a fresh read), not a wrong lease. Anything else it has not seen is
 * Unremembered.
 */
export class RecallTx implements StoreTx {
  constructor(
    private readonly seen: Seen,
    private readonly host: string,
  ) {}

  private own(host: string, what: string): void {
    if (host !== this.host) throw new Unremembered(`${what} of machine ${host}`);
  }

  async getLease(host: string, scope: string, name: string): Promise<Lease | null> {
    this.own(host, 'a lease');
    return this.seen.lease(host, scope, name) ?? null;
  }

  async leaseAt(host: string, protocol: Protocol, port: number): Promise<Lease | null> {
    this.own(host, 'a port');
    const known = this.seen.leaseAt(host, protocol, port);
    if (known === undefined) throw new Unremembered(`port ${port}`);
    return known;
  }

  async getScanHint(host: string, protocol: Protocol, start: number): Promise<number | null> {
    this.own(host, 'a scan hint');
    const known = this.seen.hint(host, protocol, start);
    if (known === undefined) throw new Unremembered(`the scan hint from ${start}`);
    return known;
  }

  async listPools(host: string): Promise<PoolConfig[]> {
    this.own(host, 'pools');
    const known = this.seen.poolsOf(host);
    if (known === undefined) throw new Unremembered('pools');
    return known;
  }

  async poolSlots(host: string, pool: string): Promise<SlotHolder[]> {
    this.own(host, 'slots');
    const known = this.seen.slotsOf(host, pool);
    if (known === undefined) throw new Unremembered(`the slots of pool ${pool}`);
    return known;
  }

  // What an allocation's read never asks, and a guess has no use for: a fresh read answers.
  listLeases = (): never => this.miss('leases');
  insertLease = (): never => this.miss('a write');
  updateLease = (): never => this.miss('a write');
  deleteLease = (): never => this.miss('a write');
  getScope = (): never => this.miss('a scope');
  ensureScope = (): never => this.miss('a write');
  listScopes = (): never => this.miss('scopes');
  deleteScope = (): never => this.miss('a write');
  setScanHint = (): never => this.miss('a write');
  listEvents = (): never => this.miss('events');
  lastEventId = (): never => this.miss('events');
  savePool = (): never => this.miss('a write');
  getPool = (): never => this.miss('a pool');
  reset = (): never => this.miss('a write');

  private miss(what: string): never {
    throw new Unremembered(what);
  }
}
