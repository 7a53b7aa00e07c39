/**
 * Ports published by running containers, from the Docker Engine API (Docker, or podman's
 * compatible service). Silent and fast when no engine answers: most machines have none.
 */
import { request, type RequestOptions } from 'node:http';
import { parseContainersJson } from './parse-docker.js';
import type { PublishedPort } from './types.js';

/** Where Docker listens when DOCKER_HOST is not set. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** Longest wait for the engine's whole answer; a local engine answers in milliseconds. */
export const DOCKER_TIMEOUT_MS = 500;
/** Largest answer read; a body this big is not a container list. */
const DOCKER_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Options of {@link listPublishedPorts}. */
export interface DockerOptions {
  /** Engine address, as in DOCKER_HOST (`unix:///path`, `tcp://host:port`). Default: $DOCKER_HOST, else the default socket. */
  readonly dockerHost?: string;
  readonly timeoutMs?: number;
}

/**
 * Where to reach the engine: a unix socket path, or a plain-HTTP host and port. Null for
 * schemes berth does not speak (ssh://, npipe://, TLS).
 */
export function dockerEndpoint(dockerHost: string | undefined): Pick<RequestOptions, 'socketPath' | 'host' | 'port'> | null {
  if (dockerHost === undefined || dockerHost === '') return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('tcp://') || dockerHost.startsWith('http://')) {
    try {
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
    } catch {
      // An unparsable DOCKER_HOST names no engine berth can reach.
      return null;
    }
  }
  return null;
}

function fetchContainers(endpoint: Pick<RequestOptions, 'socketPath' | 'host' | 'port'>, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (body: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(body);
    };
    const req = request({ ...endpoint, method: 'GET', path: '/containers/json', agent: false, headers: { host: 'docker' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(null);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > DOCKER_MAX_BODY_BYTES) req.destroy();
        else chunks.push(chunk);
      });
      res.on('end', () => finish(Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => finish(null));
    });
    // ENOENT/ECONNREFUSED (no engine), a reset, or our own destroy: all mean "no answer".
    req.on('error', () => finish(null));
    const timer = setTimeout(() => {
      req.destroy();
      finish(null);
    }, timeoutMs);
    req.end();
  });
}

/**
 * Every port published by a running container, via `GET /containers/json` on the engine
 * named by DOCKER_HOST (or /var/run/docker.sock). Returns [] when no engine answers
 * within the time limit, or it answers with an error: berth then simply knows of no
 * containers.
 */
export async function listPublishedPorts(options: DockerOptions = {}): Promise<PublishedPort[]> {
  const endpoint = dockerEndpoint(options.dockerHost ?? process.env.DOCKER_HOST);
  if (endpoint === null) return [];
  const body = await fetchContainers(endpoint, options.timeoutMs ?? DOCKER_TIMEOUT_MS);
  return body === null ? [] : parseContainersJson(body);
}
