/**
 * What the page knows, all from the daemon: leases (the stream's snapshot, then its
 * changes), listeners (the stream's `ports` events), and what is derived on the server
 * from both (pools, conflicts), fetched again after a change rather than on a timer.
 * Launched services likewise: the snapshot's list, each `service` event applied at once,
 * the details an event does not carry (restarts, start time) from a refetch after it.
 */
import type { Conflict, EngineInfo, KnownStack, PoolStatus, PortEntry, ProjectInfo, ServiceEvent, ServiceStatus, StackEvent } from '../engine/index.js';
import type { Lease, RegistryEvent } from '../types.js';

/** A lease's key: scope and name. */
export const leaseKey = (scope: string, name: string): string => `${scope}\u0000${name}`;
/** Another machine's lease's key: machine, scope and name. */
const otherKey = (host: string, scope: string, name: string): string => `${host}\u0000${scope}\u0000${name}`;

/** How many history events the page keeps. */
export const HISTORY_KEPT = 500;

/** The page's state. */
export class Model {
  info: EngineInfo | null = null;
  /** The daemon's project (its berth.yaml's categories classify ports in the usage chart). */
  project: ProjectInfo | null = null;
  access: 'write' | 'read' = 'read';
  /** This machine's leases (every view's; actions act on these). */
  leases = new Map<string, Lease>();
  /**
   * Other machines' leases on a shared registry (issue 14): shown, read-only, in the Leases
   * view; their ports are another namespace, so no other view counts them.
   */
  others = new Map<string, Lease>();
  /** When each of the others was last deleted (event id): a list read before it must not bring it back. */
  private othersGone = new Map<string, number>();
  /** Listeners; null until the first `ports` event. */
  ports: readonly PortEntry[] | null = null;
  pools: readonly PoolStatus[] = [];
  conflicts: readonly Conflict[] = [];
  /** Newest first. */
  history: RegistryEvent[] = [];
  /** The services of the daemon's stacks, in each stack's start (dependency) order. */
  services: readonly ServiceStatus[] = [];
  /** Every stack the daemon has run, running or down (asked for with the services list). */
  stacks: readonly KnownStack[] = [];
  /** The last event id applied. */
  lastEventId = 0;
  /** Bumped on every change, so views know when to draw again. */
  version = 0;

  /** The stream's snapshot: every lease as of `lastEventId`. */
  snapshot(leases: readonly Lease[], lastEventId: number): void {
    this.leases = new Map(leases.map((l) => [leaseKey(l.scope, l.name), l]));
    this.lastEventId = lastEventId;
    this.version++;
  }

  /** Whether the registry is shared by several machines (PostgreSQL). */
  shared(): boolean {
    return this.info?.store === 'postgres';
  }

  /** Other machines' leases from a list read after event `asOf` (this machine's are the snapshot's). */
  addOthers(list: readonly Lease[], asOf: number): void {
    for (const l of list) {
      if (this.info === null || l.host === this.info.host) continue;
      const key = otherKey(l.host, l.scope, l.name);
      if ((this.othersGone.get(key) ?? -1) > asOf) continue;
      this.others.set(key, l);
    }
    this.version++;
  }

  /** A fresh list read: the details of leases the page has (purpose, strategy), by machine; none added or removed. */
  refreshLeases(list: readonly Lease[]): void {
    for (const l of list) {
      const mine = this.info === null || l.host === this.info.host;
      const [map, key] = mine ? [this.leases, leaseKey(l.scope, l.name)] : [this.others, otherKey(l.host, l.scope, l.name)];
      if (map.has(key)) map.set(key, l);
    }
  }

  /** One change from the stream, applied to the leases at once (details follow from a refetch). */
  apply(event: RegistryEvent): void {
    if (event.id <= this.lastEventId) return;
    this.lastEventId = event.id;
    const mine = this.info === null || event.host === this.info.host;
    const leases = mine ? this.leases : this.others;
    const key = mine ? leaseKey(event.scope, event.name) : otherKey(event.host, event.scope, event.name);
    if (event.change === 'deleted') {
      leases.delete(key);
      if (!mine) this.othersGone.set(key, event.id);
    } else {
      const before = leases.get(key);
      leases.set(key, {
        host: event.host,
        scope: event.scope,
        name: event.name,
        port: event.port,
        protocol: event.protocol,
        purpose: before?.purpose ?? null,
        // Events do not carry it either: the refetch after the change brings it.
        strategy: before?.strategy ?? null,
        pool: event.pool,
        slot: event.slot,
        ephemeral: event.ownerPid !== null,
        pid: event.ownerPid,
        createdAt: before?.createdAt ?? event.time,
        updatedAt: event.time,
      });
    }
    if (!this.history.some((e) => e.id === event.id)) {
      this.history.unshift(event);
      if (this.history.length > HISTORY_KEPT) this.history.length = HISTORY_KEPT;
    }
    this.version++;
  }

  /** One service state change from the stream, applied to the known service at once. */
  applyService(event: ServiceEvent): void {
    const i = this.services.findIndex((s) => s.scope === event.scope && s.name === event.name);
    if (i < 0) return; // A new stack's services arrive with the refetch the event triggers.
    const next = [...this.services];
    next[i] = { ...next[i]!, state: event.state, reason: event.reason, pid: event.pid };
    this.services = next;
    this.version++;
  }

  /** A stack the daemon added (its services) or forgot (its rows go). */
  applyStack(event: StackEvent): void {
    this.services = [...this.services.filter((s) => s.scope !== event.scope), ...event.services];
    this.version++;
  }

  /** Listeners whose port a foreign-holder conflict names: strangers on leased ports. */
  strangers(): Set<string> {
    const out = new Set<string>();
    for (const c of this.conflicts) {
      if (c.kind !== 'foreign-holder' && c.kind !== 'fixed-port-in-use') continue;
      for (const h of c.holders) out.add(`${h.protocol}:${h.port}:${h.pid ?? '?'}`);
    }
    return out;
  }

  /** The listeners by protocol and port, made again only when new listeners arrive. */
  private byPort = new Map<string, PortEntry[]>();
  private byPortOf: readonly PortEntry[] | null = null;

  /** The listeners of a port (a thousand leases ask on every draw: a map, not a scan). */
  holdersOf(port: number, protocol = 'tcp'): readonly PortEntry[] {
    if (this.byPortOf !== this.ports) {
      this.byPort = new Map();
      for (const p of this.ports ?? []) {
        const key = `${p.protocol}:${p.port}`;
        const list = this.byPort.get(key);
        if (list) list.push(p);
        else this.byPort.set(key, [p]);
      }
      this.byPortOf = this.ports;
    }
    return this.byPort.get(`${protocol}:${port}`) ?? [];
  }
}

/** A listener's key, as strangers() names them. */
export const listenerKey = (l: { protocol: string; port: number; pid: number | null }): string => `${l.protocol}:${l.port}:${l.pid ?? '?'}`;
