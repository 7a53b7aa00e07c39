/**
 * Joins what the OS reports (listeners) with what the container engine reports
 * (published ports). Pure.
 *
 * The host-side holder of a published port is a proxy process, not the container:
 * `docker-proxy` for Docker, `conmon` for podman, a VM backend on Docker Desktop. The
 * container is what a person means by "who holds this port", so it is attached here.
 */
import type { Listener } from '../types.js';
import { compareListeners } from './listener-order.js';
import type { PublishedPort } from './types.js';

const key = (protocol: string, port: number): string => `${protocol}/${port}`;

/**
 * Marks each listener on a published port with its container, and adds a listener
 * (pid, process, command and user null) for each published address whose port no
 * visible listener holds (the proxy runs where berth cannot see it, e.g. in a VM).
 * Where one port is published on several addresses, a published address equal to the
 * listener's wins. The result is in {@link compareListeners} order.
 */
export function attachContainers(listeners: readonly Listener[], published: readonly PublishedPort[]): Listener[] {
  const byPort = new Map<string, PublishedPort[]>();
  for (const p of published) {
    const list = byPort.get(key(p.protocol, p.port)) ?? [];
    list.push(p);
    byPort.set(key(p.protocol, p.port), list);
  }

  const held = new Set<string>();
  const result: Listener[] = listeners.map((listener) => {
    const k = key(listener.protocol, listener.port);
    held.add(k);
    const candidates = byPort.get(k);
    if (!candidates || candidates.length === 0) return listener;
    const match = candidates.find((p) => p.address === listener.address) ?? candidates[0]!;
    return { ...listener, container: match.container };
  });

  const added = new Set<string>();
  for (const p of published) {
    const k = key(p.protocol, p.port);
    const addressKey = `${k} ${p.address}`;
    if (held.has(k) || added.has(addressKey)) continue;
    added.add(addressKey);
    result.push({ protocol: p.protocol, address: p.address, port: p.port, pid: null, process: null, command: null, user: null, container: p.container });
  }
  return result.sort(compareListeners);
}
