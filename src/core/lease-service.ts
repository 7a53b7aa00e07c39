/**
 * Leases: get-or-allocate, get, release, list, reassign, and the ephemeral hand-over that
 * `berth run` uses. Plans are made before the write transaction; the transaction only
 * re-checks and claims (allocate.ts).
 */
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import type { AllocateOptions, AllocationRequest, LeasesApi, ListFilter, ProjectInfo, ReassignOptions, ScopeContext } from '../engine/index.js';
import type { GuessBasis, StoreTx } from '../store/store.js';
import type { Lease } from '../types.js';
import { checkNamedPort, claim, claimGuessed, firstReads, guessAll, nextFreePort, reuse, type Guess } from './allocate.js';
import type { Exclusions } from './availability.js';
import type { EngineCore } from './shared.js';
import { checkScopeName } from './scope.js';
import { didYouMean } from './suggest.js';
import { movePlan, planFor, type Plan } from './strategy.js';
import { checkName, checkNames, checkPid, checkPort, checkRequest } from './validate.js';

/** One-step claims (Store.claimNew) an allocation tries, each after a fresh read, before its general transaction. */
const QUICK_CLAIM_ATTEMPTS = 3;
/**
 * Ports a retry offers the claim beside its guess (allocate.ts, alternatesAfter): a claim
 * lost to another writer of the machine most often lost to one that read the same hint.
 */
const QUICK_CLAIM_ALTERNATES = 8;
/** The most alternates a guess brings, however many writers of the machine race (see LeaseService.reach). */
const MAX_ALTERNATES = 64;
/** Clean one-step claims in a row after which an engine stops sending alternates (see LeaseService.calm). */
const CALM_AFTER = 16;

/** An allocation's read: what keeps ports out, each new name's guess, and what the guess stood on (Store.guess). */
interface Guessed {
  readonly exclusions: Exclusions;
  readonly guesses: Map<string, Guess>;
  readonly basis?: GuessBasis;
}

/** The lease operations of the LocalEngine. */
export class LeaseService implements LeasesApi {
  /**
   * One-step claims of this engine in a row that took their guessed port at once. Below
   * CALM_AFTER, writers of this machine are likely racing still, and a guess brings its
   * alternates at once (a bind probe each, no round trip); a lone writer stops paying for
   * them once it has been calm that long. (Turning them off after each clean claim, as
   * before, made 8 racing writers of one machine lose every other guess, and try again.)
   */
  private calm = CALM_AFTER;
  /**
   * How many alternates a contended guess brings: about twice as many as the last claim
   * needed (the writers that took the ports before its own), doubled when none was left,
   * between QUICK_CLAIM_ALTERNATES and MAX_ALTERNATES. Many writers of one machine reading
   * the same scan hint at once need as many ports after it; too few, and each loser
   * pays a round trip and fresh reads to try again.
   */
  private reach = QUICK_CLAIM_ALTERNATES;

  constructor(private readonly core: EngineCore) {}

