/**
 * One process of the mixed-load stress test and the writers bench: after `ready`, waits for
 * `go` on stdin, then runs OPS operations on one store through the library (allocate, get,
 * release, reserve a pool slot, release it, reassign, list), as one scope.
 *
 * Usage: node mixed-worker.js DB SCOPE OPS SEED RANGE   (cwd: a directory whose berth.yaml
 * defines the pool MIXED_POOL). BERTH_MIXED_LIB names the library's index.js to load
 * (another build, for before/after benches); default this build's. DB may be a
 * postgres:// URL: the worker then writes as machine BERTH_MACHINE of that registry.
 *
 * Prints one JSON line per operation (MixedOp) and `{"done":true}` at the end. Every write
 * transaction's wait (from asking for it to its first statement) is timed from outside the
 * store, by wrapping `store.transaction`, so any build's store can be measured the same way.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { seededRandom as random } from '../helpers/random.js';

/** The pool every worker reserves from (defined in the cwd's berth.yaml). */
export const MIXED_POOL = 'mixed';
/** Its two roles. */
export const MIXED_ROLES = ['front', 'back'] as const;

/** What one operation did. */
export interface MixedOp {
  readonly i: number;
  readonly op: 'allocate' | 'get' | 'release' | 'reserve' | 'release-slot' | 'reassign' | 'list';
  readonly ok: boolean;
  /** Wall time of the whole operation, ms. */
  readonly ms: number;
  /** For each write transaction of the operation: ms from asking to getting it. */
  readonly waits: readonly number[];
  /** For each write transaction of the operation: ms from getting it to its end (commit or rollback). */
  readonly holds: readonly number[];
  /** On failure: the error's kind (`store`, `refused`, ...; `unexpected` for a non-berth error) and message. */
  readonly kind?: string;
  readonly message?: string;
  /** Leases created by this operation: name -> port. */
  readonly created?: Readonly<Record<string, number>>;
  /** Names released by this operation. */
  readonly deleted?: readonly string[];
  /** A reassign: name, from, to. */
  readonly moved?: { readonly name: string; readonly from: number; readonly to: number };
  /** A reserve: the slot held. */
  readonly slot?: number;
}


interface LeaseLike {
  readonly name: string;
  readonly port: number;
  readonly slot: number | null;
}

async function main(): Promise<void> {
  const [db, scope, opsText, seedText, rangeText] = process.argv.slice(2);
  const [start, end] = rangeText!.split('-').map(Number) as [number, number];
  const here = path.dirname(fileURLToPath(import.meta.url));
  const libFile = process.env.BERTH_MIXED_LIB ?? path.join(here, '..', '..', 'src', 'index.js');
  // Any build's library: only what both old and new builds offer is used.
  const lib = (await import(pathToFileURL(libFile).href)) as typeof import('../../src/index.js');
  const store = /^postgres(ql)?:\/\//.test(db!)
    ? await (await import(pathToFileURL(path.join(path.dirname(libFile), 'store', 'postgres', 'open.js')).href)).openPostgresStore(db!, { host: process.env.BERTH_MACHINE })
    : lib.openSqliteStore(db!);
  let waits: number[] = [];
  let holds: number[] = [];
  const transaction = store.transaction.bind(store);
  store.transaction = ((mode: 'read' | 'write', fn: (tx: unknown) => Promise<unknown>, ...rest: unknown[]) => {
    const asked = performance.now();
    let got = 0;
    const timed = async (tx: unknown) => {
      got = performance.now();
      if (mode === 'write') waits.push(got - asked);
      return fn(tx);
    };
    const ended = () => {
      if (mode === 'write' && got > 0) holds.push(performance.now() - got);
    };
    const result = (transaction as (...args: unknown[]) => Promise<unknown>)(mode, timed, ...rest);
    result.then(ended, ended);
    return result;
  }) as typeof store.transaction;
  const berth = await lib.openBerth({ store, scope, cwd: process.cwd(), env: {} });
  const rand = random(Number(seedText));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const mine = new Map<string, number>();
  let slot: number | null = null;
  let fresh = 0;

  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    let input = '';
    process.stdin.on('data', (chunk) => {
      input += chunk;
      if (input.includes('go')) resolve();
    });
  });
  process.stdin.pause();

  for (let i = 0; i < Number(opsText); i++) {
    const r = rand();
    let op: MixedOp['op'] =
      r < 0.3 ? 'allocate' : r < 0.45 ? 'get' : r < 0.6 ? 'release' : r < 0.75 ? 'reserve' : r < 0.9 ? 'reassign' : 'list';
    if ((op === 'get' || op === 'release' || op === 'reassign') && mine.size === 0) op = 'allocate';
    if (op === 'reserve' && slot !== null && rand() < 0.5) op = 'release-slot';
    waits = [];
    holds = [];
    const began = performance.now();
    const done = (extra: Partial<MixedOp>): MixedOp => ({ i, op, ok: true, ms: performance.now() - began, waits, holds, ...extra });
    let line: MixedOp;
    try {
      switch (op) {
        case 'allocate': {
          const name = `n${fresh++}`;
          const [lease] = (await berth.allocate([{ name, range: { start, end } }])) as LeaseLike[];
          mine.set(name, lease!.port);
          line = done({ created: { [name]: lease!.port } });
          break;
        }
        case 'get': {
          const name = pick([...mine.keys()]);
          const lease = (await berth.get(name)) as LeaseLike;
          if (lease.port !== mine.get(name)) throw new Error(`get ${name}: port ${lease.port}, expected ${mine.get(name)}`);
          line = done({});
          break;
        }
        case 'release': {
          const name = pick([...mine.keys()]);
          const gone = (await berth.release([name])) as LeaseLike[];
          mine.delete(name);
          line = done({ deleted: gone.map((l) => l.name) });
          break;
        }
        case 'reserve': {
          const held = slot !== null;
          const leases = (await berth.reserve(MIXED_POOL)) as LeaseLike[];
          slot = leases[0]!.slot;
          line = done({ slot: slot!, created: held ? {} : Object.fromEntries(leases.map((l) => [l.name, l.port])) });
          break;
        }
        case 'release-slot': {
          const gone = (await berth.release([MIXED_ROLES[0]])) as LeaseLike[];
          slot = null;
          line = done({ deleted: gone.map((l) => l.name) });
          break;
        }
        case 'reassign': {
          const name = pick([...mine.keys()]);
          const from = mine.get(name)!;
          let to = start + Math.floor(rand() * (end - start + 1));
          if (to === from) to = to === end ? start : to + 1;
          const lease = (await berth.reassign(name, to)) as LeaseLike;
          mine.set(name, lease.port);
          line = done({ moved: { name, from, to: lease.port } });
          break;
        }
        case 'list': {
          await berth.list({ scope });
          line = done({});
          break;
        }
      }
    } catch (err) {
      const kind = err instanceof lib.BerthError ? err.kind : 'unexpected';
      line = { i, op, ok: false, ms: performance.now() - began, waits, holds, kind, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      if (kind !== 'unexpected') line = { ...line, message: (err as Error).message };
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  await berth.close();
  process.stdout.write('{"done":true}\n');
}

// `node --test build/test/` also runs this file, without arguments: then there is nothing to do.
if (process.argv.length >= 7) await main();
