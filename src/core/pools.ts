/**
 * Pools: series of slots, each a set of role -> port. A scope reserves one whole slot at a
 * time, all roles or none, inside one store transaction.
 */
import { ConflictError, ExhaustedError } from '../errors.js';
import type { Lease } from '../types.js';
import type { StoreTx } from '../store/store.js';
import { describeUnavailable, takeOver, unavailableReason, type AllocContext, type Owner } from './allocate.js';
import type { PoolConfig, PortRange } from '../types.js';
import { leaseFallback, onFallback } from './pool-fallback.js';
import { slotCount, slotPorts } from '../wiring/pool-slots.js';
import type { PoolStatus, SlotStatus } from '../engine/index.js';

/** The slot `scope` holds in `pool`, as its leases in role order, or [] if none. */
export async function heldSlot(tx: StoreTx, host: string, scope: string, pool: PoolConfig): Promise<Lease[]> {
  const leases = await tx.listLeases({ host, scope, pool: pool.name });
  return pool.roles.map((role) => leases.find((l) => l.name === role)).filter((l): l is Lease => l !== undefined);
}

/**
 * Reserves the first slot of `pool` that no scope holds and whose every port is free.
 * Idempotent: a scope that already holds a slot gets it back. When none is free, a pool
 * with `fallback: hash` leases the scope stable hash ports in `fallbackBand` (marked as the
 * pool's, with no slot); a scope on them that reserves again moves into a slot once one
 * is free (its fallback leases are released in the same transaction), else keeps them.
 */
export async function reserveSlot(ctx: AllocContext, pool: PoolConfig, owner: Owner, fallbackBand: PortRange | null = null): Promise<Lease[]> {
  const held = await heldSlot(ctx.tx, ctx.host, ctx.scope, pool);
  const fallback = onFallback(held);
  if (held.length > 0 && !fallback) {
    // The slot is owned as a whole: every role passes (or is refused) as allocate's leases do.
    const owned: Lease[] = [];
    for (const lease of held) owned.push(await takeOver(ctx, lease, owner));
    return owned.length === pool.roles.length ? owned : completeSlot(ctx, pool, owned, owner);
  }
  for (const role of pool.roles) {
    const clash = fallback ? null : await ctx.tx.getLease(ctx.host, ctx.scope, role);
    if (clash) {
      throw new ConflictError(
        `scope ${ctx.scope} already has a lease named '${role}' (port ${clash.port}), the name of a role in pool ${pool.name}. ` +
          `Release it (berth release ${role} --scope ${ctx.scope}) or rename the service.`,
      );
    }
  }
  const taken = new Set((await ctx.tx.poolSlots(ctx.host, pool.name)).map((s) => s.slot));
  for (let k = 0; ; k++) {
    const ports = slotPorts(pool, k);
    if (!ports) break;
    if (taken.has(k) || !(await slotIsFree(ctx, pool, ports))) continue;
    // Out of the fallback and into the slot, in this one transaction: never both, never neither.
    for (const lease of held) await ctx.tx.deleteLease(ctx.host, ctx.scope, lease.name);
    const leases: Lease[] = [];
    for (const role of pool.roles) leases.push(await insertRole(ctx, pool, k, role, ports[role]!, owner));
    return leases;
  }
  if (fallback) return held;
  if (pool.fallback === 'hash' && fallbackBand !== null) return leaseFallback(ctx, pool, fallbackBand, owner);
  throw await poolFull(ctx, pool);
}

/**
 * A slot the scope holds only in part (an older berth released single roles, or an import
 * brought half a slot): the missing roles are leased again on the slot's own ports.
 */
async function completeSlot(ctx: AllocContext, pool: PoolConfig, held: Lease[], owner: Owner): Promise<Lease[]> {
  const slot = held[0]!.slot!;
  const ports = slotPorts(pool, slot) ?? {};
  for (const role of pool.roles) {
    if (held.some((l) => l.name === role)) continue;
    const port = ports[role];
    if (port === undefined || (await unavailableReason(ctx, port, pool.protocol, true, pool.name)) !== null) {
      throw new ConflictError(
        `scope ${ctx.scope} holds slot ${slot} of pool ${pool.name} without its role ${role}, whose port ${port ?? '(none)'} is taken. ` +
          `Release the slot (berth release --scope ${ctx.scope}) and reserve again.`,
      );
    }
    await insertRole(ctx, pool, slot, role, port, owner);
  }
  return heldSlot(ctx.tx, ctx.host, ctx.scope, pool);
}

async function insertRole(ctx: AllocContext, pool: PoolConfig, slot: number, role: string, port: number, owner: Owner): Promise<Lease> {
  return ctx.tx.insertLease({
    host: ctx.host,
    scope: ctx.scope,
    name: role,
    port,
    protocol: pool.protocol,
    purpose: `pool ${pool.name} slot ${slot}`,
    pool: pool.name,
    slot,
    strategy: 'pool',
    ephemeral: owner.ephemeral,
    pid: owner.pid,
  });
}

/** Why slot `ports` cannot be reserved now (`admin 8003 leased to other/ui`), or null when every port is free. */
export async function slotBlocker(ctx: AllocContext, pool: PoolConfig, ports: Readonly<Record<string, number>>): Promise<string | null> {
  for (const role of pool.roles) {
    // A pool's ports are configured by name: the ephemeral range is allowed, as with --range.
    const reason = await unavailableReason(ctx, ports[role]!, pool.protocol, true, pool.name);
    if (reason !== null) return `${role} ${ports[role]} ${await describeUnavailable(ctx, ports[role]!, pool.protocol, reason)}`;
  }
  return null;
}

