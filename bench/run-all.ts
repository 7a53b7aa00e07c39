/**
 * `npm run bench`: runs every benchmark and rewrites BENCHMARKS.md with the results.
 * Each benchmark compares berth with what a user would use instead, in the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './stats.js';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'BENCHMARKS.md');
/** Module names under bench/ (compiled to build/bench/), in report order. */
const BENCHES = ['race', 'startup', 'throughput', 'listeners', 'kill', 'contention', 'writers', 'api', 'launch'];

const sections: string[] = [];
for (const name of BENCHES) {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  if (!fs.existsSync(file)) continue;
  process.stderr.write(`bench: ${name} ...\n`);
  const started = Date.now();
  const mod = (await import(file)) as { default: () => Promise<BenchSection> };
  const section = await mod.default();
  process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  sections.push(`## ${section.title}\n\n${section.markdown}\n`);
}

const header = [
  '# Benchmarks',
  '',
  'Produced by `npm run bench` (bench/run-all.ts), which rewrites this file. Every figure',
  'compares berth with what a user would reach for instead, measured in the same run on the',
  `same machine (${os.cpus().length} cores, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version},`,
  `${new Date().toISOString().slice(0, 10)}). These machines are shared and noisy: read the ratios, not the milliseconds.`,
  '',
].join('\n');
fs.writeFileSync(OUT, `${header}\n${sections.join('\n')}`);
process.stderr.write(`bench: wrote ${OUT}\n`);
