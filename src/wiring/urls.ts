/**
 * URLs: pool URL templates (`http://localhost:${admin}/callback`) expanded per slot, for
 * OAuth callback lists, and the base URLs of a scope's HTTP services.
 */
import type { Lease, PoolUrl, ScopeUrl } from '../types.js';
import { configOrder } from './order.js';
import { UsageError } from '../errors.js';
import type { PoolConfig, ServiceConfig } from '../types.js';
import { slotCount, slotPorts } from './pool-slots.js';
import { DEFAULT_URL_HOST, httpUrl, leaseSpeaksHttp, serviceFor, urlScheme } from './http.js';

const PLACEHOLDER = /\$\{([^}]*)\}/g;

/**
 * Replaces every `${role}` in a template with that role's port. Spaces inside the braces
 * are ignored; text outside placeholders is kept as written.
 *
 * @throws UsageError naming the role (and the known ones) when a placeholder names a role
 *   not in `rolePorts`.
 */
export function expandUrlTemplate(template: string, rolePorts: Readonly<Record<string, number>>): string {
  return template.replace(PLACEHOLDER, (_, inner: string) => {
    const role = inner.trim();
    const port = Object.hasOwn(rolePorts, role) ? rolePorts[role] : undefined;
    if (port === undefined) {
      const known = Object.keys(rolePorts).join(', ') || 'none';
      throw new UsageError(`URL template "${template}" names unknown role "${role}" (roles: ${known})`, { template, role });
    }
    return String(port);
  });
}

/**
 * Every URL of a pool: for each slot in the given order, each of `pool.urls` in
 * declaration order, expanded with that slot's role ports. `slots` come from the pool
 * logic (one role→port record per slot); this function does no port arithmetic.
 *
 * @throws UsageError when a template names a role the slot does not have.
 */
export function poolUrls(pool: PoolConfig, slots: ReadonlyArray<Readonly<Record<string, number>>>): string[] {
  return slots.flatMap((rolePorts) => pool.urls.map((t) => expandUrlTemplate(t, rolePorts)));
}


/**
 * The URLs of one scope's leases, in berth.yaml order (see configOrder):
 * - `http://HOST:PORT` for each non-pool lease that speaks HTTP (the same rule as the
 *   `<NAME>_URL` variables: `http:` in config, else guessed from the name);
 * - for each pool slot the scope holds, that pool's `urls:` templates expanded with the
 *   slot's leased role ports, at the place of the slot's first lease.
 *
 * Leases of a pool missing from `pools` give no URL. Host defaults to `localhost`.
 *
 * @throws UsageError when a pool template names a role the scope holds no lease for.
 */
export function scopeUrls(
  leases: readonly Lease[],
  services: readonly ServiceConfig[],
  pools: readonly PoolConfig[],
  opts: { readonly host?: string } = {},
): ScopeUrl[] {
  const host = opts.host ?? DEFAULT_URL_HOST;
  const urls: ScopeUrl[] = [];
  const slotsDone = new Set<string>();
  for (const lease of configOrder(leases, services, pools)) {
    if (lease.pool === null) {
      const service = serviceFor(lease, services);
      if (leaseSpeaksHttp(lease, service)) {
        urls.push({ name: lease.name, url: httpUrl(host, lease.port, urlScheme(lease.name, service)), pool: null, slot: null });
      }
      continue;
    }
    const pool = pools.find((p) => p.name === lease.pool);
    const slotKey = `${lease.pool}\u0000${lease.slot ?? ''}`;
    if (pool === undefined || slotsDone.has(slotKey)) continue;
    slotsDone.add(slotKey);
    const rolePorts = Object.fromEntries(
      leases.filter((l) => l.pool === lease.pool && l.slot === lease.slot).map((l) => [l.name, l.port]),
    );
    for (const template of pool.urls) {
      urls.push({ name: pool.name, url: expandUrlTemplate(template, rolePorts), pool: pool.name, slot: lease.slot });
    }
  }
  return urls;
}


/**
 * The URLs a pool's `urls:` templates produce, slot by slot in slot order (within a slot,
 * in template order), from the ports the pool defines for each slot:
 * - a bounded pool (`slots: N`, or `sets:`): every slot, held or free, so the whole list
 *   can be registered once (e.g. as OAuth callback URLs) before any slot is used;
 * - an open-ended pool: only the slots some scope holds, since it has no last slot.
 *
 * `holders` maps slot → scope for the held slots.
 */
export function listPoolUrls(pool: PoolConfig, holders: ReadonlyMap<number, string>): PoolUrl[] {
  const count = slotCount(pool);
  const slots = count === null ? [...holders.keys()].sort((a, b) => a - b) : Array.from({ length: count }, (_, k) => k);
  const out: PoolUrl[] = [];
  for (const slot of slots) {
    const ports = slotPorts(pool, slot);
    if (ports === null) continue;
    for (const url of poolUrls(pool, [ports])) out.push({ pool: pool.name, slot, url, heldBy: holders.get(slot) ?? null });
  }
  return out;
}
