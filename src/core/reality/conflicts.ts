/**
 * Registry, config and reality reconciled into conflicts, each with a kind and a message
 * a person can act on. Pure: listeners, leases and liveness come in as data.
 */
import type { Lease, Protocol } from '../../types.js';
import type { ServiceConfig } from '../../types.js';
import { describeExpectation, describeHolder, printable } from '../../wiring/describe.js';
import type { Listener } from '../../types.js';
import { containerStopCommand } from './kill-policy.js';

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
import { holderMatches, type ParentOf } from './expect.js';
import type { ListenerIndex } from './status.js';
import { CONFLICT_KINDS, type Conflict, type LeaseStatus } from '../../engine/index.js';

/** The fixed port of a service in berth.yaml (strategy fixed, or a port with no strategy), or null. */
export function fixedPortOf(service: ServiceConfig): number | null {
  const strategy = service.strategy ?? (service.port !== null ? 'fixed' : null);
  return strategy === 'fixed' ? service.port : null;
}

/** Everything conflicts are found from. */
export interface ConflictInput {
  /** The leases checked, each with its live state. */
  readonly statuses: readonly LeaseStatus[];
  /** Every lease of the host, any scope: a fixed port may be leased elsewhere. */
  readonly allLeases: readonly Lease[];
  /** berth.yaml's services, which belong to `scope`. */
  readonly services: readonly ServiceConfig[];
  readonly scope: string;
  /** berth.yaml's path, for messages; null when there is none. */
  readonly configFile: string | null;
  readonly listeners: ListenerIndex;
  readonly isAlive: (pid: number) => boolean;
  readonly parentOf: ParentOf;
  /** The port a lease's service prefers (berth.yaml's prefer:, or a well-known name's), or null; absent: none. */
  readonly preferredOf?: (lease: Lease) => number | null;
}

const ref = (l: Lease) => ({ scope: l.scope, name: l.name });
const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(' and ');

function conflict(kind: Conflict['kind'], port: number, protocol: Protocol, message: string, extra: Partial<Conflict> = {}): Conflict {
  return { kind, port, protocol, message, lease: null, services: [], holders: [], ...extra };
}

/**
 * How to stop the holders of `port`: a container by its engine's stop command (or `berth
 * kill --stop-container`; `berth kill` alone refuses a container's proxy), a process
 * with `berth kill`.
 */
function stopHint(holders: readonly Listener[], port: number): string {
  const containers = holders.filter((h) => h.container);
  if (containers.length > 0) {
    const commands = [...new Set(containers.map((h) => containerStopCommand(h)))].map((c) => `\`${c}\``).join(', ');
    const names = [...new Set(containers.map((h) => printable(h.container!.name)))].join(', ');
    return `stop the container ${names} (${commands}, or \`berth kill ${port} --stop-container\`)`;
  }
  return holders.some((h) => h.pid !== null) ? `stop it (berth kill ${port})` : 'stop it';
}

function foreignHolder(status: LeaseStatus): Conflict {
  const { lease, foreign } = status;
  const found = foreign.map(describeHolder).join(', ');
  const hint = stopHint(foreign, lease.port);
  return conflict(
    'foreign-holder',
    lease.port,
    lease.protocol,
    `port ${lease.port}: expected ${describeExpectation(status.expected)} but found ${found}; the port is leased to ${lease.scope}/${lease.name}. ` +
      `Either ${hint}, or move the lease to the next free port (berth reassign ${lease.name} --scope ${lease.scope}; \`berth check --fix\` moves every such lease).`,
    { lease: ref(lease), holders: foreign },
  );
}

function deadOwner(lease: Lease): Conflict {
  const owner = lease.pid === null ? 'no pid' : `pid ${lease.pid}, which is gone`;
  return conflict(
    'dead-owner',
    lease.port,
    lease.protocol,
    `port ${lease.port}: ephemeral lease ${lease.scope}/${lease.name} belongs to ${owner}. Reclaim it with \`berth gc\`.`,
    { lease: ref(lease) },
  );
}

/** Services with a fixed port, grouped by protocol and port. */
function fixedGroups(services: readonly ServiceConfig[]): Map<string, { port: number; protocol: Protocol; services: ServiceConfig[] }> {
  const groups = new Map<string, { port: number; protocol: Protocol; services: ServiceConfig[] }>();
  for (const svc of services) {
    const port = fixedPortOf(svc);
    if (port === null) continue;
    const k = `${svc.protocol}/${port}`;
    const group = groups.get(k) ?? { port, protocol: svc.protocol, services: [] };
    group.services.push(svc);
    groups.set(k, group);
  }
  return groups;
}

