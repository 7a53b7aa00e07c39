/**
 * The allocator: walks a plan inside one store transaction and claims the first port that
 * no lease holds, no exclusion forbids and the OS says is free. Because it runs inside a
 * write transaction and the store enforces uniqueness, two processes never win one port.
 */
import { ConflictError, ExhaustedError, RefusedError } from '../errors.js';
import type { Lease, NewLease, PortRange, Protocol } from '../types.js';
import type { GuessBasis, Store, StoreTx, WriteIntent } from '../store/store.js';
import type { Machine } from '../os/machine.js';
import type { Exclusions, Unavailable } from './availability.js';
import { describePlan, type Plan } from './strategy.js';
import type { AllocatedLease } from '../engine/index.js';
import { describeHolder } from '../wiring/describe.js';

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

/** Why `port` cannot be claimed now, or null when it can (`ownPool`: see Exclusions.reason). */
export async function unavailableReason(ctx: AllocContext, port: number, protocol: Protocol, explicitRange: boolean, ownPool: string | null = null): Promise<Unavailable | null> {
  if (await ctx.tx.leaseAt(ctx.host, protocol, port)) return 'leased';
  const excluded = ctx.exclusions.reason(port, explicitRange, ownPool);
  if (excluded) return excluded;
  return (await ctx.machine.isPortFree(port, protocol)) ? null : 'in-use';
}

/** Where a segment walk should start next time: the store's scan hint for `start`. */
interface HintUpdate {
  readonly start: number;
  readonly next: number;
  /** The hint read before the walk (no write when unchanged). */
  readonly stored: number;
}

/**
 * A port found before the write lock (`guessPort`, in a read transaction: the bind probe
 * and the walk need no lock), to be confirmed inside the write transaction by one lookup.
 * Another berth may have leased it meanwhile; then the write transaction walks again. A
 * stranger binding it meanwhile is the same race as binding it right after the commit.
 */
export interface Guess {
  readonly port: number;
  readonly hints: readonly HintUpdate[];
  /** Why the plan's preferred port was not given, when it was not. */
  readonly notPreferred?: string;
  /** Ports to claim instead, in order, if `port` is leased by the time of the claim (see alternatesAfter). */
  readonly alternates?: readonly { readonly port: number; readonly hints: readonly HintUpdate[] }[];
}

/**
 * Finds the port `claim` would take, without the write lock: for the fixed strategy the
 * named port (ConflictError/RefusedError as claim would throw), else the first claimable
 * port of the plan that is not in `skip` (ports guessed for earlier names of the same
 * request). Null when the plan has no free port: claim then says why, under the lock.
 */
export async function guessPort(ctx: AllocContext, name: string, plan: Plan, force: boolean, skip: ReadonlySet<number>, alternates = 0): Promise<Guess | null> {
  if (plan.segments.length === 0) {
    const port = await fixedPort(ctx, name, plan, force);
    return skip.has(port) ? null : { port, hints: [] };
  }
  const walked = await walkPlan(ctx, plan, skip);
  if (walked.port === null) return null;
  // Only a port found by a segment's walk (it moved a hint) has a next one in line.
  if (alternates === 0 || walked.hints.length === 0) return { port: walked.port, hints: walked.hints };
  return { port: walked.port, hints: walked.hints, alternates: await alternatesAfter(ctx, plan, walked.port, walked.hints, skip, alternates) };
}

/**
 * Up to `count` ports after `port` in the segment its walk found it in, that no exclusion
 * forbids and the OS says are free, each with the hints claiming it leaves; leases are not
 * asked, as the one-step claim (Store.claimNew) takes the first of them no lease holds when
 * `port` was taken meanwhile. Writers of one machine that read the same scan hint at once
 * all guess the same port; with these, each takes the next one instead of failing. At most
 * 4 x `count` ports are probed.
 */
