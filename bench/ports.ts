/**
 * Ports for benchmarks: one home for bench/ (which does not import test/ helpers).
 * The kernel picks each port, so parallel runs and other users never reach for the same one.
 */
import net from 'node:net';

/** A free loopback port, chosen by the kernel (nobody listens on it once this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether the port binds on 127.0.0.1 right now (no process holds it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** How many of the ports are held (do not bind). */
export async function heldPorts(ports: readonly number[]): Promise<number> {
  let held = 0;
  for (const port of ports) if (!(await portFree(port))) held += 1;
  return held;
}
