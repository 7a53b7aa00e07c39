/**
 * Pure parser of the Docker Engine API's `GET /containers/json` body (Docker and
 * podman's compatible API serve the same shape). No I/O.
 */
import type { ContainerRef, Protocol } from '../types.js';
import type { PublishedPort } from './types.js';

/** The labels docker compose (v1 and v2, and podman-compose) puts on the containers it makes. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/** Length of the short container id Docker prints. */
export const SHORT_ID_LENGTH = 12;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns a `/containers/json` body into published ports: one per (container, host
 * address, port, protocol), only ports with a `PublicPort` (merely exposed ports are
 * not reachable from the host). Malformed entries are skipped; a body that is not a JSON
 * array yields none.
 */
export function parseContainersJson(body: string): PublishedPort[] {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    // Not JSON (an error page from a proxy): there is nothing to report.
    return [];
  }
  if (!Array.isArray(data)) return [];
  const published: PublishedPort[] = [];
  const seen = new Set<string>();
  for (const entry of data) {
    if (!isRecord(entry)) continue;
    const container = containerRef(entry);
    if (container === null || !Array.isArray(entry.Ports)) continue;
    for (const port of entry.Ports) {
      if (!isRecord(port)) continue;
      const number = port.PublicPort;
      const protocol: Protocol | null = port.Type === 'tcp' ? 'tcp' : port.Type === 'udp' ? 'udp' : null;
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535 || protocol === null) continue;
      const address = typeof port.IP === 'string' && port.IP !== '' ? port.IP : '0.0.0.0';
      const key = `${container.id} ${address} ${number} ${protocol}`;
      if (seen.has(key)) continue;
      seen.add(key);
      published.push({ port: number, protocol, address, container });
    }
  }
  return published;
}

function containerRef(entry: Record<string, unknown>): ContainerRef | null {
  if (typeof entry.Id !== 'string' || entry.Id === '') return null;
  const names = Array.isArray(entry.Names) ? entry.Names.filter((n): n is string => typeof n === 'string') : [];
  const id = entry.Id.slice(0, SHORT_ID_LENGTH);
  const labels = isRecord(entry.Labels) ? entry.Labels : {};
  const service = labels[COMPOSE_SERVICE_LABEL];
  const project = labels[COMPOSE_PROJECT_LABEL];
  return {
    id,
    name: (names[0] ?? id).replace(/^\//, ''),
    image: typeof entry.Image === 'string' ? entry.Image : '',
    // Only on containers compose made, so other containers' refs stay as they were.
    ...(typeof service === 'string' && service !== '' ? { compose: { service, project: typeof project === 'string' && project !== '' ? project : null } } : {}),
  };
}