function configChecks(input: ConflictInput): Conflict[] {
  const out: Conflict[] = [];
  const where = input.configFile ?? 'berth.yaml';
  const leaseAt = new Map(input.allLeases.map((l) => [`${l.protocol}/${l.port}`, l]));
  for (const { port, protocol, services } of fixedGroups(input.services).values()) {
    const names = services.map((s) => s.name);
    if (services.length > 1) {
      out.push(
        conflict('duplicate-fixed-port', port, protocol, `port ${port}: services ${quoted(names)} in ${where} both have fixed ${protocol} port ${port}. Give all but one another port.`, {
          services: names,
        }),
      );
    }
    const holder = leaseAt.get(`${protocol}/${port}`);
    if (holder) {
      const others = services.filter((s) => !(holder.scope === input.scope && holder.name === s.name && holder.pool === null));
      if (others.length > 0) {
        out.push(
          conflict(
            'fixed-port-leased',
            port,
            protocol,
            `port ${port}: fixed for ${others.length > 1 ? 'services' : 'service'} ${quoted(others.map((s) => s.name))} in ${where}, but leased to ${holder.scope}/${holder.name}. ` +
              `Release that lease (berth release ${holder.name} --scope ${holder.scope}) or change the port in ${where}.`,
            { lease: ref(holder), services: others.map((s) => s.name) },
          ),
        );
      }
      continue;
    }
    const taken = input.listeners.at(protocol, port).filter((l) => !services.some((s) => s.process && holderMatches({ kind: 'process', name: s.process }, l, input.parentOf)));
    if (taken.length > 0) {
      out.push(
        conflict(
          'fixed-port-in-use',
          port,
          protocol,
          `port ${port}: fixed for ${quoted(names)} in ${where}, but taken by ${taken.map(describeHolder).join(', ')} and no lease holds it. ` +
            `${capitalised(stopHint(taken, port))}, or if it is ${quoted(names)}, lease it anyway (berth allocate ${names[0]} --force).`,
          { services: names, holders: taken },
        ),
      );
    }
  }
  return out;
}

/**
 * Leases of the scope whose service prefers a port (`prefer:`, or a well-known name's
 * customary port) but sit elsewhere because a lease or a process holds that port: one
 * advisory conflict each, naming who has it. `preferredOf` says what a lease prefers.
 */
function preferredTaken(input: ConflictInput): Conflict[] {
  const out: Conflict[] = [];
  for (const { lease } of input.statuses) {
    if (lease.scope !== input.scope || lease.pool !== null) continue;
    const preferred = input.preferredOf?.(lease) ?? null;
    if (preferred === null || preferred === lease.port) continue;
    const leased = input.allLeases.find((l) => l.protocol === lease.protocol && l.port === preferred);
    const held = input.listeners.at(lease.protocol, preferred);
    if (!leased && held.length === 0) continue;
    const who = leased ? `leased to ${leased.scope}/${leased.name}` : `held by ${held.map(describeHolder).join(', ')}`;
    out.push(
      conflict(
        'preferred-taken',
        preferred,
        lease.protocol,
        `${lease.scope}/${lease.name} is on ${lease.port}, not its preferred ${preferred}, which is ${who}. ` +
          `It works where it is; to move it back, free ${preferred} and run \`berth reassign ${lease.name} ${preferred} --scope ${lease.scope}\`.`,
        { lease: ref(lease), holders: held },
      ),
    );
  }
  return out;
}

/**
 * Services whose lease was moved (reassign, check --fix) away from the port berth.yaml
 * fixes: the lease is used, but the file says otherwise, so anything else that reads it
 * (compose files, people) is wrong until one of the two is changed.
 */
function configDrift(input: ConflictInput): Conflict[] {
  const out: Conflict[] = [];
  const where = input.configFile ?? 'berth.yaml';
  for (const svc of input.services) {
    const fixed = fixedPortOf(svc);
    const lease = input.allLeases.find((l) => l.scope === input.scope && l.name === svc.name && l.pool === null);
    if (fixed === null || lease === undefined || lease.port === fixed) continue;
    out.push(
      conflict(
        'config-drift',
        lease.port,
        lease.protocol,
        `${lease.scope}/${lease.name} is on ${lease.port}, but ${where} fixes port ${fixed}. Keep ${lease.port}: \`berth reassign ${lease.name} ${lease.port} --update-config --scope ${lease.scope}\`; ` +
          `or go back: \`berth reassign ${lease.name} ${fixed} --scope ${lease.scope}\`.`,
        { lease: ref(lease), services: [svc.name] },
      ),
    );
  }
  return out;
}

/**
 * Every conflict: leased ports held by a foreign process, ephemeral leases whose pid is
 * gone, fixed ports of berth.yaml that another lease holds or that two services share,
 * and fixed ports a process already took. Ordered by kind, then port.
 */
export function findConflicts(input: ConflictInput): Conflict[] {
  const out: Conflict[] = [];
  for (const status of input.statuses) {
    if (status.state === 'foreign') out.push(foreignHolder(status));
    const { lease } = status;
    if (lease.ephemeral && (lease.pid === null || !input.isAlive(lease.pid))) out.push(deadOwner(lease));
  }
  out.push(...configChecks(input), ...configDrift(input), ...preferredTaken(input));
  const rank = (c: Conflict): number => CONFLICT_KINDS.indexOf(c.kind);
  return out.sort((a, b) => rank(a) - rank(b) || a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}
