/**
 * Built-in port categories and well-known service ports. berth.yaml's `ranges:` override
 * or extend the categories.
 */
import type { PortRange } from '../types.js';

/** Default base port of the sequential strategy. */
export const DEFAULT_BASE_PORT = 4000;

/** The built-in categories (inclusive ranges). */
export const DEFAULT_RANGES: Readonly<Record<string, PortRange>> = {
  system: { start: 1, end: 1023 },
  user: { start: 1024, end: 4999 },
  database: { start: 5000, end: 5999 },
  cache: { start: 6000, end: 6999 },
  custom: { start: 7000, end: 7999 },
  api: { start: 8000, end: 8999 },
  monitoring: { start: 9000, end: 9999 },
  dynamic: { start: 10000, end: 65535 },
};

/** A service berth knows by name: its customary port and the category to fall back in. */
export interface WellKnown {
  readonly port: number;
  readonly category: string;
}

/** Customary ports of common services, used by the `preferred` strategy. */
export const WELL_KNOWN: Readonly<Record<string, WellKnown>> = {
  postgres: { port: 5432, category: 'database' },
  postgresql: { port: 5432, category: 'database' },
  pg: { port: 5432, category: 'database' },
  mysql: { port: 3306, category: 'database' },
  mariadb: { port: 3306, category: 'database' },
  mongo: { port: 27017, category: 'database' },
  mongodb: { port: 27017, category: 'database' },
  cassandra: { port: 9042, category: 'database' },
  cockroach: { port: 26257, category: 'database' },
  clickhouse: { port: 8123, category: 'database' },
  couchdb: { port: 5984, category: 'database' },
  neo4j: { port: 7474, category: 'database' },
  elasticsearch: { port: 9200, category: 'database' },
  opensearch: { port: 9200, category: 'database' },
  redis: { port: 6379, category: 'cache' },
  valkey: { port: 6379, category: 'cache' },
  memcached: { port: 11211, category: 'cache' },
  rabbitmq: { port: 5672, category: 'custom' },
  kafka: { port: 9092, category: 'custom' },
  zookeeper: { port: 2181, category: 'custom' },
  nats: { port: 4222, category: 'custom' },
  minio: { port: 9000, category: 'custom' },
  mailhog: { port: 8025, category: 'api' },
  mailpit: { port: 8025, category: 'api' },
  grafana: { port: 3000, category: 'monitoring' },
  prometheus: { port: 9090, category: 'monitoring' },
  jaeger: { port: 16686, category: 'monitoring' },
  loki: { port: 3100, category: 'monitoring' },
  vite: { port: 5173, category: 'api' },
  storybook: { port: 6006, category: 'api' },
};

/**
 * The customary port of a service name, or undefined. An own-key lookup: names such as
 * `constructor` or `toString` are ordinary service names, not Object.prototype members.
 */
export function wellKnown(name: string): WellKnown | undefined {
  return Object.hasOwn(WELL_KNOWN, name) ? WELL_KNOWN[name] : undefined;
}

/** The band of category `name` in `ranges`, or undefined: an own-key lookup, as wellKnown. */
export function rangeOf(ranges: Readonly<Record<string, PortRange>>, name: string): PortRange | undefined {
  return Object.hasOwn(ranges, name) ? ranges[name] : undefined;
}

/** The category whose band holds `port` (the narrowest when bands nest), or null. */
export function categoryOf(port: number, ranges: Readonly<Record<string, PortRange>>): string | null {
  let best: [string, number] | null = null;
  for (const [name, r] of Object.entries(ranges)) {
    if (port < r.start || port > r.end) continue;
    const width = r.end - r.start;
    if (best === null || width < best[1]) best = [name, width];
  }
  return best?.[0] ?? null;
}