  async allocate(ctx: ScopeContext, requests?: readonly unknown[], opts: AllocateOptions = {}): Promise<Lease[]> {
    const project = await this.core.resolve(ctx);
    const { config } = project;
    if (requests !== undefined && !Array.isArray(requests)) throw new UsageError('invalid requests: expected a list of {name, ...} objects.');
    const reqs = requests && requests.length > 0 ? requests.map(checkRequest) : config.services.map((s) => ({ name: s.name }));
    if (reqs.length === 0) {
      throw new UsageError('nothing to allocate: name the services (berth allocate web api), or list them under services: in berth.yaml.');
    }
    const seen = new Set<string>();
    const services = new Map(config.services.map((s) => [s.name, s]));
    const plans = reqs.map((req) => {
      if (seen.has(req.name)) throw new UsageError(`'${req.name}' is named twice.`);
      seen.add(req.name);
      const svc = services.get(req.name) ?? null;
      return { name: req.name, plan: planFor(req, svc, config, project.scope), configFixed: (req as AllocationRequest).port === undefined && svc?.port != null };
    });
    const owner = this.core.owner(opts);
    const force = opts.force === true;
    let { exclusions, guesses, basis } = await this.guessFor(project, plans, force, this.calm < CALM_AFTER ? this.reach : 0);
    // Every name new and guessed: one step where the store offers it (a round trip to a
    // shared registry, not one per statement). A step that wrote nothing (most often:
    // another writer of this machine took a guessed port since the read) is tried again
    // from a fresh read, with the ports after the guess to take instead, a few times,
    // before the general transaction below re-checks, walks again or says why while every
    // other writer of the machine waits for it.
    const intent = this.core.intent(ctx, 'allocate');
    const where = { host: this.core.host, scope: project.scope, directory: project.directory };
    for (let attempt = 1; this.core.store.claimNew !== undefined && plans.every((p) => guesses.has(p.name)); attempt++) {
      const quick = await claimGuessed(this.core.store, where, plans, guesses, owner, intent, basis);
      const taken = guesses;
      const contended = quick === null || attempt > 1 || quick.some((l) => l.port !== taken.get(l.name)?.port);
      this.calm = contended ? 0 : this.calm + 1;
      this.reach = nextReach(this.reach, quick, taken);
      if (quick !== null) return quick;
      if (attempt === QUICK_CLAIM_ATTEMPTS) break;
      ({ exclusions, guesses, basis } = await this.guessFor(project, plans, force, this.reach));
    }
    // Answers the store remembered rather than read are for its one-step claim, which
    // checks them, alone: the general transaction below stands on a read.
    if (basis?.remembered === true) ({ exclusions, guesses } = await this.guessFor(project, plans, force, 0, 'read'));
    const leases = await this.core.store.transaction(
      'write',
      async (tx) => {
        const mine = await this.core.recordScope(tx, project);
        const actx = this.core.allocContext(tx, mine, exclusions);
        const got: Lease[] = [];
        for (const { name, plan, configFixed } of plans) {
          const existing = await tx.getLease(actx.host, mine.scope, name);
          got.push(existing ? await reuse(actx, existing, plan, owner, configFixed) : await claim(actx, name, plan, owner, force, guesses.get(name) ?? null));
        }
        return got;
      },
      intent,
    );
    return leases;
  }

  /**
   * Walks and probes before the write lock: the lock is then held only to confirm each
   * port is still unleased and to insert, so concurrent writers wait for microseconds of
   * store work, not for bind probes (see Guess). The exclusions are read in the same read
   * transaction: the write re-checks every port it claims anyway. The reads that do not
   * depend on each other are asked for at once: a store that talks to a server sends them
   * in one round trip.
   */
  private guessFor(project: ProjectInfo, plans: readonly { readonly name: string; readonly plan: Plan }[], force: boolean, alternates = 0, how: 'guess' | 'read' = 'guess'): Promise<Guessed> {
    const read = async (tx: StoreTx): Promise<Guessed> => {
      const [exclusions, existing] = await Promise.all([
        this.core.exclusionsIn(tx, project),
        Promise.all(plans.map((p) => tx.getLease(this.core.host, project.scope, p.name))),
        ...plans.flatMap((p) => firstReads(tx, this.core.host, p.plan)),
      ]);
      const missing = plans.filter((_, i) => !existing[i]);
      return { exclusions, guesses: await guessAll(this.core.allocContext(tx, project, exclusions), missing, force, alternates) };
    };
    // Where the store can answer from what it remembers (Store.guess), its claim checks the answers.
    const { store } = this.core;
    return how === 'guess' && store.guess !== undefined ? store.guess(async (tx, basis) => ({ ...(await read(tx)), basis })) : store.transaction('read', read);
  }

  async get(ctx: ScopeContext, name: string): Promise<Lease> {
    return this.core.lease(await this.core.resolve(ctx), name);
  }

