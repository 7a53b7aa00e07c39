/**
 * Pools: series of slots, each a set of role -> port. A scope reserves one whole slot at a
 * time, all roles or none, inside one store transaction.
 */
import { ConflictError, ExhaustedError } from '../errors.js';
import type { Lease } from '../types.js';
import type { StoreTx } from '../store/store.js';
import { takeOver, unavailableReason, type AllocContext, type Owner } from './allocate.js';
import type { PoolConfig } from '../types.js';
import { slotCount, slotPorts } from '../wiring/pool-slots.js';
import type { PoolStatus, SlotStatus } from '../engine/index.js';

/** The slot `scope` holds in `pool`, as its leases in role order, or [] if none. */
export async function heldSlot(tx: StoreTx, host: string, scope: string, pool: PoolConfig): Promise<Lease[]> {
  const leases = await tx.listLeases({ host, scope, pool: pool.name });
  return pool.roles.map((role) => leases.find((l) => l.name === role)).filter((l): l is Lease => l !== undefined);
}

/**
 * Reserves the first slot of `pool` that no scope holds and whose every port is free.
 * Idempotent: a scope that already holds a slot gets it back.
 */
export async function reserveSlot(ctx: AllocContext, pool: PoolConfig, owner: Owner): Promise<Lease[]> {
  const held = await heldSlot(ctx.tx, ctx.host, ctx.scope, pool);
  if (held.length > 0) {
    // The slot is owned as a whole: every role passes (or is refused) as allocate's leases do.
    const owned: Lease[] = [];
    for (const lease of held) owned.push(await takeOver(ctx, lease, owner));
    return owned.length === pool.roles.length ? owned : completeSlot(ctx, pool, owned, owner);
  }
  for (const role of pool.roles) {
    const clash = await ctx.tx.getLease(ctx.host, ctx.scope, role);
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
    const leases: Lease[] = [];
    for (const role of pool.roles) leases.push(await insertRole(ctx, pool, k, role, ports[role]!, owner));
    return leases;
  }
  throw await poolFull(ctx.tx, ctx.host, pool);
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
    ephemeral: owner.ephemeral,
    pid: owner.pid,
  });
}

async function slotIsFree(ctx: AllocContext, pool: PoolConfig, ports: Record<string, number>): Promise<boolean> {
  for (const role of pool.roles) {
    // A pool's ports are configured by name: the ephemeral range is allowed, as with --range.
    if ((await unavailableReason(ctx, ports[role]!, pool.protocol, true, pool.name)) !== null) return false;
  }
  return true;
}

async function poolFull(tx: StoreTx, host: string, pool: PoolConfig): Promise<ExhaustedError> {
  const holders = await tx.poolSlots(host, pool.name);
  const list = holders.map((h) => `slot ${h.slot}: ${h.scope}`).join(', ');
  const example = holders[0] ? ` (e.g. berth release --scope ${holders[0].scope})` : '';
  return new ExhaustedError(
    `pool ${pool.name} has no free slot${holders.length ? `; held: ${list}` : ''}` +
      `${holders.length < (slotCount(pool) ?? Infinity) ? '; the other slots have ports in use by other leases or processes' : ''}. ` +
      `Free one by releasing its scope${example}, or add slots in berth.yaml.`,
    { pool: pool.name, holders },
  );
}



/** Slots used and free, and which scope holds each. */
export async function poolStatus(tx: StoreTx, host: string, pool: PoolConfig): Promise<PoolStatus> {
  const holders = new Map((await tx.poolSlots(host, pool.name)).map((h) => [h.slot, h.scope]));
  const total = slotCount(pool);
  const shown = total ?? (holders.size ? Math.max(...holders.keys()) + 1 : 0);
  const detail: SlotStatus[] = [];
  for (let k = 0; k < shown; k++) {
    const scope = holders.get(k) ?? null;
    if (total === null && scope === null) continue;
    detail.push({ slot: k, ports: slotPorts(pool, k) ?? {}, scope });
  }
  return {
    name: pool.name,
    kind: pool.kind,
    roles: pool.roles,
    slots: total,
    used: holders.size,
    free: total === null ? null : total - holders.size,
    detail,
  };
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
