/**
 * The one bind probe of berth: can this port really be bound right now? Also the OS
 * ephemeral port range, which berth never hands out.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { PortRange, Protocol } from '../types.js';
import { parsePortRange } from './parse-proc.js';
import { assertPort } from './validate.js';

/** Where the kernel keeps the ephemeral range (Linux). */
const EPHEMERAL_RANGE_PATH = '/proc/sys/net/ipv4/ip_local_port_range';

/** Addresses a port must bind on to count as free: wildcard and loopback, IPv4 and IPv6. */
export const PROBE_ADDRESSES: readonly string[] = ['0.0.0.0', '127.0.0.1', '::', '::1'];

/** Bind errors that mean "this machine has no IPv6 (here)", not "someone holds the port". */
const IPV6_UNAVAILABLE = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

type Outcome = 'bound' | 'busy' | 'unavailable';

/**
 * True only if `port` can be bound for `protocol` on 0.0.0.0, 127.0.0.1, :: and ::1, one
 * address at a time, each socket closed before the next and before resolving (close()
 * closes the fd synchronously; its clean-up callback is not waited for). Checking
 * every address matters: on macOS a listener on 127.0.0.1 does not stop a bind on
 * 0.0.0.0, and an IPv6-only listener on ::1 does not stop any IPv4 bind. Where IPv6 is
 * unavailable, the IPv6 addresses are skipped rather than reported busy.
 *
 * This is a probe, not a reservation: the port can be taken right after it answers.
 *
 * @throws UsageError when `port` is not a valid port.
 */
export async function isPortFree(port: number, protocol: Protocol): Promise<boolean> {
  assertPort(port);
  if (process.platform === 'linux') {
    // On Linux one dual-stack bind on :: conflicts with any holder of the port on any
    // IPv4 or IPv6 address (wildcard, 127.0.0.1, ::1, 127.0.0.2 ...): one syscall round
    // instead of four. Without IPv6 it is 'unavailable' and the full walk below decides.
    const dual = protocol === 'tcp' ? await probeTcp(port, '::') : await probeUdp(port, '::');
    if (dual !== 'unavailable') return dual === 'bound';
  }
  for (const address of PROBE_ADDRESSES) {
    const outcome = protocol === 'tcp' ? await probeTcp(port, address) : await probeUdp(port, address);
    if (outcome === 'busy') return false;
  }
  return true;
}

function classify(error: NodeJS.ErrnoException, address: string): Outcome {
  // Anything else (EADDRINUSE, EACCES for a privileged port, ...) means we cannot bind it.
  return address.includes(':') && IPV6_UNAVAILABLE.has(error.code ?? '') ? 'unavailable' : 'busy';
}

/** The listen backlog of a probe socket (it never accepts anything). */
const PROBE_BACKLOG = 1;

/** libuv's TCP handle, as net.Server drives it inside Node. */
interface TcpHandle {
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  close(): void;
}
interface TcpWrap {
  readonly TCP: new (type: number) => TcpHandle;
  readonly constants: { readonly SERVER: number };
}

let tcpWrap: TcpWrap | null | undefined;

/**
 * Node's own TCP binding (`process.binding('tcp_wrap')`, what net uses inside), or null
 * where this Node does not offer it. Probing through it makes the same bind(2) and
 * listen(2) calls as net.Server.listen, synchronously, without loading net, streams, dns
 * and cluster (~4 ms of start-up) or compiling net's IPv6 pattern (~4 ms): allocate is
 * one probe in one short-lived process, so those would be most of its cost.
 */
function rawTcp(): TcpWrap | null {
  if (tcpWrap === undefined) {
    try {
      const binding = (process as unknown as { binding(name: string): unknown }).binding('tcp_wrap') as Partial<TcpWrap>;
      tcpWrap = typeof binding.TCP === 'function' && typeof binding.constants?.SERVER === 'number' ? (binding as TcpWrap) : null;
    } catch {
      // process.binding removed or refused (a newer Node, a policy): net.Server does it.
      tcpWrap = null;
    }
  }
  return tcpWrap;
}

/** Binds and listens on a raw handle: dual-stack on `::`, as net.Server does for that host. */
function probeTcpRaw(wrap: TcpWrap, port: number, address: string): Outcome {
  const handle = new wrap.TCP(wrap.constants.SERVER);
  try {
    let status = address.includes(':') ? handle.bind6(address, port, 0) : handle.bind(address, port);
    // With SO_REUSEADDR (libuv sets it) Linux reports a listener's port at listen(2), not bind(2).
    if (status === 0) status = handle.listen(PROBE_BACKLOG);
    return status === 0 ? 'bound' : classify({ code: getSystemErrorName(status) } as NodeJS.ErrnoException, address);
  } finally {
    handle.close(); // closes the fd now; the handle's memory goes a loop turn later
  }
}

function probeTcp(port: number, address: string): Promise<Outcome> {
  const wrap = rawTcp();
  if (wrap !== null) return Promise.resolve(probeTcpRaw(wrap, port, address));
  return probeTcpServer(port, address);
}

function probeTcpServer(port: number, address: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const server: Server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      // The server never bound, so there is nothing to close.
      resolve(classify(error, address));
    });
    server.listen({ port, host: address, exclusive: true }, () => {
      // close() closes the socket at once (libuv closes the fd synchronously); its callback
      // only reports the handle's clean-up a loop turn later, which nobody needs to wait for.
      server.close();
      resolve('bound');
    });
  });
}

function probeUdp(port: number, address: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let socket: UdpSocket;
    try {
      socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    } catch (error) {
      resolve(classify(error as NodeJS.ErrnoException, address));
      return;
    }
    socket.once('error', (error: NodeJS.ErrnoException) => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind: nothing left open.
      }
      resolve(classify(error, address));
    });
    socket.bind({ port, address, exclusive: true }, () => {
      socket.close(); // as for TCP: the fd is closed before close() returns
      resolve('bound');
    });
  });
}

/**
 * The OS ephemeral (client) port range, read synchronously from
 * /proc/sys/net/ipv4/ip_local_port_range; null off Linux or when unreadable.
 */
export function ephemeralPortRange(): PortRange | null {
  if (process.platform !== 'linux') return null;
  try {
    return parsePortRange(readFileSync(EPHEMERAL_RANGE_PATH, 'utf8'));
  } catch {
    // No such file (a restricted container without /proc/sys): the range is unknown.
    return null;
  }
}

/**
 * Both TCP probes, for the test that holds them to the same answers (the raw one is null
 * where this Node has no `tcp_wrap` binding). Not for other callers: use isPortFree.
 */
export const TCP_PROBES = {
  raw: (port: number, address: string): Outcome | null => {
    const wrap = rawTcp();
    return wrap === null ? null : probeTcpRaw(wrap, port, address);
  },
  server: probeTcpServer,
};
