/**
 * The allocator: walks a plan inside one store transaction and claims the first port that
 * no lease holds, no exclusion forbids and the OS says is free. Because it runs inside a
 * write transaction and the store enforces uniqueness, two processes never win one port.
 */
import { ConflictError, ExhaustedError, RefusedError } from '../errors.js';
import type { Lease, PortRange, Protocol } from '../types.js';
import type { StoreTx } from '../store/store.js';
import type { Machine } from '../os/machine.js';
import type { Exclusions, Unavailable } from './availability.js';
import { describePlan, type Plan } from './strategy.js';

/** Everything one allocation transaction needs. */
export interface AllocContext {
  readonly tx: StoreTx;
  readonly host: string;
  readonly scope: string;
  readonly machine: Machine;
  readonly exclusions: Exclusions;
}

/** Who owns a new lease. */
export interface Owner {
  readonly ephemeral: boolean;
  readonly pid: number | null;
}

/** Why `port` cannot be claimed now, or null when it can. */
export async function unavailableReason(ctx: AllocContext, port: number, protocol: Protocol, explicitRange: boolean): Promise<Unavailable | null> {
  if (await ctx.tx.leaseAt(ctx.host, protocol, port)) return 'leased';
  const excluded = ctx.exclusions.reason(port, explicitRange);
  if (excluded) return excluded;
  return (await ctx.machine.isPortFree(port, protocol)) ? null : 'in-use';
}

/** Claims a port for `name` following `plan`; throws when the plan has no free port. */
export async function claim(ctx: AllocContext, name: string, plan: Plan, owner: Owner, force = false): Promise<Lease> {
  const port = plan.segments.length === 0 ? await fixedPort(ctx, name, plan, force) : await walkPlan(ctx, plan);
  if (port === null) throw await exhausted(ctx, name, plan);
  return ctx.tx.insertLease({
    host: ctx.host,
    scope: ctx.scope,
    name,
    port,
    protocol: plan.protocol,
    purpose: plan.purpose,
    pool: null,
    slot: null,
    ephemeral: owner.ephemeral,
    pid: owner.pid,
  });
}

async function fixedPort(ctx: AllocContext, name: string, plan: Plan, force: boolean): Promise<number> {
  const port = plan.first!;
  const holder = await ctx.tx.leaseAt(ctx.host, plan.protocol, port);
  if (holder) {
    throw new ConflictError(
      `port ${port} for ${ctx.scope}/${name} is already leased to ${holder.scope}/${holder.name}. ` +
        `Release that lease (berth release ${holder.name} --scope ${holder.scope}) or choose another port.`,
      { port, holder: `${holder.scope}/${holder.name}` },
    );
  }
  await checkNamedPort(ctx, port, plan.protocol, force, `${ctx.scope}/${name}`);
  return port;
}

/**
 * A port the person named (a fixed port, a reassign target) that no lease holds: refused
 * when berth.yaml reserves it or a process holds it, unless `force`. Browser-unsafe and
 * ephemeral-range ports are allowed: naming a port is a deliberate choice.
 */
export async function checkNamedPort(ctx: AllocContext, port: number, protocol: Protocol, force: boolean, forWhom: string): Promise<void> {
  if (force) return;
  if (ctx.exclusions.isReserved(port)) {
    throw new RefusedError(`port ${port} for ${forWhom} is reserved in berth.yaml (reserved:). Choose another port, or pass --force to use it anyway.`, { port });
  }
  if (!(await ctx.machine.isPortFree(port, protocol))) {
    throw new RefusedError(
      `port ${port} for ${forWhom} is in use by another process. See who holds it with \`berth who ${port}\`, ` +
        'stop it, or pass --force to lease the port anyway.',
      { port },
    );
  }
}

/**
 * The "get" half of get-or-allocate: the scope's existing lease for `name`, checked against
 * what is asked now. A different fixed port is a conflict (move it with reassign). An
 * ephemeral lease whose owner died passes to the new owner (or becomes sticky); one whose
 * owner is alive cannot be claimed by another pid.
 */
