/** Lease and config builders shared by the tests. */
import type { Lease } from '../../src/types.js';
import type { ServiceConfig, SeriesPoolConfig } from '../../src/types.js';

export function lease(name: string, port: number, extra: Partial<Lease> = {}): Lease {
  return {
    host: 'local',
    scope: 'demo',
    name,
    port,
    protocol: 'tcp',
    purpose: null,
    pool: null,
    slot: null,
    strategy: null,
    ephemeral: false,
    pid: null,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...extra,
  };
}

export function service(name: string, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name,
    port: null,
    prefer: null,
    category: null,
    range: null,
    strategy: null,
    env: null,
    purpose: null,
    protocol: 'tcp',
    process: null,
    compose: null,
    composePort: null,
    http: null,
    ...extra,
  };
}

export function seriesPool(name: string, ports: Record<string, number>, extra: Partial<SeriesPoolConfig> = {}): SeriesPoolConfig {
  return {
    kind: 'series',
    name,
    roles: Object.keys(ports),
    urls: [],
    protocol: 'tcp',
    ports,
    step: 1,
    slots: null,
    ...extra,
  };
}
