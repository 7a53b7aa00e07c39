/**
 * Ports published by running containers, from the Docker Engine API (Docker, or podman's
 * compatible service). Silent and fast when no engine answers: most machines have none.
 */
import { statSync } from 'node:fs';
import { request, type RequestOptions } from 'node:http';
import { join } from 'node:path';
import { NotFoundError, RefusedError } from '../errors.js';
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

/**
 * The engine sockets to look for when DOCKER_HOST is not set, in order: Docker's, then
 * podman's (rootless under XDG_RUNTIME_DIR or /run/user/UID, then rootful). podman serves
 * the same API there once `podman.socket` (or `podman system service`) runs.
 */
export function dockerSocketCandidates(env: NodeJS.ProcessEnv = process.env, uid: number | null = process.getuid?.() ?? null): string[] {
  const out = [DEFAULT_DOCKER_SOCKET];
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'));
  if (uid !== null) out.push(`/run/user/${uid}/podman/podman.sock`);
  out.push('/run/podman/podman.sock');
  return [...new Set(out)];
}

/**
 * Where the engine is: DOCKER_HOST when set (see dockerEndpoint), else the first of
 * dockerSocketCandidates that is a socket, else Docker's default socket.
 */
export function findDockerEndpoint(env: NodeJS.ProcessEnv = process.env): Pick<RequestOptions, 'socketPath' | 'host' | 'port'> | null {
  if (env.DOCKER_HOST) return dockerEndpoint(env.DOCKER_HOST);
  for (const path of dockerSocketCandidates(env)) {
    try {
      if (statSync(path).isSocket()) return { socketPath: path };
    } catch {
      // Not there: try the next place.
    }
  }
  return dockerEndpoint(undefined);
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
  const endpoint = options.dockerHost !== undefined ? dockerEndpoint(options.dockerHost) : findDockerEndpoint();
  if (endpoint === null) return [];
  const body = await fetchContainers(endpoint, options.timeoutMs ?? DOCKER_TIMEOUT_MS);
  return body === null ? [] : parseContainersJson(body);
}

/** Seconds the engine gives a container to stop before it kills it (docker stop's default). */
export const CONTAINER_STOP_GRACE_S = 10;
/** Longest wait for the engine to answer a stop: the grace period and some. */
const CONTAINER_STOP_TIMEOUT_MS = (CONTAINER_STOP_GRACE_S + 20) * 1000;

/**
 * Stops container `id` through the engine's API (`POST /containers/{id}/stop`), as
 * `docker stop` / `podman stop` would; returns once the engine says it stopped.
 *
 * @throws NotFoundError when the engine knows no such container; RefusedError when no
 *   engine answers or it refuses.
 */
export function stopContainer(id: string, options: DockerOptions = {}): Promise<void> {
  const endpoint = options.dockerHost !== undefined ? dockerEndpoint(options.dockerHost) : findDockerEndpoint();
  if (endpoint === null) return Promise.reject(new RefusedError(`cannot reach the container engine named by DOCKER_HOST to stop ${id}. Stop the container with docker stop or podman stop.`, { container: id }));
  const timeoutMs = options.timeoutMs ?? CONTAINER_STOP_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const path = `/containers/${encodeURIComponent(id)}/stop?t=${CONTAINER_STOP_GRACE_S}`;
    const req = request({ ...endpoint, method: 'POST', path, agent: false, headers: { host: 'docker' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      // 204: stopped; 304: it was stopped already.
      if (status === 204 || status === 304) resolve();
      else if (status === 404) reject(new NotFoundError(`the container engine knows no container ${id}; it may be gone already.`, { container: id }));
      else reject(new RefusedError(`the container engine refused to stop ${id} (HTTP ${status}). Stop it with docker stop or podman stop.`, { container: id, status }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new RefusedError(`cannot stop container ${id} through the engine API: ${error.message}. Stop it with docker stop or podman stop.`, { container: id })));
    req.end();
  });
}