  async release(ctx: ScopeContext, names?: readonly string[]): Promise<Lease[]> {
    const project = await this.core.resolve(ctx);
    const wanted = names === undefined ? [] : checkNames(names);
    if (names !== undefined && wanted.length === 0) {
      // An empty list computed by a script must never mean "everything".
      throw new UsageError('no lease names given: name the leases to release, or omit names to release the whole scope.');
    }
    const { scope } = project;
    const host = this.core.host;
    const released = await this.core.store.transaction(
      'write',
      async (tx) => {
        if (wanted.length === 0) {
          const released = await tx.deleteScope(host, scope);
          // A script that releases a scope with nothing in it (a typo, the wrong variable) must hear so.
          if (released.length === 0) throw new NotFoundError(`scope ${scope} holds no leases; nothing was released. See \`berth list\` for the scopes there are.`, { scope });
          return released;
        }
        const named = new Map<string, Lease>();
        const missing: string[] = [];
        for (const name of new Set(wanted)) {
          const lease = await tx.getLease(host, scope, name);
          if (lease) named.set(name, lease);
          else missing.push(name);
        }
        if (missing.length > 0) {
          // `berth release my-workspace` typed as the Conductor script did: a scope, not a lease.
          const elsewhere = await this.core.elsewhere(tx, scope, missing);
          if (elsewhere !== '') throw new NotFoundError(`no lease ${missing.map((n) => `'${n}'`).join(', ')} in scope ${scope} on this machine; nothing was released.${elsewhere}`, { scope, missing });
          const asScope = missing.length === 1 && (await tx.getScope(host, missing[0]!)) !== null
            ? ` Did you mean the scope: \`berth release --scope ${missing[0]}\`?`
            : missing.length === 1 ? didYouMean(missing[0]!, (await tx.listLeases({ host, scope })).map((l) => l.name)) : '';
          throw new NotFoundError(`no lease ${missing.map((n) => `'${n}'`).join(', ')} in scope ${scope}; nothing was released. See \`berth list --scope ${scope}\`.${asScope}`, {
            scope,
            missing,
          });
        }
        // A slot is held all or none: naming one role releases every role of its slot.
        const doomed = new Map(named);
        for (const lease of named.values()) {
          if (lease.pool === null) continue;
          for (const role of await tx.listLeases({ host, scope, pool: lease.pool })) if (role.slot === lease.slot) doomed.set(role.name, role);
        }
        const out: Lease[] = [];
        for (const name of doomed.keys()) out.push((await tx.deleteLease(host, scope, name))!);
        return out;
      },
      this.core.intent(ctx, 'release'),
    );
    return released;
  }

  async list(ctx: ScopeContext, filter: ListFilter = {}): Promise<Lease[]> {
    this.core.check(ctx);
    // `model_a/*`: every scope under model_a/ (a trailing * is a prefix, nothing else is a pattern).
    const prefix = filter.scope?.endsWith('*') ? filter.scope.slice(0, -1) : null;
    if (prefix !== null && prefix !== '') checkScopeName(prefix.replace(/[/:@.-]+$/, '') || prefix);
    const scope = filter.scope === undefined || prefix !== null ? undefined : checkScopeName(filter.scope);
    if (filter.pool !== undefined) await this.core.pool(await this.core.resolve(ctx), filter.pool);
    const leases = await this.core.store.transaction('read', (tx) => tx.listLeases({ host: filter.allMachines === true ? undefined : this.core.host, scope, pool: filter.pool }));
    return prefix === null ? leases : leases.filter((l) => l.scope.startsWith(prefix));
  }

