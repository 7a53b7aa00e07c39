/**
 * The race a user hits: 8 processes ask for a port from the same small range at once.
 * Counts duplicate answers for get-port, portfinder, detect-port and `berth allocate`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mdTable, type BenchSection } from './stats.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'race-worker.js');
const PROCESSES = 8;
const ROUNDS = 10;
const RANGE = '30100-30199';
const TOOLS = ['get-port', 'portfinder', 'detect-port', 'berth'] as const;
/** Head start so every process has loaded before the common start time. */
const START_DELAY_MS = 1500;

function runWorker(tool: string, startAt: number, db: string, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, tool, String(startAt), RANGE, db, name]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`${tool}: ${err}`))));
  });
}

/** Answers given more than once in one round. */
function duplicates(ports: readonly number[]): number {
  return ports.length - new Set(ports).size;
}

export default async function raceBench(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-race-bench-'));
  const rows: (string | number)[][] = [];
  const firstErrors: string[] = [];
  try {
    for (const tool of TOOLS) {
      let dups = 0;
      let badRounds = 0;
      let errors = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const db = path.join(dir, `${tool}-${round}.db`);
        const startAt = Date.now() + START_DELAY_MS;
        const results = await Promise.allSettled(Array.from({ length: PROCESSES }, (_, i) => runWorker(tool, startAt, db, `p${i}`)));
        const ports = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        errors += results.length - ports.length;
        for (const r of results) if (r.status === 'rejected') firstErrors.push(`${tool}: ${String(r.reason).split('\n')[0]}`);
        const d = duplicates(ports);
        dups += d;
        if (d > 0) badRounds++;
      }
      rows.push([tool, PROCESSES * ROUNDS, dups, `${badRounds}/${ROUNDS}`, errors]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const markdown = [
    `${PROCESSES} processes start together (a shared start time, everything loaded first) and each asks its tool`,
    `for one port in ${RANGE}; ${ROUNDS} rounds per tool, each berth round on a fresh store.`,
    'A duplicate is an answer some other process in the same round also got.',
    '',
    mdTable(['tool', 'answers', 'duplicate answers', 'rounds with a duplicate', 'errors'], rows),
    ...(firstErrors.length ? ['', 'Errors seen:', '', ...firstErrors.slice(0, 5).map((e) => `- ${e}`)] : []),
  ].join('\n');
  return { title: 'The race: 8 processes, one small range', markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await raceBench()).markdown);
