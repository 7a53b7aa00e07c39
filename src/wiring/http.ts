/**
 * Which services speak HTTP, and how their base URL is written. Shared by the `<NAME>_URL`
 * variables and the URL lists so both always agree.
 */
import type { Lease } from '../types.js';
import type { ServiceConfig } from '../types.js';

/** Host written into URLs when none is given. */
export const DEFAULT_URL_HOST = 'localhost';

/** Name words that mean "this serves HTTPS" (`nginx_https`); they also mean HTTP. */
export const HTTPS_NAME_WORDS: ReadonlySet<string> = new Set(['https', 'ssl', 'tls']);

/** Name words that mean "this serves HTTP". */
export const HTTP_NAME_WORDS: ReadonlySet<string> = new Set([
  'web', 'www', 'site', 'app', 'api', 'rest', 'graphql', 'frontend', 'front', 'backend',
  'server', 'admin', 'ui', 'http', 'https', 'docs', 'doc', 'dashboard', 'console', 'portal',
  'gateway', 'proxy', 'nginx', 'caddy', 'vite', 'next', 'nuxt', 'storybook', 'client', 'static',
]);

/** Name words that mean "this is not HTTP"; they win over HTTP_NAME_WORDS (`redis-server`). */
export const NON_HTTP_NAME_WORDS: ReadonlySet<string> = new Set([
  'postgres', 'postgresql', 'pg', 'psql', 'db', 'database', 'mysql', 'mariadb', 'mongo', 'mongodb',
  'redis', 'valkey', 'memcached', 'cache', 'rabbitmq', 'amqp', 'kafka', 'zookeeper', 'nats', 'mqtt',
  'smtp', 'imap', 'pop3', 'ssh', 'sftp', 'ftp', 'ldap', 'grpc', 'dns', 'sql', 'sqlserver', 'mssql',
  'oracle', 'cassandra', 'debug', 'debugger', 'inspector',
]);

/**
 * Whether a service speaks HTTP. The config's `http:` decides when set; otherwise the name
 * is split into lower-case words at every non-alphanumeric character and camelCase
 * boundary: any word in NON_HTTP_NAME_WORDS means no, else any word in HTTP_NAME_WORDS
 * means yes, else no. Whole words only: `webapp` is not guessed, `web-app` is.
 */
export function speaksHttp(name: string, service: ServiceConfig | null | undefined): boolean {
  if (service?.http != null) return service.http;
  if (service?.https === true) return true;
  const words = nameWords(name);
  if (words.some((w) => NON_HTTP_NAME_WORDS.has(w))) return false;
  return words.some((w) => HTTP_NAME_WORDS.has(w) || HTTPS_NAME_WORDS.has(w));
}

/**
 * The scheme of a service's URLs: `https` when its config says `https: true`, or (unset)
 * when its name has a word of HTTPS_NAME_WORDS (`nginx_https`); else `http`.
 */
export function urlScheme(name: string, service: ServiceConfig | null | undefined): 'http' | 'https' {
  if (service?.https != null) return service.https ? 'https' : 'http';
  return nameWords(name).some((w) => HTTPS_NAME_WORDS.has(w)) ? 'https' : 'http';
}

/** Lower-case words of a name, split at non-alphanumerics and camelCase boundaries. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/** Whether a lease gets a URL: TCP only, and speaks HTTP (see speaksHttp). */
export function leaseSpeaksHttp(lease: Lease, service: ServiceConfig | null | undefined): boolean {
  return lease.protocol === 'tcp' && speaksHttp(lease.name, service);
}

/** `http://host:port` (or `https://`); an IPv6 literal host is bracketed (`http://[::1]:8080`). */
export function httpUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}

/**
 * The service config that applies to a lease: the `services:` entry with the lease's name,
 * and none for pool leases (their name is a role, not a service).
 */
export function serviceFor(lease: Lease, services: readonly ServiceConfig[]): ServiceConfig | null {
  if (lease.pool !== null) return null;
  return services.find((s) => s.name === lease.name) ?? null;
}
