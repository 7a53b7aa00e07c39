/**
 * Small shared helpers for benchmarks: timing, medians, formatting.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** One benchmark's contribution to BENCHMARKS.md. */
export interface BenchSection {
  readonly title: string;
  readonly markdown: string;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Wall time of one synchronous whole-process run, in milliseconds. */
export function timeProcess(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv, cwd?: string): number {
  const start = performance.now();
  // stdout is a pipe, as in PORT=$(berth get web).
  const res = spawnSync(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - start;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  return ms;
}

/** `1.23` */
export function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** A markdown table. */
export function mdTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}
