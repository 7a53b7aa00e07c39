/**
 * Templates (`berth render`): `${NAME}` filled from a scope's variables, and the built-in
 * templates berth ships (nginx upstreams, Prometheus scrape targets, a Caddyfile,
 * connection strings), generated from the same variables. Pure: no I/O.
 */
import { UsageError } from '../errors.js';
import type { EnvVar, Lease } from '../types.js';
import { envVarName } from './env-name.js';

/**
 * `${NAME}` and `${NAME:-default}`; `$${` writes a literal `${`. Only names of environment
 * variable shape are placeholders, so nginx's `$host` or a shell's `$1` pass through.
 */
const PLACEHOLDER = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `text` with every `${NAME}` replaced by the variable NAME of `vars`.
 *
 * @throws UsageError naming every placeholder with no variable and no default, with the
 *   variables there are, so a typo is found before a file is written.
 */
export function fillTemplate(text: string, vars: readonly Pick<EnvVar, 'name' | 'value'>[], label = 'template'): string {
  const values = new Map(vars.map((v) => [v.name, v.value]));
  const unknown = new Set<string>();
  const out = text.replace(PLACEHOLDER, (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
    if (escaped !== undefined) return whole.slice(1);
    const value = values.get(name) ?? fallback;
    if (value === undefined) unknown.add(name);
    return value ?? whole;
  });
  if (unknown.size > 0) {
    const names = [...unknown].map((n) => '${' + n + '}').join(', ');
    const known = [...values.keys()].join(', ') || 'none: the scope has no leases';
    throw new UsageError(`${label}: no variable for ${names}. The scope's variables are: ${known}. Allocate the service, fix the name, or write \${NAME:-default}.`, {
      unknown: [...unknown],
    });
  }
  return out;
}

/** A built-in template: a name, what it makes, and the renderer. */
export interface BuiltinTemplate {
  readonly name: string;
  readonly description: string;
  readonly render: (vars: readonly EnvVar[], host: string) => string;
}

/** One lease as the built-ins see it: its name, port, and whether it speaks HTTP. */
interface Target {
  readonly name: string;
  readonly port: number;
  readonly http: boolean;
  readonly lease: Lease;
}

/** The scope's TCP leases, in order, each once (vars come from leaseVariables with urls). */
function targets(vars: readonly EnvVar[]): Target[] {
  const seen = new Map<string, Target>();
  for (const v of vars) {
    if (v.lease.protocol !== 'tcp') continue;
    const http = vars.some((u) => u.lease === v.lease && u.name === `${envVarName(v.lease.name)}_URL`);
    if (!seen.has(v.lease.name)) seen.set(v.lease.name, { name: v.lease.name, port: v.lease.port, http, lease: v.lease });
  }
  return [...seen.values()];
}

/** HTTP leases, or every TCP lease when none is known to speak HTTP. */
function webTargets(vars: readonly EnvVar[]): Target[] {
  const all = targets(vars);
  const http = all.filter((t) => t.http);
  return http.length > 0 ? http : all;
}

/** A name safe as an nginx upstream or Prometheus job: letters, digits, `_`. */
const ident = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');

/** Connection URL schemes by what a lease's name says it is. */
const SCHEMES: readonly (readonly [RegExp, string])[] = [
  [/postgres|pg\b|psql/i, 'postgresql'],
  [/mysql|maria/i, 'mysql'],
  [/mongo/i, 'mongodb'],
  [/redis|valkey|cache/i, 'redis'],
  [/rabbit|amqp/i, 'amqp'],
  [/nats/i, 'nats'],
  [/kafka/i, 'kafka'],
];

const header = (what: string): string => `# ${what}, written by berth render; berth re-renders it when a port moves.\n`;

/** The templates berth ships, by name. */
export const BUILTIN_TEMPLATES: readonly BuiltinTemplate[] = [
  {
    name: 'nginx',
    description: 'nginx upstream blocks, one per HTTP service',
    render: (vars, host) =>
      header('nginx upstreams') + webTargets(vars).map((t) => `upstream ${ident(t.name)} {\n    server ${host}:${t.port};\n}\n`).join('\n'),
  },
  {
    name: 'prometheus',
    description: 'Prometheus scrape_configs, one job per HTTP service',
    render: (vars, host) =>
      header('Prometheus scrape targets') +
      'scrape_configs:\n' +
      webTargets(vars).map((t) => `  - job_name: ${ident(t.name)}\n    static_configs:\n      - targets: ['${host}:${t.port}']\n`).join(''),
  },
  {
    name: 'caddy',
    description: 'a Caddyfile: http://NAME.localhost proxied to each HTTP service',
    render: (vars, host) =>
      header('Caddyfile') + webTargets(vars).map((t) => `http://${t.name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}.localhost {\n\treverse_proxy ${host}:${t.port}\n}\n`).join('\n'),
  },
  {
    name: 'connections',
    description: 'connection strings (<NAME>_URL=postgresql://HOST:PORT ...) for databases, caches and HTTP services',
    render: (vars, host) =>
      header('Connection strings') +
      targets(vars)
        .map((t) => {
          const scheme = SCHEMES.find(([re]) => re.test(t.name))?.[1] ?? (t.http ? 'http' : null);
          return scheme === null ? null : `${envVarName(t.name)}_URL=${scheme}://${host}:${t.port}\n`;
        })
        .filter((line): line is string => line !== null)
        .join(''),
  },
];

/** The built-in template `name`, or undefined. */
export function builtinTemplate(name: string): BuiltinTemplate | undefined {
  return BUILTIN_TEMPLATES.find((t) => t.name === name);
}
