/**
 * In-process allocation speed: new allocations per second on a fresh store, and the cost
 * per allocation as one range fills to 50,000 leases (start versus end). get-port, asked
 * the same number of times in-process, is the comparison a user would reach for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openBerth } from '../src/index.js';
import { fmt, mdTable, median, type BenchSection } from './stats.js';

const FRESH_COUNT = 5_000;
const FILL_COUNT = 50_000;
/** Samples at the start and at the end of the fill. */
const WINDOW = 2_000;
/** Named explicitly, so the kernel's ephemeral range is usable: 51,001 ports. */
const FILL_RANGE = { start: 10_000, end: 61_000 };

/** Each rate is measured this many times (a fresh store each time); the median is reported. */
const ROUNDS = 3;

async function freshRate(dir: string, round: number): Promise<number> {
  const berth = await openBerth({ db: path.join(dir, `fresh-${round}.db`), scope: 'bench', env: {} });
  try {
    const start = performance.now();
    for (let i = 0; i < FRESH_COUNT; i++) await berth.allocate([{ name: `s${i}`, range: FILL_RANGE }]);
    return FRESH_COUNT / ((performance.now() - start) / 1000);
  } finally {
    await berth.close();
  }
}

/**
 * get-port as most people call it: `getPort()`, a port the OS picks. (Given a range, get-port
 * locks every port it hands out and walks past them on each call: at 600 calls on
 * 10000-61000 it took 94 ms a call and 788 MB, so that form is not run here.)
 */
async function getPortRate(): Promise<number> {
  const { default: getPort } = await import('get-port');
  const start = performance.now();
  for (let i = 0; i < FRESH_COUNT; i++) await getPort();
  return FRESH_COUNT / ((performance.now() - start) / 1000);
}

/** Microseconds per allocation over the first and the last WINDOW of one fill, and its seconds. */
interface Fill {
  readonly first: number;
  readonly last: number;
  readonly total: number;
}

/** Microseconds per allocation over the first and the last WINDOW of a 50,000-lease fill. */
async function fillCost(dir: string, round: number): Promise<Fill> {
  const berth = await openBerth({ db: path.join(dir, `fill-${round}.db`), scope: 'bench', env: {} });
  try {
    let first = 0;
    let last = 0;
    const t0 = performance.now();
    for (let i = 0; i < FILL_COUNT; i++) {
      const s = performance.now();
      await berth.allocate([{ name: `s${i}`, range: FILL_RANGE }]);
      const us = (performance.now() - s) * 1000;
      if (i < WINDOW) first += us;
      if (i >= FILL_COUNT - WINDOW) last += us;
    }
    return { first: first / WINDOW, last: last / WINDOW, total: (performance.now() - t0) / 1000 };
  } finally {
    await berth.close();
  }
}

export default async function throughputBench(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-throughput-bench-'));
  try {
    const berthRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) berthRates.push(await freshRate(dir, round));
    const berthRate = median(berthRates);
    const gpRate = await getPortRate();
    const spread = (rates: number[]) => `${fmt(Math.min(...rates), 0)}–${fmt(Math.max(...rates), 0)}`;
    const fills: Fill[] = [];
    for (let round = 0; round < ROUNDS; round++) fills.push(await fillCost(dir, round));
    const ratios = fills.map((f) => f.last / f.first);
    // The fill whose end/start ratio is the median one, reported whole.
    const fill = fills[ratios.indexOf(median(ratios))] ?? fills[0]!;
    const markdown = [
      `Each berth allocation is its own write transaction with a bind probe of the chosen port (one dual-stack`,
      `bind on Linux), committed to SQLite in WAL mode. get-port remembers nothing and promises nothing.`,
      '',
      mdTable(
        ['measure', 'value'],
        [
          [`berth: new allocations per second, fresh store (${FRESH_COUNT}; median of ${ROUNDS} stores)`, fmt(berthRate, 0)],
          ['berth: slowest and fastest store', spread(berthRates)],
          [`get-port: \`getPort()\` answers per second, same count (one round: see below)`, fmt(gpRate, 0)],
          ['ratio berth / get-port', `${fmt(berthRate / gpRate)}×`],
          [`fill one range to ${FILL_COUNT.toLocaleString('en')} leases (${ROUNDS} fills, the median one shown): µs per allocation, first ${WINDOW}`, fmt(fill.first, 0)],
          [`same, last ${WINDOW}`, fmt(fill.last, 0)],
          ['ratio end / start (must stay under 2×)', `${fmt(fill.last / fill.first)}×`],
          ['ratio end / start in each fill', ratios.map((r) => `${fmt(r)}×`).join(', ')],
          ['whole fill, seconds', fmt(fill.total, 1)],
        ],
      ),
      '',
      'get-port is measured once: it keeps every port it handed out locked for 15 s within a process,',
      'and a second round of 5,000 calls in the same process stalled and ran out of memory (4 GB) here.',
    ].join('\n');
    return { title: 'In-process allocation speed', markdown };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await throughputBench()).markdown);
