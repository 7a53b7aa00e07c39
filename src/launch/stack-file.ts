/**
 * What a supervisor records about its stack in the state directory, so that `berth ps`,
 * `berth logs` and `berth down` in another terminal work, and `down` still finds every
 * process after the supervisor was SIGKILLed: pids with their start times (a reused pid
 * is never taken for one of ours), process groups and the marker each service's
 * processes carry in their environment.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceStatus } from '../engine/index.js';

/** Version of the file's shape. */
export const STACK_FILE_VERSION = 1;

/** One process of a service as recorded: pid and the identity (pid@start time) it had. */
export interface RecordedProcess {
  readonly pid: number;
  readonly identity: string | null;
}

/** One service as recorded. */
export interface RecordedService extends ServiceStatus {
  readonly pgid: number | null;
  /** `NAME=value` in the environment of every process of this launch of the service. */
  readonly marker: string | null;
  readonly processes: readonly RecordedProcess[];
  readonly stopSignal: string;
  readonly graceMs: number;
  readonly log: string;
}

/** The whole file. */
export interface StackRecord {
  readonly version: number;
  readonly scope: string;
  readonly configFile: string | null;
  readonly supervisor: RecordedProcess & { readonly startedAt: string };
  /** Start order. */
  readonly order: readonly string[];
  readonly services: readonly RecordedService[];
}

/** The directory of one scope's stack: its record and its services' logs. */
export function stackDir(stateDir: string, scope: string): string {
  return path.join(stateDir, 'stacks', encodeURIComponent(scope));
}

/** The log file of one service. */
export function logPath(stateDir: string, scope: string, service: string): string {
  return path.join(stackDir(stateDir, scope), `${encodeURIComponent(service)}.log`);
}

const RECORD = 'stack.json';

/** Creates the stack directory (0700: logs can hold secrets). */
export function ensureStackDir(stateDir: string, scope: string): string {
  const dir = stackDir(stateDir, scope);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes the record atomically (rename), so a reader never sees half of it. */
export function writeStackRecord(stateDir: string, record: StackRecord): void {
  const dir = ensureStackDir(stateDir, record.scope);
  const tmp = path.join(dir, `${RECORD}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path.join(dir, RECORD));
}

/** Every stack record of the state directory (each scope launched here, running or not), by scope. */
export function listStackRecords(stateDir: string): StackRecord[] {
  let names: string[];
  try {
    names = readdirSync(path.join(stateDir, 'stacks'));
  } catch {
    return []; // Nothing was ever launched here.
  }
  const out: StackRecord[] = [];
  for (const name of names.sort()) {
    let scope: string;
    try {
      scope = decodeURIComponent(name);
    } catch {
      continue; // Not a directory stackDir made.
    }
    const record = readStackRecord(stateDir, scope);
    if (record !== null && record.scope === scope) out.push(record);
  }
  return out;
}

/** The record of `scope`'s stack, or null when none was ever written or it is unreadable. */
export function readStackRecord(stateDir: string, scope: string): StackRecord | null {
  try {
    const record = JSON.parse(readFileSync(path.join(stackDir(stateDir, scope), RECORD), 'utf8')) as StackRecord;
    return record.version === STACK_FILE_VERSION ? record : null;
  } catch {
    // Absent (never launched here) or cut short: there is no stack to speak of.
    return null;
  }
}
