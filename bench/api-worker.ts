/**
 * One process of API clients for the api benchmark (bench/api.ts), started with fork():
 * CLIENTS clients, each on its own keep-alive connection to the daemon over loopback TCP
 * (HTTP/1.1 written and read directly on the socket, see Connection),
 * each allocating new names with `PUT /v1/leases/{scope}/{name}` one after the other.
 * It warms up, says `ready`, waits for `go`, runs COUNT allocations per client, and sends
 * back every latency, every port it was given, and its errors.
 *
 * Usage (through fork): node api-worker.js PORT TOKEN_FILE CLIENTS COUNT SCOPE_PREFIX RANGE
 */
import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** Allocations per client before `ready`, not measured (connections opened, code warm). */
const WARMUP_PER_CLIENT = 20;

/** What a worker reports. */
export interface WorkerReport {
  readonly latenciesMs: number[];
  readonly ports: number[];
  readonly errors: number;
  readonly errorSamples: string[];
  /** Ports the warm-up got (they count for duplicates too). */
  readonly warmupPorts: number[];
}

const [portText, tokenFile, clientsText, countText, prefix, range] = process.argv.slice(2);
const port = Number(portText);
const token = fs.readFileSync(tokenFile!, 'utf8').trim();
const clients = Number(clientsText);
const count = Number(countText);
const body = JSON.stringify({ range });

/**
 * One keep-alive HTTP/1.1 connection, spoken directly over a TCP socket as load generators
 * (wrk, autocannon) do: node:http's client costs the client more CPU per request than the
 * daemon spends on an allocation, and on a small machine the clients' CPU is the daemon's.
 * Answers must carry Content-Length (the daemon's always do); anything else is an error.
 */
class Connection {
  private readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: { status: number; text: string }) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor() {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      this.waiting?.reject(error);
      this.waiting = null;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('the daemon closed the connection')));
  }

  private parse(): void {
    const head = this.buffer.indexOf('\r\n\r\n');
    if (head < 0 || this.waiting === null) return;
    const lines = this.buffer.subarray(0, head).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const lengthLine = lines.find((l) => l.toLowerCase().startsWith('content-length:'));
    if (lengthLine === undefined) {
      this.waiting.reject(new Error(`an answer without Content-Length: ${lines[0]}`));
      this.waiting = null;
      this.socket.destroy();
      return;
    }
    const length = Number(lengthLine.slice(15).trim());
    if (this.buffer.length < head + 4 + length) return;
    const text = this.buffer.subarray(head + 4, head + 4 + length).toString('utf8');
    this.buffer = this.buffer.subarray(head + 4 + length);
    const w = this.waiting;
    this.waiting = null;
    w.resolve({ status, text });
  }

  put(scope: string, name: string): Promise<{ status: number; text: string }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(
        `PUT /v1/leases/${encodeURIComponent(scope)}/${encodeURIComponent(name)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

const report: { -readonly [K in keyof WorkerReport]: WorkerReport[K] } = { latenciesMs: [], ports: [], errors: 0, errorSamples: [], warmupPorts: [] };

async function one(conn: Connection, scope: string, name: string, measured: boolean): Promise<void> {
  const start = performance.now();
  try {
    const res = await conn.put(scope, name);
    const ms = performance.now() - start;
    const lease = res.status === 200 ? (JSON.parse(res.text) as { port?: number }) : null;
    if (lease === null || typeof lease.port !== 'number') throw new Error(`${res.status} ${res.text.slice(0, 200)}`);
    if (measured) {
      report.latenciesMs.push(ms);
      report.ports.push(lease.port);
    } else report.warmupPorts.push(lease.port);
  } catch (error) {
    report.errors++;
    if (report.errorSamples.length < 3) report.errorSamples.push(String((error as Error).message));
  }
}

const conns = Array.from({ length: clients }, () => new Connection());
const scopes = conns.map((_, i) => `${prefix}-c${i}`);
await Promise.all(
  conns.map(async (conn, i) => {
    for (let n = 0; n < WARMUP_PER_CLIENT; n++) await one(conn, scopes[i]!, `warm${n}`, false);
  }),
);
process.send!('ready');
await new Promise<void>((resolve) => process.once('message', () => resolve()));
await Promise.all(
  conns.map(async (conn, i) => {
    for (let n = 0; n < count; n++) await one(conn, scopes[i]!, `n${n}`, true);
  }),
);
for (const conn of conns) conn.close();
process.send!(report, () => process.exit(0));
