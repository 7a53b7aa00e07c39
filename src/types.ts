/**
 * Plain data shared by every layer. No behaviour lives here.
 */

/** Transport protocol of a lease or a listener. */
export type Protocol = 'tcp' | 'udp';

/** The protocols berth knows, in display order. */
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];

/** Highest valid port number. */
export const MAX_PORT = 65535;

/** One port held by one scope under one name, on one host and protocol. */
export interface Lease {
  readonly host: string;
  readonly scope: string;
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly purpose: string | null;
  /** Pool name when the lease belongs to a reserved pool slot. */
  readonly pool: string | null;
  /** Slot index within the pool, from 0. */
  readonly slot: number | null;
  /** Ephemeral leases belong to a pid and are reclaimed when it dies. */
  readonly ephemeral: boolean;
  readonly pid: number | null;
  /** ISO-8601 timestamps. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a caller supplies to create a lease; the store fills the times. */
export type NewLease = Omit<Lease, 'createdAt' | 'updatedAt'>;

/** A scope: who owns leases, and the directory it came from (for gc). */
export interface Scope {
  readonly host: string;
  readonly name: string;
  readonly directory: string | null;
  readonly createdAt: string;
}

/** An inclusive band of ports. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/** What the OS reports about one listening (TCP) or bound (UDP) socket. */
export interface Listener {
  readonly protocol: Protocol;
  /** Local address as printed by the OS: `0.0.0.0`, `::`, `127.0.0.1`, `::1`, ... */
  readonly address: string;
  readonly port: number;
  /** null when the socket's owner cannot be inspected (another user's process). */
  readonly pid: number | null;
  readonly process: string | null;
  readonly command: string | null;
  readonly user: string | null;
  /** Set when the port is published by a container. */
  readonly container: ContainerRef | null;
}

/** A container that publishes a port. */
export interface ContainerRef {
  readonly id: string;
  readonly name: string;
  readonly image: string;
}
