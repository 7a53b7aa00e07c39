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
const BENCHES = ['race', 'startup', 'throughput', 'listeners', 'kill', 'contention', 'writers', 'api', 'postgres', 'launch', 'dashboard'];

/** `npm run bench -- api dashboard`: only these, their sections replaced in place; the others kept as they were. */
const only = process.argv.slice(2);
for (const name of only) if (!BENCHES.includes(name)) throw new Error(`unknown bench '${name}': one of ${BENCHES.join(', ')}`);
const today = new Date().toISOString().slice(0, 10);

const sections = new Map<string, string>();
for (const name of only.length > 0 ? only : BENCHES) {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  if (!fs.existsSync(file)) continue;
  process.stderr.write(`bench: ${name} ...\n`);
  const started = Date.now();
  const mod = (await import(file)) as { default: () => Promise<BenchSection> };
  const section = await mod.default();
  process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  sections.set(section.title, `## ${section.title}\n\n_Measured ${today} by \`npm run bench${only.length > 0 ? ` -- ${name}` : ''}\`._\n\n${section.markdown}\n`);
}

/** The sections of the file as it is, by title, in order (a partial run keeps the others). */
function existingSections(): Map<string, string> {
  const found = new Map<string, string>();
  if (!fs.existsSync(OUT)) return found;
  const parts = fs.readFileSync(OUT, 'utf8').split(/^(?=## )/m).slice(1);
  for (const part of parts) found.set(part.slice(3, part.indexOf('\n')).trim(), part.endsWith('\n\n') ? part.slice(0, -1) : part);
  return found;
}

const merged = only.length > 0 ? existingSections() : new Map<string, string>();
for (const [title, text] of sections) merged.set(title, text);

const header = [
  '# Benchmarks',
  '',
  'Produced by `npm run bench` (bench/run-all.ts), which rewrites this file; `npm run bench -- NAME...`',
  're-runs only those sections. Every figure compares berth with what a user would reach for',
  `instead, measured in the same run on the same machine (${os.cpus().length} cores, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'},`,
  `Node ${process.version}); each section says when. These machines are shared and noisy: read the ratios, not the milliseconds.`,
  '',
].join('\n');
fs.writeFileSync(OUT, `${header}\n${[...merged.values()].join('\n')}`);
process.stderr.write(`bench: wrote ${OUT}\n`);
