/**
 * Reading a compose file: which host ports each service publishes (`ports:`), in short
 * syntax (`"127.0.0.1:8080:80/udp"`) and long syntax (`{target, published, ...}`).
 */
import { isIP } from 'node:net';
import { LineCounter, parseDocument, type Tags } from 'yaml';
import { MAX_PORT, type Protocol } from '../types.js';
import { ConfigError, yamlProblem } from '../errors.js';

/** One published port of one compose service. */
export interface ComposePort {
  readonly service: string;
  /** Port inside the container. */
  readonly containerPort: number;
  /**
   * Host port the file publishes it on; null when Docker picks one (`"80"`, `"0:80"`, a
   * host range for one container port) or it is a `${VARIABLE}`.
   */
  readonly hostPort: number | null;
  readonly protocol: Protocol;
  /** `host_ip` / the address in front of the host port; null for all addresses. */
  readonly hostIp: string | null;
  /** Where it is written, e.g. `services.db.ports[0]`. */
  readonly key: string;
}

/** A compose service and its published ports, in file order. */
export interface ComposeService {
  readonly name: string;
  readonly ports: readonly ComposePort[];
}

/** Most ports one range entry (`"3000-3999:3000-3999"`) may expand to. */
export const MAX_RANGE_PORTS = 1024;

/**
 * Compose's own YAML tags. `!override` and `!reset` (compose 2.24+) may appear in any file;
 * without handlers the yaml library would warn and misread `!reset null` as a string.
 */
export const COMPOSE_YAML_TAGS: Tags = [
  { tag: '!override', collection: 'seq', resolve: (seq) => seq },
  { tag: '!override', collection: 'map', resolve: (map) => map },
  { tag: '!override', resolve: (str: string) => str },
  { tag: '!reset', collection: 'seq', resolve: (seq) => seq },
  { tag: '!reset', collection: 'map', resolve: (map) => map },
  { tag: '!reset', resolve: () => null },
];

/**
 * The services of a compose file and the ports they publish, in file order (services
 * without `ports:` are listed with none). YAML anchors and `<<` merge keys are honoured.
 *
 * Ranges are expanded into one entry per port, pairing host and container ports
 * (`"3000-3002:4000-4002"` → 3000→4000, 3001→4001, 3002→4002), because each host port is
 * leased on its own. A container range without host ports expands with hostPort null; a
 * host range for a single container port is one entry with hostPort null (Docker picks
 * from the range). At most MAX_RANGE_PORTS per entry.
 *
 * A `${VAR}` in a host port reads as hostPort null (the override replaces it anyway). A
 * container port `${VAR}` (as in `"${POSTGRES_PORT}:${POSTGRES_PORT}"`) reads as
 * `opts.vars[VAR]` (the scope's berth variables, then the environment: what compose will
 * substitute), `${VAR:-N}` and `${VAR-N}` as that or else N. With `opts.lenient`, a
 * variable no one sets reads as container port 0 instead of failing (to learn which
 * services there are before their leases exist).
 *
 * @throws ConfigError naming `file` and the key (`services.db.ports[1]`) when the file is
 *   not YAML, is not a mapping, or a port entry is malformed, out of range, uses a protocol
 *   other than tcp/udp, or an unresolvable variable as container port.
 */