  async reassign(ctx: ScopeContext, name: string, port: number | null, opts: ReassignOptions = {}): Promise<Lease> {
    const project = await this.core.resolve(ctx);
    checkName(name);
    const named = port === null || port === undefined ? null : checkPort(port);
    const exclusions = await this.core.exclusions(project);
    const { scope } = project;
    return this.core.store.transaction(
      'write',
      async (tx) => {
        const actx = this.core.allocContext(tx, project, exclusions);
        const lease = await tx.getLease(actx.host, scope, name);
        if (!lease) {
          const elsewhere = await this.core.elsewhere(tx, scope, [name]);
          throw new NotFoundError(`no lease '${name}' in scope ${scope}${elsewhere === '' ? `. See \`berth list --scope ${scope}\`.` : ` on this machine.${elsewhere}`}`, { scope, name });
        }
        const svc = project.config.services.find((s) => s.name === name) ?? null;
        const plan = named === null && lease.pool === null ? movePlan(name, lease.port, svc, project.config) : null;
        const target = named ?? (plan !== null ? await nextFreePort(actx, name, plan, new Set([lease.port])) : lease.port);
        if (lease.port === target) return lease;
        if (lease.pool !== null) {
          throw new RefusedError(
            `${scope}/${name} is role ${name} of pool ${lease.pool} slot ${lease.slot}, whose ports the pool fixes; it stays on ${lease.port}. Release the slot and reserve another instead.`,
          );
        }
        const holder = await tx.leaseAt(actx.host, lease.protocol, target);
        if (holder) {
          throw new RefusedError(`port ${target} is leased to ${holder.scope}/${holder.name}; ${scope}/${name} stays on ${lease.port}. Release that lease first or pick another port.`);
        }
        await checkNamedPort(actx, target, lease.protocol, opts.force === true, `${scope}/${name} (it stays on ${lease.port})`);
        // The new port's strategy: the person's choice (fixed), or the move plan's walk of the band.
        const strategy = plan?.strategy ?? 'fixed';
        if (opts.dryRun === true) return { ...lease, port: target, strategy };
        return tx.updateLease(actx.host, scope, name, { port: target, strategy });
      },
      this.core.intent(ctx, 'reassign'),
    );
  }

  async handOver(ctx: ScopeContext, names: readonly string[], from: number, to: number): Promise<Lease[]> {
    const project = await this.core.resolve(ctx);
    const list = checkNames(names);
    const previous = checkPid(from, 'from');
    this.core.owner({ ephemeral: true, pid: checkPid(to, 'to') });
    const { host, machine } = this.core;
    return this.core.store.transaction(
      'write',
      async (tx) => {
        const moved: Lease[] = [];
        for (const name of list) {
          const lease = await tx.getLease(host, project.scope, name);
          if (!lease || !lease.ephemeral) continue;
          if (lease.pid !== previous && lease.pid !== null && machine.isAlive(lease.pid)) continue;
          moved.push(await tx.updateLease(host, project.scope, name, { pid: to }));
        }
        return moved;
      },
      this.core.intent(ctx, 'handover'),
    );
  }

  async releaseOwned(ctx: ScopeContext, names: readonly string[], pids: readonly number[]): Promise<Lease[]> {
    const project = await this.core.resolve(ctx);
    const list = checkNames(names);
    if (!Array.isArray(pids)) throw new UsageError('invalid pids: expected a list of pids.');
    const owners = pids.map((p) => checkPid(p));
    const host = this.core.host;
    return this.core.store.transaction(
      'write',
      async (tx) => {
        const released: Lease[] = [];
        for (const name of list) {
          const lease = await tx.getLease(host, project.scope, name);
          if (!lease || !lease.ephemeral || lease.pid === null || !owners.includes(lease.pid)) continue;
          released.push((await tx.deleteLease(host, project.scope, name))!);
        }
        return released;
      },
      this.core.intent(ctx, 'release'),
    );
  }
}

/** LeaseService.reach after a one-step claim: `got` its leases (null: it lost), `guesses` what it offered. */
function nextReach(reach: number, got: readonly Lease[] | null, guesses: ReadonlyMap<string, Guess>): number {
  if (got === null) return Math.min(MAX_ALTERNATES, reach * 2);
  const [lease] = got;
  const offered = got.length === 1 ? guesses.get(lease!.name)?.alternates : undefined;
  if (offered === undefined) return reach;
  // Writers ahead of this one: 0 when it took its guess, i + 1 when it took alternate i.
  const ahead = offered.findIndex((a) => a.port === lease!.port) + 1;
  return Math.min(MAX_ALTERNATES, Math.max(QUICK_CLAIM_ALTERNATES, 2 * ahead));
}