async function alternatesAfter(ctx: AllocContext, plan: Plan, port: number, hints: readonly HintUpdate[], skip: ReadonlySet<number>, count: number): Promise<{ port: number; hints: HintUpdate[] }[]> {
  const last = hints[hints.length - 1]!;
  const segment = plan.segments.find((s) => s.start === last.start)!;
  const found: { port: number; hints: HintUpdate[] }[] = [];
  let probed = 0;
  for (const next of candidatePorts(ctx.exclusions, plan.explicitRange, port + 1, segment.end)) {
    if (found.length === count || probed === 4 * count) break;
    if (skip.has(next) || ctx.exclusions.reason(next, plan.explicitRange) !== null) continue;
    probed++;
    if (await ctx.machine.isPortFree(next, plan.protocol)) found.push({ port: next, hints: [...hints.slice(0, -1), { ...last, next: next + 1 }] });
  }
  return found;
}

/**
 * Guesses for every new name of one all-or-none allocation, preferred ports first: each
 * name whose preferred port is free gets it, and only then do the others walk, around
 * every port another name of the same request prefers. So api falling back from a taken
 * 8000 never pushes mcp off its own 8001.
 */
export async function guessAll(ctx: AllocContext, plans: readonly { readonly name: string; readonly plan: Plan }[], force: boolean, alternates = 0): Promise<Map<string, Guess>> {
  const found = new Map<string, Guess>();
  const skip = new Set<number>();
  const why = new Map<string, string>();
  const preferred = plans.filter(({ plan }) => plan.strategy === 'preferred' && plan.first !== null);
  for (const { name, plan } of preferred) {
    const port = plan.first!;
    const reason = skip.has(port) ? 'leased' : await unavailableReason(ctx, port, plan.protocol, plan.explicitRange);
    if (reason !== null) {
      why.set(name, await describeUnavailable(ctx, port, plan.protocol, reason));
      continue;
    }
    skip.add(port);
    found.set(name, { port, hints: [] });
  }
  const wanted = new Set(preferred.map(({ plan }) => plan.first!));
  for (const { name, plan } of plans) {
    if (found.has(name)) continue;
    // Alternates for one name only: several names' would overlap.
    const guess = await guessPort(ctx, name, plan, force, new Set([...skip, ...wanted]), plans.length === 1 ? alternates : 0);
    if (guess === null) continue;
    skip.add(guess.port);
    found.set(name, why.has(name) ? { ...guess, notPreferred: why.get(name)! } : guess);
  }
  return found;
}

/**
 * The reads a walk of `plan` begins with (the preferred or fixed port's lease, the first
 * segment's scan hint), for a read phase to ask for beside its others: a store that talks
 * to a server sends them in one round trip, and answers them again from its snapshot.
 */
export function firstReads(tx: StoreTx, host: string, plan: Plan): Promise<unknown>[] {
  const segment = plan.segments[0];
  return [...(plan.first !== null ? [tx.leaseAt(host, plan.protocol, plan.first)] : []), ...(segment ? [tx.getScanHint(host, plan.protocol, segment.start)] : [])];
}

/** Who or what keeps `port` from being handed out, in words (asked outside the write lock; `berth pools` asks too). */
export async function describeUnavailable(ctx: AllocContext, port: number, protocol: Protocol, reason: Unavailable): Promise<string> {
  switch (reason) {
    case 'leased': {
      const holder = await ctx.tx.leaseAt(ctx.host, protocol, port);
      return holder ? `leased to ${holder.scope}/${holder.name}` : 'asked for by another name of this allocation';
    }
    case 'in-use': {
      const holders = await ctx.machine.listeners({ port, protocol });
      return holders.length > 0 ? `in use by ${holders.map(describeHolder).join(', ')}` : 'in use by another process';
    }
    case 'pool':
      return `a port of pool ${ctx.exclusions.poolOf(port)}`;
    case 'reserved':
      return 'reserved in berth.yaml';
    case 'ephemeral':
      return "in the kernel's ephemeral range";
    case 'browser-unsafe':
      return 'a port browsers refuse';
  }
}

/**
 * Claims a port for `name` following `plan`, inside the write transaction; throws when the
 * plan has no free port. With a `guess` still unleased, that port is taken without probing
 * again; otherwise the plan is walked here.
 */