export function composePublishedPorts(
  text: string,
  file: string,
  opts: { readonly vars?: Readonly<Record<string, string | undefined>>; readonly lenient?: boolean } = {},
): ComposeService[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { merge: true, customTags: COMPOSE_YAML_TAGS, lineCounter: lines, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) throw new ConfigError(file, '', yamlProblem(first.message, lines.linePos(first.pos[0])));
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias with no anchor, or too many aliases: the syntax is fine, the document is not.
    throw new ConfigError(file, '', yamlProblem((error as Error).message, null));
  }
  if (!isRecord(root)) throw new ConfigError(file, '', 'expected a mapping with services:');
  const services = root['services'];
  if (services === undefined || services === null) return [];
  if (!isRecord(services)) throw new ConfigError(file, 'services', 'expected a mapping of service names');

  return Object.entries(services).map(([name, body]) => {
    const at = `services.${name}`;
    if (body === null || body === undefined) return { name, ports: [] };
    if (!isRecord(body)) throw new ConfigError(file, at, 'expected a mapping');
    const ports = body['ports'];
    if (ports === undefined || ports === null) return { name, ports: [] };
    if (!Array.isArray(ports)) throw new ConfigError(file, `${at}.ports`, 'expected a list');
    return {
      name,
      ports: ports.flatMap((entry: unknown, i) => {
        const ctx: EntryContext = { file, service: name, key: `${at}.ports[${i}]`, vars: opts.vars ?? {}, lenient: opts.lenient === true };
        if (typeof entry === 'string' || typeof entry === 'number') return parseShort(String(entry), ctx);
        if (isRecord(entry)) return parseLong(entry, ctx);
        throw new ConfigError(file, ctx.key, 'expected "HOST:CONTAINER" or a mapping with target:');
      }),
    };
  });
}

interface EntryContext {
  readonly file: string;
  readonly service: string;
  readonly key: string;
  readonly vars: Readonly<Record<string, string | undefined>>;
  readonly lenient: boolean;
}

/** An inclusive run of ports; `null` means "not given / chosen by Docker". */
type Span = { readonly start: number; readonly end: number } | null;

/** `[[HOST_IP:]HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTOCOL]`; HOST_IP may be `[v6]`. */
function parseShort(spec: string, ctx: EntryContext): ComposePort[] {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = parseProtocol(rest.slice(slash + 1), ctx);
    rest = rest.slice(0, slash);
  }
  let hostIp: string | null = null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw bad(ctx, spec, 'an IPv6 address must look like [::1]:HOST:CONTAINER');
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = splitColons(rest);
  let hostText: string | null = null;
  if (parts.length >= 3 && hostIp === null) {
    // IP:HOST:CONTAINER, also a bare IPv6 address with its colons.
    hostIp = parts.slice(0, -2).join(':');
    parts.splice(0, parts.length - 2);
  }
  if (parts.length === 2) hostText = parts[0]!;
  else if (parts.length !== 1) throw bad(ctx, spec, 'expected [IP:][HOST:]CONTAINER[/PROTOCOL]');
  const containerSpec = containerText(parts[parts.length - 1]!, ctx, spec);
  const container = containerSpec === '0' && ctx.lenient ? { start: 0, end: 0 } : parseSpan(containerSpec, ctx, spec, 'container');
  if (container === null) throw bad(ctx, spec, 'the container port is missing');
  const host = hostText === null || hostText === '' || hostText.includes('$') ? null : parseSpan(hostText, ctx, spec, 'host');
  if (hostIp !== null && hostIp !== '' && isIP(hostIp) === 0) throw bad(ctx, spec, `"${hostIp}" is not an IP address`);
  return expand(host, container, protocol, hostIp === '' ? null : hostIp, ctx, spec);
}

/** `{target, published, protocol, host_ip}`; other keys (mode, name, app_protocol) are ignored. */
function parseLong(entry: Record<string, unknown>, ctx: EntryContext): ComposePort[] {
  const spec = JSON.stringify(entry);
  const target = entry['target'];
  if (typeof target !== 'number' && typeof target !== 'string') {
    throw new ConfigError(ctx.file, `${ctx.key}.target`, 'is required: the port inside the container');
  }
  const targetSpec = containerText(String(target), ctx, spec);
  const container = targetSpec === '0' && ctx.lenient ? { start: 0, end: 0 } : parseSpan(targetSpec, ctx, spec, 'container');
  if (container === null || container.start !== container.end) {
    throw new ConfigError(ctx.file, `${ctx.key}.target`, 'expected one port number');
  }
  const published = entry['published'];
  let host: Span = null;
  const variable = typeof published === 'string' && (published === '' || published.includes('$'));
  if (typeof published === 'number' || (typeof published === 'string' && !variable)) {
    host = parseSpan(String(published), { ...ctx, key: `${ctx.key}.published` }, spec, 'host');
  } else if (published !== undefined && published !== null && typeof published !== 'string') {
    throw new ConfigError(ctx.file, `${ctx.key}.published`, 'expected a port number or range');
  }
  const protocolText = entry['protocol'];
  const protocol = protocolText === undefined ? 'tcp' : parseProtocol(String(protocolText), { ...ctx, key: `${ctx.key}.protocol` });
  const ip = entry['host_ip'];
  if (ip !== undefined && ip !== null && (typeof ip !== 'string' || (ip !== '' && isIP(ip) === 0))) {
    throw new ConfigError(ctx.file, `${ctx.key}.host_ip`, 'expected an IP address');
  }
  return expand(host, container, protocol, ip === undefined || ip === null || ip === '' ? null : ip, ctx, spec);
}

