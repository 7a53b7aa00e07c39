/**
 * Benchmark: who holds a port, berth in-process (/proc) versus the commands a person
 * would run instead (`ss`, `lsof`), with 300 listeners open.
 *
 * Default export: a markdown section for BENCHMARKS.md (`npm run bench`).
 * Alone: `node build/bench/listeners.js` prints it.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { listListeners } from '../src/os/index.js';
import { startNode, stopNode, type Helper } from '../test/os/helpers.js';
import { median } from './stats.js';

/** Listeners the helper child opens. */
const LISTENER_COUNT = 300;
/** Timed runs per measurement; the median is reported. */
const RUNS = 31;
/** Untimed runs first, to warm caches and the JIT. */
const WARMUP_RUNS = 3;

/** Loopback connections the second helper opens (each is two sockets in the kernel's tables). */
const CONNECTION_COUNT = 1000;

/** A node -e script that opens `count` listeners on 127.0.0.1 and prints their ports as JSON (also bench/dashboard.ts). */
export const listenersScript = (count: number): string => `
const net = require('node:net');
const servers = [];
let ready = 0;
for (let i = 0; i < ${count}; i++) {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    if (++ready === ${count}) process.stdout.write(JSON.stringify(servers.map((x) => x.address().port)) + '\\n');
  });
  servers.push(s);
}
setInterval(() => {}, 1 << 30);
`;

const CONNECTIONS_SCRIPT = `
const net = require('node:net');
const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
  let open = 0;
  for (let i = 0; i < ${CONNECTION_COUNT}; i++) {
    net.connect(server.address().port, '127.0.0.1', () => { if (++open === ${CONNECTION_COUNT}) console.log('ready'); });
  }
});
`;

/** One contender: a label and one run of it; `run` is null when its tool is not installed. */
interface Contender {
  readonly label: string;
  readonly run: (() => Promise<unknown>) | null;
  readonly note: string;
}

interface Measurement {
  readonly label: string;
  /** Median in milliseconds, or null when the tool is not installed. */
  readonly medianMs: number | null;
  readonly note: string;
}

/** Times the contenders interleaved (one run of each per round), so machine noise hits all alike. */
async function race(contenders: readonly Contender[]): Promise<Measurement[]> {
  const times = contenders.map((): number[] => []);
  for (let round = 0; round < WARMUP_RUNS + RUNS; round++) {
    for (const [i, contender] of contenders.entries()) {
      if (contender.run === null) continue;
      const start = performance.now();
      await contender.run();
      if (round >= WARMUP_RUNS) times[i]!.push(performance.now() - start);
    }
  }
  return contenders.map((c, i) => ({ label: c.label, medianMs: c.run === null ? null : median(times[i]!), note: c.note }));
}

/** Runs a command to completion; rejects with code ENOENT when it is not installed. */
function runTool(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      // lsof exits 1 when nothing matched; only a failure to start is an error here.
      if (error && typeof error.code === 'string') reject(error);
      else resolve(stdout);
    });
  });
}