export async function reuse(ctx: AllocContext, existing: Lease, plan: Plan, owner: Owner): Promise<Lease> {
  const who = `${ctx.scope}/${existing.name}`;
  if (plan.strategy === 'fixed' && plan.first !== existing.port) {
    throw new ConflictError(
      `${who} already holds port ${existing.port}, not ${plan.first}. Move it with \`berth reassign ${existing.name} ${plan.first}\`, or release it first.`,
      { port: existing.port, wanted: plan.first },
    );
  }
  if (!existing.ephemeral || existing.pid === owner.pid) return existing;
  const ownerAlive = existing.pid !== null && ctx.machine.isAlive(existing.pid);
  if (ownerAlive) {
    if (!owner.ephemeral) return existing; // a sticky get reads the lease; its live owner keeps it
    throw new ConflictError(
      `${who} (port ${existing.port}) belongs to pid ${existing.pid}, which is still running. Use another name, or wait until it exits.`,
      { port: existing.port, pid: existing.pid },
    );
  }
  return ctx.tx.updateLease(ctx.host, ctx.scope, existing.name, { ephemeral: owner.ephemeral, pid: owner.pid });
}

/** The preferred port first, then each segment; returns the first claimable port. */
async function walkPlan(ctx: AllocContext, plan: Plan): Promise<number | null> {
  if (plan.first !== null && (await unavailableReason(ctx, plan.first, plan.protocol, plan.explicitRange)) === null) return plan.first;
  for (const segment of plan.segments) {
    const port = await walkSegment(ctx, plan, segment);
    if (port !== null) return port;
  }
  return null;
}

/**
 * Walks one segment upward from its scan hint: where the last walk from this start
 * stopped. Ports below the hint were leased or unclaimable when last seen; releases lower
 * the hint (the store does that), so freed ports are reused first. Only when nothing is
 * free above the hint is the part below it walked again, so a range filled with 50,000
 * leases costs the same per allocation as an empty one, and a port is never missed.
 */
async function walkSegment(ctx: AllocContext, plan: Plan, segment: PortRange): Promise<number | null> {
  const stored = (await ctx.tx.getScanHint(ctx.host, plan.protocol, segment.start)) ?? segment.start;
  const hint = Math.min(Math.max(stored, segment.start), segment.end + 1);
  const found = (await scan(ctx, plan, hint, segment.end)) ?? (hint > segment.start ? await scan(ctx, plan, segment.start, hint - 1) : null);
  const next = found === null ? segment.end + 1 : found + 1;
  if (next !== stored) await ctx.tx.setScanHint(ctx.host, plan.protocol, segment.start, next);
  return found;
}

/** The first claimable port in [from, to]. */
async function scan(ctx: AllocContext, plan: Plan, from: number, to: number): Promise<number | null> {
  for (const port of candidatePorts(ctx.exclusions, plan.explicitRange, from, to)) {
    if ((await unavailableReason(ctx, port, plan.protocol, plan.explicitRange)) === null) return port;
  }
  return null;
}

/**
 * The ports of [from, to] worth asking about, in order: every port but the excluded blocks
 * (the kernel's ephemeral range unless the range was named), which are jumped over whole.
 * Callers ask unavailableReason about each, as allocation and `berth free` both do.
 */
export function* candidatePorts(exclusions: Exclusions, explicitRange: boolean, from: number, to: number): Generator<number> {
  for (let port = from; port <= to; port++) {
    const skipTo = exclusions.skipFrom(port, explicitRange);
    if (skipTo !== null) port = skipTo - 1;
    else yield port;
  }
}

/** The exhausted error, with counts that say why the band is full and what to do. */
async function exhausted(ctx: AllocContext, name: string, plan: Plan): Promise<ExhaustedError> {
  const band = describePlan(plan);
  let leased = 0;
  const range = plan.range;
  if (range) {
    const leases = await ctx.tx.listLeases({ host: ctx.host, protocol: plan.protocol });
    leased = leases.filter((l) => l.port >= range.start && l.port <= range.end).length;
  }
  return new ExhaustedError(
    `no free ${plan.protocol} port in ${band} for ${ctx.scope}/${name} (${leased} leased, the rest reserved, excluded or in use). ` +
      'Widen the range (--range A-B, or ranges: in berth.yaml), or release leases you no longer need (berth list, berth release, berth gc).',
    { range: band, leased },
  );
}