/** Pairs host and container spans into ports (see composePublishedPorts). */
function expand(
  host: Span,
  container: NonNullable<Span>,
  protocol: Protocol,
  hostIp: string | null,
  ctx: EntryContext,
  spec: string,
): ComposePort[] {
  const count = container.end - container.start + 1;
  if (count > MAX_RANGE_PORTS) throw bad(ctx, spec, `a range of more than ${MAX_RANGE_PORTS} ports`);
  const port = (containerPort: number, hostPort: number | null): ComposePort => ({
    service: ctx.service, containerPort, hostPort: hostPort === 0 ? null : hostPort, protocol, hostIp, key: ctx.key,
  });
  if (host === null) return Array.from({ length: count }, (_, k) => port(container.start + k, null));
  const hostCount = host.end - host.start + 1;
  if (count === 1) return [port(container.start, hostCount === 1 ? host.start : null)];
  if (hostCount !== count) throw bad(ctx, spec, `the host range has ${hostCount} ports and the container range ${count}`);
  return Array.from({ length: count }, (_, k) => port(container.start + k, host.start + k));
}

/** A container port as written, its variable resolved (see composePublishedPorts). */
function containerText(text: string, ctx: EntryContext, spec: string): string {
  if (!text.includes('$')) return text;
  const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-(\d+))?\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(text);
  if (m === null) throw bad(ctx, spec, 'the container port is an expression berth cannot resolve; write the number or ${VARIABLE}');
  const name = m[1] ?? m[4]!;
  const value = ctx.vars[name];
  // `${VAR:-N}`: N when VAR is unset or empty; `${VAR-N}`: N only when it is unset.
  const set = value !== undefined && (m[2] !== ':' || value !== '');
  if (set) return value;
  if (m[3] !== undefined) return m[3];
  if (ctx.lenient) return '0';
  throw bad(ctx, spec, `the container port \${${name}} is not set: lease the service it names (berth allocate NAME, or compose-override --allocate), or set ${name}`);
}

/** Splits at `:` except inside `${...}`, so `${WEB_PORT:-3000}:3000` is two parts. */
function splitColons(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text.startsWith('${', i)) depth += 1;
    else if (text[i] === '}' && depth > 0) depth -= 1;
    else if (text[i] === ':' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseSpan(text: string, ctx: EntryContext, spec: string, side: 'host' | 'container'): Span {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (m === null) throw bad(ctx, spec, `the ${side} port "${text}" is not a number or range`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  const min = side === 'host' ? 0 : 1;
  if (start < min || end > MAX_PORT || end < start) throw bad(ctx, spec, `the ${side} port "${text}" is out of range ${min}-${MAX_PORT}`);
  return { start, end };
}

function parseProtocol(text: string, ctx: EntryContext): Protocol {
  const p = text.trim().toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  throw new ConfigError(ctx.file, ctx.key, `protocol "${text}": berth leases tcp and udp ports only`);
}

function bad(ctx: EntryContext, spec: string, problem: string): ConfigError {
  return new ConfigError(ctx.file, ctx.key, `${JSON.stringify(spec)}: ${problem}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
