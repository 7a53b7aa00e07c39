/**
 * The engine checks its own inputs: the daemon passes request bodies straight to it, and
 * library callers skip the CLI's parsing. Each check throws UsageError (exit 2, HTTP 400)
 * naming the field and what is allowed.
 */
import { UsageError } from '../errors.js';
import type { AllocationRequest } from '../engine/index.js';
import { STRATEGIES, type PortRange, type StrategyName } from '../types.js';
import { makeRange, parsePort, parseProtocol } from '../config/ports.js';
import { checkLeaseName } from './scope.js';

/** Longest purpose berth stores. */
export const MAX_PURPOSE_CHARS = 500;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A whole number port given as a number: the engine takes data, not text (the faces parse text). */
export function checkPort(value: unknown, what = 'port'): number {
  if (typeof value !== 'number') throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: a port is a whole number from 1 to 65535.`);
  return parsePort(value, what);
}

/** A range given as `{start, end}` ports, start not above end. */
export function checkRange(value: unknown, what = 'range'): PortRange {
  if (!isObject(value)) throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: give {start, end}, e.g. {"start": 5000, "end": 5999}.`);
  return makeRange(checkPort(value.start, `${what} start`), checkPort(value.end, `${what} end`), what);
}

function textField(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string') throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: expected text.`);
  if (value.length > max) throw new UsageError(`${what} is ${value.length} characters long; at most ${max} are allowed.`);
  return value;
}

/** Checks one allocation request field by field; returns it as the engine uses it. */
export function checkRequest(value: unknown): AllocationRequest {
  if (!isObject(value)) throw new UsageError(`invalid allocation request ${JSON.stringify(value)}: expected an object with a name.`);
  if (typeof value.name !== 'string') throw new UsageError(`invalid name ${JSON.stringify(value.name)}: every request needs a lease name.`);
  const name = checkLeaseName(value.name);
  const out: { -readonly [K in keyof AllocationRequest]: AllocationRequest[K] } = { name };
  if (value.strategy !== undefined) {
    if (!STRATEGIES.includes(value.strategy as StrategyName)) throw new UsageError(`unknown strategy ${JSON.stringify(value.strategy)}. Use one of: ${STRATEGIES.join(', ')}.`);
    out.strategy = value.strategy as StrategyName;
  }
  if (value.port !== undefined) out.port = checkPort(value.port, 'port');
  if (value.prefer !== undefined) out.prefer = checkPort(value.prefer, 'prefer');
  if (value.range !== undefined) out.range = checkRange(value.range, 'range');
  if (value.category !== undefined) out.category = textField(value.category, 'category', 100);
  if (value.protocol !== undefined) out.protocol = parseProtocol(value.protocol);
  if (value.purpose !== undefined) out.purpose = textField(value.purpose, 'purpose', MAX_PURPOSE_CHARS);
  return out;
}

/** Checks one lease name given to the engine. */
export function checkName(value: unknown, what = 'name'): string {
  if (typeof value !== 'string') throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: a lease name is text, e.g. web.`);
  return checkLeaseName(value);
}

/** Checks a list of lease names (release, handOver). */
export function checkNames(value: unknown, what = 'names'): string[] {
  if (!Array.isArray(value)) throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: expected a list of lease names.`);
  return value.map((name) => {
    if (typeof name !== 'string') throw new UsageError(`invalid name ${JSON.stringify(name)} in ${what}: expected text.`);
    return checkLeaseName(name);
  });
}

/** Checks a pid: a whole number above 0. */
export function checkPid(value: unknown, what = 'pid'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: a pid is a whole number above 0.`);
  return value;
}

/** Checks an optional whole-number limit. */
export function checkLimit(value: unknown, what: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(value)}: expected a whole number from 1 to ${max}.`);
  }
  return value;
}
