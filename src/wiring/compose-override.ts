/**
 * The compose override file: which leased host port each compose service publishes, and
 * the pure matching of leases to compose services that decides it.
 */
import { Document, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { MAX_PORT, type Lease, type Protocol } from '../types.js';
import { UsageError } from '../errors.js';
import type { ServiceConfig } from '../types.js';
import type { ComposePort, ComposeService } from './compose-ports.js';
import { serviceFor } from './http.js';

/** One published port in the override. */
export interface OverridePort {
  /** Host port; null publishes on a port Docker picks (`"80"`). */
  readonly hostPort: number | null;
  readonly containerPort: number;
  readonly protocol: Protocol;
  /** Address to publish on; null or absent for all addresses. */
  readonly hostIp?: string | null;
}

/** A compose service and the complete list of ports it should publish. */
export interface ServicePorts {
  readonly service: string;
  readonly ports: readonly OverridePort[];
}

/** A lease that names a compose service or port that cannot be matched, and why. */
export interface UnmatchedLease {
  readonly lease: Lease;
  readonly reason: string;
}

/** What planComposeOverride decided. */
export interface ComposePlan {
  /** Services that get an override, in file order, each with its whole `ports:` list. */
  readonly mappings: ServicePorts[];
  /**
   * Published ports of the base file that no lease covers, in file order. Lease each
   * under suggestedLeaseName(port, service) (and its protocol) and plan again to cover it.
   */
  readonly unleased: ComposePort[];
  readonly unmatched: UnmatchedLease[];
}

/** First comment of every override berth writes. */
export const OVERRIDE_HEADER = [
  ' Written by berth: host ports leased for this workspace. berth rewrites this file.',
  ' `!override` (docker compose 2.24 or later) replaces the base file\'s ports: list',
  ' instead of adding to it, so the base file\'s host ports are not published as well.',
].join('\n');

/**
 * The override YAML: `services: NAME: ports: !override [...]`, one quoted short-syntax
 * entry per port (`"127.0.0.1:15432:5432/udp"`, `"[::1]:8080:80"`, `"80"`), in the given
 * order. The tag is a real YAML tag on the sequence node, not text.
 *
 * @throws UsageError for an empty service name or a port out of range.
 */
export function renderComposeOverride(mappings: readonly ServicePorts[]): string {
  const services = new YAMLMap<string, YAMLMap<string, YAMLSeq<Scalar<string>>>>();
  for (const { service, ports } of mappings) {
    if (service === '') throw new UsageError('a compose service name is empty');
    const seq = new YAMLSeq<Scalar<string>>();
    seq.tag = '!override';
    for (const p of ports) {
      const item = new Scalar(composePortSpec(p, service));
      item.type = Scalar.QUOTE_DOUBLE;
      seq.items.push(item);
    }
    const body = new YAMLMap<string, YAMLSeq<Scalar<string>>>();
    body.set('ports', seq);
    services.set(service, body);
  }
  const root = new YAMLMap<string, typeof services>();
  root.set('services', services);
  const doc = new Document(root);
  doc.commentBefore = OVERRIDE_HEADER;
  return doc.toString();
}

/** One port in compose short syntax (`"127.0.0.1:15432:5432/udp"`). @throws UsageError for a port out of range. */
export function composePortSpec(p: OverridePort, service: string): string {
  for (const [what, port] of [['host', p.hostPort], ['container', p.containerPort]] as const) {
    if (port !== null && (!Number.isInteger(port) || port < 1 || port > MAX_PORT)) {
      throw new UsageError(`service ${service}: ${what} port ${port} is out of range 1-${MAX_PORT}`);
    }
  }
  const ip = p.hostIp ?? null;
  const address = ip === null ? '' : `${ip.includes(':') ? `[${ip}]` : ip}:`;
  const host = p.hostPort === null ? (ip === null ? '' : address + ':') : `${address}${p.hostPort}:`;
  const proto = p.protocol === 'tcp' ? '' : `/${p.protocol}`;
  return `${host}${p.containerPort}${proto}`;
}

/**
 * The lease name planComposeOverride matches to a published port without any config: the
 * service name when the service publishes one port, else `SERVICE-CONTAINERPORT`, with
 * `-udp` for UDP.
 */
export function suggestedLeaseName(port: ComposePort, service: ComposeService): string {
  if (service.ports.length === 1) return service.name;
  return `${service.name}-${port.containerPort}${port.protocol === 'udp' ? '-udp' : ''}`;
}

/** Where a lease wants to be published. */
interface Target {
  readonly lease: Lease;
  readonly service: string;
  readonly containerPort: number | null;
  /** Set by `compose:` / `composePort:` in config, rather than guessed from the name. */
  readonly explicit: boolean;
  /** The port the config asks for, used to pick among several published ports. */
  readonly wanted: number | null;
}

/**
 * Matches leases to compose services' published ports. A lease targets:
 * 1. the service's `compose:` (default: the lease name) and `composePort:` when either is
 *    set in berth.yaml;
 * 2. else the compose service named like the lease (pool roles too);
 * 3. else `SERVICE-PORT[-udp]` (see suggestedLeaseName) when SERVICE exists.
 *
 * Protocols must agree. Leases with a container port are matched first, to the first
 * published port with that container port; a configured port the base file does not
 * publish is added. Leases without one take the service's only published port of their
 * protocol, or among several the one whose base host port equals the config's
 * `port:`/`prefer:` or the lease's own port; otherwise they are reported unmatched.
 * Leases that name no compose service and have no `compose:` are simply not compose's.
 *
 * Since `!override` replaces a service's whole list, each mapping keeps the base file's
 * other ports of that service as they are; those are also listed in `unleased`.
 */
export function planComposeOverride(
  composeServices: readonly ComposeService[],
  leases: readonly Lease[],
  services: readonly ServiceConfig[],
): ComposePlan {
  const byName = new Map(composeServices.map((s) => [s.name, s]));
  const taken = new Map<ComposePort, Lease>();
  const added = new Map<string, OverridePort[]>();
  const unmatched: UnmatchedLease[] = [];
  const targets = leases.map((l) => targetOf(l, services, byName)).filter((t): t is Target => t !== null);
  const free = (service: ComposeService, protocol: Protocol): ComposePort[] =>
    service.ports.filter((p) => p.protocol === protocol && !taken.has(p));

  for (const t of targets) {
    const service = byName.get(t.service);
    if (service === undefined) {
      unmatched.push({ lease: t.lease, reason: `the compose file has no service "${t.service}"` });
    }
  }
  for (const t of targets.filter((x) => x.containerPort !== null && byName.has(x.service))) {
    const service = byName.get(t.service)!;
    const port = free(service, t.lease.protocol).find((p) => p.containerPort === t.containerPort);
    if (port !== undefined) taken.set(port, t.lease);
    else if (t.explicit) {
      const list = added.get(service.name) ?? [];
      list.push({ hostPort: t.lease.port, containerPort: t.containerPort!, protocol: t.lease.protocol, hostIp: null });
      added.set(service.name, list);
    } else {
      const reason = `compose service "${service.name}" publishes no ${t.lease.protocol} container port ${t.containerPort}`;
      unmatched.push({ lease: t.lease, reason });
    }
  }
  for (const t of targets.filter((x) => x.containerPort === null && byName.has(x.service))) {
    const service = byName.get(t.service)!;
    const candidates = free(service, t.lease.protocol);
    const port =
      candidates.length === 1
        ? candidates[0]
        : (candidates.find((p) => p.hostPort !== null && p.hostPort === t.wanted) ??
          candidates.find((p) => p.hostPort === t.lease.port));
    if (port !== undefined) taken.set(port, t.lease);
    else {
      const proto = t.lease.protocol;
      const several = candidates.map((p) => p.containerPort).join(', ');
      const reason =
        candidates.length === 0
          ? `compose service "${service.name}" publishes no free ${proto} port for it`
          : `compose service "${service.name}" publishes several ${proto} ports (${several}); ` +
            `set composePort: for "${t.lease.name}" in berth.yaml`;
      unmatched.push({ lease: t.lease, reason });
    }
  }

  const mappings: ServicePorts[] = [];
  const unleased: ComposePort[] = [];
  for (const service of composeServices) {
    const extra = added.get(service.name) ?? [];
    const touched = extra.length > 0 || service.ports.some((p) => taken.has(p));
    for (const p of service.ports) if (!taken.has(p)) unleased.push(p);
    if (!touched) continue;
    const ports = service.ports.map((p): OverridePort => ({
      hostPort: taken.get(p)?.port ?? p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
      hostIp: p.hostIp,
    }));
    mappings.push({ service: service.name, ports: [...ports, ...extra] });
  }
  return { mappings, unleased, unmatched };
}

function targetOf(lease: Lease, services: readonly ServiceConfig[], byName: ReadonlyMap<string, ComposeService>): Target | null {
  const config = serviceFor(lease, services);
  const wanted = config?.port ?? config?.prefer ?? null;
  if (config !== null && (config.compose !== null || config.composePort !== null)) {
    return { lease, service: config.compose ?? lease.name, containerPort: config.composePort, explicit: true, wanted };
  }
  if (byName.has(lease.name)) return { lease, service: lease.name, containerPort: null, explicit: false, wanted };
  const m = /^(.+)-(\d+)(?:-(tcp|udp))?$/.exec(lease.name);
  if (m !== null && byName.has(m[1]!) && (m[3] ?? 'tcp') === lease.protocol) {
    return { lease, service: m[1]!, containerPort: Number(m[2]), explicit: false, wanted };
  }
  return null;
}