export async function claim(ctx: AllocContext, name: string, plan: Plan, owner: Owner, force = false, guess: Guess | null = null): Promise<AllocatedLease> {
  let found: Walked;
  if (guess !== null && (await ctx.tx.leaseAt(ctx.host, plan.protocol, guess.port)) === null) found = guess;
  else if (plan.segments.length === 0) found = { port: await fixedPort(ctx, name, plan, force), hints: [] };
  else found = await walkPlan(ctx, plan, new Set());
  await saveHints(ctx, plan, found.hints);
  if (found.port === null) throw await exhausted(ctx, name, plan);
  const lease = await ctx.tx.insertLease(newLease(ctx, name, plan, owner, found.port));
  return found === guess ? asGuessed(lease, plan, guess) : lease;
}

/** The lease `claim` inserts for `name` on `port`. */
function newLease(where: { readonly host: string; readonly scope: string }, name: string, plan: Plan, owner: Owner, port: number): NewLease {
  return { host: where.host, scope: where.scope, name, port, protocol: plan.protocol, purpose: plan.purpose, pool: null, slot: null, strategy: plan.strategy, ephemeral: owner.ephemeral, pid: owner.pid };
}

/** A lease claimed on its guess, saying why it is not the plan's preferred port when it is not. */
function asGuessed(lease: Lease, plan: Plan, guess: Guess): AllocatedLease {
  const { notPreferred } = guess;
  return notPreferred !== undefined && plan.first !== null && lease.port !== plan.first ? { ...lease, preferred: plan.first, notPreferred } : lease;
}

/**
 * Every name's guess claimed in one step (Store.claimNew), where the store offers it:
 * what `claim` would give for each when each guess is still unleased. Null, with nothing
 * written, when the store has no such step or a name, port or the scope's directory
 * stands in the way: the caller then claims in its general transaction.
 */
export async function claimGuessed(
  store: Store,
  where: { readonly host: string; readonly scope: string; readonly directory: string | null },
  plans: readonly { readonly name: string; readonly plan: Plan }[],
  guesses: ReadonlyMap<string, Guess>,
  owner: Owner,
  intent: WriteIntent,
  basis?: GuessBasis,
): Promise<AllocatedLease[] | null> {
  if (store.claimNew === undefined || !plans.every(({ name }) => guesses.has(name))) return null;
  const moved = (hints: readonly HintUpdate[]) => hints.filter((h) => h.next !== h.stored).map(({ start, next }) => ({ start, next }));
  const claims = plans.map(({ name, plan }) => {
    const guess = guesses.get(name)!;
    const alternates = guess.alternates?.map((a) => ({ port: a.port, hints: moved(a.hints) }));
    return { lease: newLease(where, name, plan, owner, guess.port), hints: moved(guess.hints), ...(alternates ? { alternates } : {}) };
  });
  const leases = await store.claimNew({ host: where.host, name: where.scope, directory: where.directory }, claims, intent, basis);
  return leases === null ? null : leases.map((lease, i) => asGuessed(lease, plans[i]!.plan, guesses.get(plans[i]!.name)!));
}

