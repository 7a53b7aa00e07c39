/**
 * One process of API clients for the api benchmark (bench/api.ts), started with fork():
 * CLIENTS clients, each on its own keep-alive connection to the daemon over loopback TCP,
 * each allocating new names with `PUT /v1/leases/{scope}/{name}` one after the other.
 * It warms up, says `ready`, waits for `go`, runs COUNT allocations per client, and sends
 * back every latency, every port it was given, and its errors.
 *
 * Usage (through fork): node api-worker.js PORT TOKEN_FILE CLIENTS COUNT SCOPE_PREFIX RANGE
 */
import fs from 'node:fs';
import http from 'node:http';
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

function put(agent: http.Agent, scope: string, name: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/v1/leases/${encodeURIComponent(scope)}/${encodeURIComponent(name)}`,
        agent,
        headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const report: { -readonly [K in keyof WorkerReport]: WorkerReport[K] } = { latenciesMs: [], ports: [], errors: 0, errorSamples: [], warmupPorts: [] };

async function one(agent: http.Agent, scope: string, name: string, measured: boolean): Promise<void> {
  const start = performance.now();
  try {
    const res = await put(agent, scope, name);
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

const agents = Array.from({ length: clients }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
const scopes = agents.map((_, i) => `${prefix}-c${i}`);
await Promise.all(agents.map(async (agent, i) => {
  for (let n = 0; n < WARMUP_PER_CLIENT; n++) await one(agent, scopes[i]!, `warm${n}`, false);
}));
process.send!('ready');
await new Promise<void>((resolve) => process.once('message', () => resolve()));
await Promise.all(agents.map(async (agent, i) => {
  for (let n = 0; n < count; n++) await one(agent, scopes[i]!, `n${n}`, true);
}));
for (const agent of agents) agent.destroy();
process.send!(report, () => process.exit(0));
