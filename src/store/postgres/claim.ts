/**
 * An allocation's write in one round trip (Store.claimNew): one call of the schema's
 * claim() function (schema.ts: migration 2; 3 writes the strategy; 4 looks rows up by
 * their keys; 6 checks and raises the machine's version), outside BEGIN, so that the
 * statement is its own transaction: it takes this machine's writer lock, checks that the
 * machine's version is the one the guess stood on (when it stood on remembered answers,
 * recall.ts), that no lease holds a name or port of the claim and that the scope is tied
 * to the same directory or to none, and only then writes the scope, scan hints, leases and
 * events; the lock goes with its commit. Nothing of a strategy is in SQL: the ports were chosen in TypeScript (core),
 * and a failed check sends the caller back to its general transaction, which walks again
 * or says why. The leases and events are built here as PgTx.insertLease builds them.
 */
import type { Lease, Protocol } from '../../types.js';
import { isLeasable } from '../lease-errors.js';
import { toLease, type LeaseRow } from '../rows.js';
import type { ClaimScope, NewClaim, WriteIntent } from '../store.js';
import { EventBuffer } from './events.js';
import type { Statement } from './session.js';

/** A scan hint a claim writes. */
export interface ClaimHint {
  readonly protocol: Protocol;
  readonly start: number;
  readonly next: number;
}

/** The statement of one claim, with its values, and the leases it makes when its check passes. */
export interface ClaimCall extends Statement {
  readonly values: unknown[];
  readonly leases: Lease[];
  /** The scan hints it writes when the leases take their own ports; by port, when a lone lease takes an alternate. */
  readonly hints: readonly ClaimHint[];
  readonly alternates: ReadonlyMap<number, readonly ClaimHint[]>;
}

/** What claim() answers: the port the first lease got (null: nothing written) and the machine's version after it. */
export interface ClaimAnswer {
  readonly port: number | null;
  readonly version: string;
}

/** What a claim needs of its store: the quoted schema, the writer lock's key, the channel its listeners LISTEN on. */
export interface ClaimTarget {
  readonly s: string;
  readonly lockKey: string;
  readonly channel: string;
}

/**
 * The call claiming `claims` for `scope`, or null when it cannot be made in one step (a
 * port the schema refuses, a lease of another scope or host): the general path says why.
 */
export function claimCall(target: ClaimTarget, scope: ClaimScope, claims: readonly NewClaim[], intent: WriteIntent | undefined, expect: number | null): ClaimCall | null {
  if (claims.length === 0) return null;
  const now = new Date().toISOString();
  const rows: LeaseRow[] = [];
  for (const { lease } of claims) {
    if (lease.host !== scope.host || lease.scope !== scope.name || !isLeasable(lease.port, lease.protocol)) return null;
    rows.push({ ...lease, created_at: now, updated_at: now });
  }
  // One hint per (protocol, start), the last one given winning, as the general path's
  // writes in order would leave it (one INSERT may not change a row twice).
  const hints = new Map<string, ClaimHint>();
  for (const { lease, hints: moved } of claims) for (const h of moved) hints.set(`${lease.protocol} ${h.start}`, { protocol: lease.protocol, start: h.start, next: h.next });
  const events = new EventBuffer(intent);
  for (const row of rows) events.add('created', row, null, now);
  const leases = JSON.stringify(rows.map(({ name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid }) => ({ name, port, protocol, purpose, pool, slot, strategy, ephemeral, pid })));
  // A lone lease's alternates, each with its hints in the form the function reads.
  const protocol = claims[0]!.lease.protocol;
  const alternates = claims.length !== 1 ? [] : (claims[0]!.alternates ?? []).filter((a) => isLeasable(a.port, protocol)).map((a) => ({ port: a.port, hints: a.hints.map((h) => ({ protocol, ...h })) }));
  const text = `SELECT o_port AS port, o_version AS version FROM ${target.s}.claim($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;
  return {
    text,
    values: [target.lockKey, expect, scope.host, scope.name, scope.directory, now, leases, JSON.stringify([...hints.values()]), events.takeJson()!.json, target.channel, JSON.stringify(alternates)],
    leases: rows.map(toLease),
    hints: [...hints.values()],
    alternates: new Map(alternates.map((a) => [a.port, a.hints])),
  };
}

/** The leases a claim made, from the port the function answered (null: none), which for a lone lease may be an alternate. */
export function claimedLeases(call: ClaimCall, port: number | null): Lease[] | null {
  if (port === null) return null;
  const [first, ...rest] = call.leases;
  return first!.port === port ? call.leases : [{ ...first!, port }, ...rest];
}

/** The scan hints a claim wrote, given the port its first lease got. */
export function claimedHints(call: ClaimCall, port: number): readonly ClaimHint[] {
  return call.leases[0]!.port === port ? call.hints : (call.alternates.get(port) ?? []);
}