async function saveHints(ctx: AllocContext, plan: Plan, hints: readonly HintUpdate[]): Promise<void> {
  for (const h of hints) if (h.next !== h.stored) await ctx.tx.setScanHint(ctx.host, plan.protocol, h.start, h.next);
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
  const pool = ctx.exclusions.poolOf(port);
  if (pool !== null) {
    throw new RefusedError(`port ${port} for ${forWhom} belongs to pool ${pool}: its slots are reserved whole (berth reserve --pool ${pool}). Choose another port, or pass --force to use it anyway.`, { port, pool });
  }
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
 * what is asked now. A different fixed port asked for now is a conflict (move it with
 * reassign); one berth.yaml fixes (`configFixed`) gives the moved lease, with `configPort`. An
 * ephemeral lease whose owner died passes to the new owner (or becomes sticky); one whose
 * owner is alive cannot be claimed by another pid.
 */
export async function reuse(ctx: AllocContext, existing: Lease, plan: Plan, owner: Owner, configFixed = false): Promise<AllocatedLease> {
  if (plan.strategy === 'fixed' && plan.first !== existing.port && configFixed && existing.pool === null) {
    // Moved on purpose (reassign, check --fix) away from berth.yaml's port: the moved lease
    // is the service's port now; the caller says so and `check` reports the drift.
    const owned = await takeOver(ctx, existing, owner);
    return { ...owned, configPort: plan.first! };
  }
  if (plan.strategy === 'fixed' && plan.first !== existing.port) {
    throw new ConflictError(
      `${ctx.scope}/${existing.name} already holds port ${existing.port}, not ${plan.first}. Move it with \`berth reassign ${existing.name} ${plan.first}\`, or release it first.`,
      { port: existing.port, wanted: plan.first },
    );
  }
  const owned = await takeOver(ctx, existing, owner);
  // A purpose said now (--purpose, or berth.yaml changed since) is the lease's purpose now.
  if (plan.purpose !== null && plan.purpose !== owned.purpose) return ctx.tx.updateLease(ctx.host, ctx.scope, owned.name, { purpose: plan.purpose });
  return owned;
}

/**
 * An existing lease asked for again by `owner`: the same lease when the owner is the same,
 * or the lease is sticky, or a sticky get reads a lease whose ephemeral owner lives; a
 * live owner's lease refused to another ephemeral owner (ConflictError); a dead owner's
 * lease passed to the new owner (or made sticky). Leases and pool roles alike.
 */
export async function takeOver(ctx: AllocContext, existing: Lease, owner: Owner): Promise<Lease> {
  const who = `${ctx.scope}/${existing.name}`;
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

/** A walk's outcome: the port (null when none is free) and the scan hints it moved. */
interface Walked {
  readonly port: number | null;
  readonly hints: readonly HintUpdate[];
}

/**
 * The preferred port first, then each segment: the first claimable port not in `skip`,
 * with the scan hints the walk moved (the caller saves them in a write transaction; a
 * walk that finds nothing moves each hint past its segment's end).
 */
async function walkPlan(ctx: AllocContext, plan: Plan, skip: ReadonlySet<number>): Promise<Walked> {
  const hints: HintUpdate[] = [];
  if (plan.first !== null && !skip.has(plan.first) && (await unavailableReason(ctx, plan.first, plan.protocol, plan.explicitRange)) === null) {
    return { port: plan.first, hints };
  }
  for (const segment of plan.segments) {
    const { port, hint } = await walkSegment(ctx, plan, segment, skip);
    hints.push(hint);
    if (port !== null) return { port, hints };
  }
  return { port: null, hints };
}

/**
 * The first claimable port of `plan` other than those in `skip`, walked from each segment's
 * start (not the scan hints: a move looks for the next port after the lease's own), or
 * throws ExhaustedError naming the band.
 */
export async function nextFreePort(ctx: AllocContext, name: string, plan: Plan, skip: ReadonlySet<number>): Promise<number> {
  for (const segment of plan.segments) {
    const port = await scan(ctx, plan, segment.start, segment.end, skip);
    if (port !== null) return port;
  }
  throw await exhausted(ctx, name, plan);
}

/**
 * Walks one segment upward from its scan hint: where the last walk from this start
 * stopped. Ports below the hint were leased or unclaimable when last seen; releases lower
 * the hint (the store does that), so freed ports are reused first. Only when nothing is
 * free above the hint is the part below it walked again, so a range filled with 50,000
 * leases costs the same per allocation as an empty one, and a port is never missed.
 */
async function walkSegment(ctx: AllocContext, plan: Plan, segment: PortRange, skip: ReadonlySet<number>): Promise<{ port: number | null; hint: HintUpdate }> {
  const stored = (await ctx.tx.getScanHint(ctx.host, plan.protocol, segment.start)) ?? segment.start;
  const from = Math.min(Math.max(stored, segment.start), segment.end + 1);
  const port = (await scan(ctx, plan, from, segment.end, skip)) ?? (from > segment.start ? await scan(ctx, plan, segment.start, from - 1, skip) : null);
  return { port, hint: { start: segment.start, next: port === null ? segment.end + 1 : port + 1, stored } };
}

/** The first claimable port in [from, to] not in `skip`. */
async function scan(ctx: AllocContext, plan: Plan, from: number, to: number, skip: ReadonlySet<number>): Promise<number | null> {
  for (const port of candidatePorts(ctx.exclusions, plan.explicitRange, from, to)) {
    if (skip.has(port)) continue;
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