async function slotIsFree(ctx: AllocContext, pool: PoolConfig, ports: Record<string, number>): Promise<boolean> {
  return (await slotBlocker(ctx, pool, ports)) === null;
}

/** The error of a pool without a reservable slot: who holds each slot, and what blocks each unheld one. */
async function poolFull(ctx: AllocContext, pool: PoolConfig): Promise<ExhaustedError> {
  const status = await poolStatus(ctx, pool);
  const holders = status.detail.filter((s) => s.scope !== null).map((s) => ({ slot: s.slot, scope: s.scope! }));
  const list = holders.map((h) => `slot ${h.slot}: ${h.scope}`).join(', ');
  const blocked = status.detail.filter((s) => s.blocked !== null).map((s) => `slot ${s.slot}: ${s.blocked}`);
  const example = holders[0] ? ` (e.g. berth release --scope ${holders[0].scope})` : '';
  return new ExhaustedError(
    `pool ${pool.name} has no free slot${holders.length ? `; held: ${list}` : ''}` +
      `${blocked.length ? `; not held but blocked: ${blocked.slice(0, 10).join('; ')}${blocked.length > 10 ? `; and ${blocked.length - 10} more` : ''}` : ''}. ` +
      `Free one by releasing its scope${example}, stopping what blocks a slot, or add slots in berth.yaml.`,
    { pool: pool.name, holders, blocked },
  );
}

/**
 * Slots used and free, who holds each, and for each slot nobody holds what blocks it (a
 * port leased to someone else or held by a process), so a slot that looks free but cannot
 * be reserved says why. Held slots show the ports their leases hold; a held slot that
 * berth.yaml no longer defines that way (`slots:` lowered, base ports moved) says so in
 * `changed`, and counts as used but never as free.
 */
export async function poolStatus(ctx: AllocContext, pool: PoolConfig): Promise<PoolStatus> {
  const leases = await ctx.tx.listLeases({ host: ctx.host, pool: pool.name });
  const held = new Map<number, Lease[]>();
  for (const l of leases) if (l.slot !== null) held.set(l.slot, [...(held.get(l.slot) ?? []), l]);
  const total = slotCount(pool);
  const slots = new Set([...(total === null ? [] : Array.from({ length: total }, (_, k) => k)), ...held.keys()]);
  const detail: SlotStatus[] = [];
  for (const k of [...slots].sort((a, b) => a - b)) {
    const configured = slotPorts(pool, k);
    const mine = held.get(k);
    if (mine === undefined) {
      detail.push({ slot: k, ports: configured ?? {}, scope: null, blocked: await slotBlocker(ctx, pool, configured ?? {}), changed: null });
      continue;
    }
    const ports = Object.fromEntries(pool.roles.flatMap((r) => mine.filter((l) => l.name === r).map((l) => [r, l.port] as const)));
    detail.push({ slot: k, ports, scope: mine[0]!.scope, blocked: null, changed: slotChange(pool, k, configured, ports) });
  }
  const fallback = [...new Set(leases.filter((l) => l.slot === null).map((l) => l.scope))].map((scope) => ({
    scope,
    ports: Object.fromEntries(leases.filter((l) => l.slot === null && l.scope === scope).map((l) => [l.name, l.port])),
  }));
  const inPool = detail.filter((s) => total === null || s.slot < total);
  return {
    name: pool.name,
    kind: pool.kind,
    roles: pool.roles,
    slots: total,
    used: held.size,
    free: total === null ? null : inPool.filter((s) => s.scope === null && s.blocked === null).length,
    blocked: inPool.filter((s) => s.blocked !== null).length,
    detail,
    fallback,
  };
}

/** How a held slot differs from berth.yaml's definition of slot k, in words; null when it does not. */
export function slotChange(pool: PoolConfig, k: number, configured: Readonly<Record<string, number>> | null, held: Readonly<Record<string, number>>): string | null {
  if (configured === null) return `slot ${k} is beyond the ${slotCount(pool)} slot(s) berth.yaml now defines`;
  const moved = pool.roles.filter((r) => held[r] !== undefined && held[r] !== configured[r]).map((r) => `${r} holds ${held[r]}, berth.yaml now says ${configured[r]}`);
  return moved.length === 0 ? null : moved.join('; ');
}

/**
 * Every port that belongs to a pool, and its pool: each slot of a bounded pool (a slot
 * is reserved whole, so its ports are never handed out alone), and the held slots of an
 * open-ended one (which has no last slot to set aside). Later pools do not take a port an
 * earlier one claims.
 */
export async function poolPortIndex(tx: StoreTx, host: string, pools: readonly PoolConfig[]): Promise<Map<number, string>> {
  const index = new Map<number, string>();
  for (const pool of pools) {
    const count = slotCount(pool);
    const slots = count === null ? (await tx.poolSlots(host, pool.name)).map((h) => h.slot) : Array.from({ length: count }, (_, k) => k);
    for (const k of slots) {
      for (const port of Object.values(slotPorts(pool, k) ?? {})) if (!index.has(port)) index.set(port, pool.name);
    }
  }
  return index;
}