/** A command as a contender, after one trial run that checks it is installed and names the holder. */
async function tool(label: string, file: string, args: string[], names: (out: string) => boolean): Promise<Contender> {
  try {
    const out = await runTool(file, args);
    return { label, run: () => runTool(file, args), note: names(out) ? '' : 'its output did not name the holder' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { label, run: null, note: code === 'ENOENT' ? `skipped: \`${file}\` is not installed` : `skipped: ${String(error)}` };
  }
}

/** Processes on the machine, from /proc; null where there is no /proc (macOS). */
function countProcesses(): number | null {
  try {
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  } catch {
    // No /proc here: the count is only context for the reader.
    return null;
  }
}

const fmt = (ms: number | null): string => (ms === null ? '—' : `${ms.toFixed(2)} ms`);
const ratio = (tool: number | null, berth: number): string => (tool === null ? '—' : `${(tool / berth).toFixed(1)}×`);

/** Runs the benchmark and returns its BENCHMARKS.md section. */
export default async function benchListeners(): Promise<{ title: string; markdown: string }> {
  let holder: Helper | undefined;
  let connections: Helper | undefined;
  try {
    holder = await startNode(listenersScript(LISTENER_COUNT));
    const ports = JSON.parse(holder.firstLine) as number[];
    const pid = holder.pid;
    const port = ports[Math.floor(ports.length / 2)]!;
    const processCount = countProcesses();

    const onePort = await listListeners({ port });
    if (!onePort.some((l) => l.pid === pid)) throw new Error(`listListeners({ port: ${port} }) did not name pid ${pid}`);
    const all = await listListeners();

    const names = (out: string): boolean => out.includes(`pid=${pid},`) || new RegExp(`\\b${pid}\\b`).test(out);
    const portRows = await race([
      { label: 'berth `listListeners({ port })` (in-process, /proc)', run: () => listListeners({ port }), note: '' },
      await tool(`\`ss -ltnpH "sport = :${port}"\``, 'ss', ['-ltnpH', `sport = :${port}`], names),
      await tool(`\`lsof -nP -iTCP:${port} -sTCP:LISTEN\``, 'lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN'], names),
    ]);
    const allRows = await race([
      { label: 'berth `listListeners()` (in-process, /proc; TCP and UDP, with command lines)', run: () => listListeners(), note: '' },
      await tool('`ss -ltnpH`', 'ss', ['-ltnpH'], names),
      await tool('`lsof -nP -iTCP -sTCP:LISTEN`', 'lsof', ['-nP', '-iTCP', '-sTCP:LISTEN'], names),
    ]);
    const berthPort = portRows[0]!.medianMs!;
    const berthAll = allRows[0]!.medianMs!;

    // The same full listing on a busier machine: the kernel prints connections after the
    // listeners in /proc/net/tcp, and berth stops reading where the listeners end.
    connections = await startNode(CONNECTIONS_SCRIPT);
    const busyRows = await race([
      { label: 'berth `listListeners()`', run: () => listListeners(), note: '' },
      await tool('`ss -ltnpH`', 'ss', ['-ltnpH'], names),
      await tool('`lsof -nP -iTCP -sTCP:LISTEN`', 'lsof', ['-nP', '-iTCP', '-sTCP:LISTEN'], names),
    ]);
    const berthBusy = busyRows[0]!.medianMs!;

    const table = (rows: Measurement[], berth: number): string =>
      ['| what | median | vs berth |', '| --- | ---: | ---: |', ...rows.map((r) => `| ${r.label} | ${fmt(r.medianMs)} | ${r === rows[0] ? '1.0×' : ratio(r.medianMs, berth)}${r.note ? ` (${r.note})` : ''} |`)].join('\n');

    const markdown = [
      `Who holds a port, with ${LISTENER_COUNT} TCP listeners open in one helper process ` +
        `(${all.length} listeners${processCount === null ? '' : ` and ${processCount} processes`} on the machine in all). ` +
        `Median of ${RUNS} interleaved runs after ${WARMUP_RUNS} warm-up rounds; "vs berth" is the other tool's median divided by berth's ` +
        `(above 1× means berth is faster). The commands are spawned from Node, as a tool built on them would.`,
      '',
      `One port (${port}):`,
      '',
      table(portRows, berthPort),
      '',
      'Every listener:',
      '',
      table(allRows, berthAll),
      '',
      `Every listener, with ${CONNECTION_COUNT} loopback TCP connections open as well:`,
      '',
      table(busyRows, berthBusy),
      '',
      `Produced by \`npm run bench\` (this section: \`node build/bench/listeners.js\`) on Node ${process.version}, ` +
        `${cpus().length} CPUs, ${process.platform}.`,
    ].join('\n');
    return { title: 'Listeners: who holds a port', markdown };
  } finally {
    await stopNode(connections);
    await stopNode(holder);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await benchListeners();
  process.stdout.write(`## ${title}\n\n${markdown}\n`);
}
