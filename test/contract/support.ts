/**
 * What every area of the engine contract suite shares: the harness types, a per-test lab
 * (temp projects, quiet port bands, live and dead owner pids, port holders) that works the
 * same on a fake machine and on this one, and the error assertion every test uses.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { it, type TestContext } from 'node:test';
import { BerthError, errorFromJSON, EXIT } from '../../src/errors.js';
import type { Engine } from '../../src/engine/index.js';
import { isPortFree } from '../../src/os/bind-probe.js';
import type { FakeMachine } from '../helpers/fake-machine.js';
import { startNode, stopNode, TCP_LISTENER, type Helper } from '../os/helpers.js';

/** One engine under test, fresh for one test. */
export interface EngineHarness {
  readonly engine: Engine;
  /** The machine the engine asks, when it is a fake one; absent on the real machine. */
  readonly machine?: FakeMachine;
  /** A temp directory, the engine's default working directory; it holds no berth.yaml. */
  readonly dir: string;
  /** True when the engine asks this machine's OS (real sockets, real processes). */
  readonly real: boolean;
  /**
   * Another engine on the same store, as another process sees it (the events feed must
   * deliver its changes). Closed by cleanup. Absent when the backend cannot share.
   */
  peer?(): Promise<Engine>;
  /** Closes the engine (and its peers) and removes the temp directory. */
  cleanup(): Promise<void>;
}

/**
 * A harness on this machine's OS: `engine` in `dir`, peers made by `openPeer` (each
 * closed by cleanup), then `engine` closed, `stop` run (a daemon to stop) and `dir`
 * removed. The runners differ only in how they open engines.
 */
export function realHarness(engine: Engine, dir: string, openPeer: () => Engine | Promise<Engine>, stop: () => Promise<void> = async () => {}): EngineHarness {
  const peers: Engine[] = [];
  return {
    engine,
    dir,
    real: true,
    async peer() {
      const other = await openPeer();
      peers.push(other);
      return other;
    },
    async cleanup() {
      for (const p of peers) await p.close();
      await engine.close();
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Makes a fresh harness; every test makes its own and cleans it up. */
export type HarnessFactory = () => Promise<EngineHarness>;

/** Every contract test ends within this, even when an engine hangs. */
export const TEST_TIMEOUT_MS = 60_000;
/** Longest wait for something asynchronous to show (an event on the feed). */
export const WAIT_MS = 5_000;

/** Exit code of each error kind the suite provokes (DESIGN.md, "Exit codes"). */
const EXIT_OF_KIND: Readonly<Record<string, number>> = {
  usage: EXIT.BAD_INPUT,
  config: EXIT.BAD_INPUT,
  'not-found': EXIT.ABSENT,
  exhausted: EXIT.EXHAUSTED,
  conflict: EXIT.REFUSED,
  refused: EXIT.REFUSED,
};

/** A live pid the test owns, and how to end it. */
export interface Owner {
  readonly pid: number;
  /** Ends the process and waits until it is gone (reaped). */
  end(): Promise<void>;
}

/** Someone holding a port, and how to let go. */
export interface Holder {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/** Fake pids start here: far above any real pid, so a fake can never name a real process. */
const FAKE_PID_BASE = 3_000_000;
/** Real port bands are drawn from here, below Linux's ephemeral range and past every browser-unsafe port. */
const REAL_BAND_LOW = 20_000;
const REAL_BAND_HIGH = 31_999;

/** One test's world: its harness, temp projects, owners and holders, all undone by close(). */
export class Lab {
  private nextFake = FAKE_PID_BASE;
  private nextBand = REAL_BAND_LOW;
  private readonly undo: (() => Promise<void>)[] = [];

  constructor(readonly h: EngineHarness) {}

  get engine(): Engine {
    return this.h.engine;
  }

  /** The fake machine; throws on the real one (call only after checking `h.real`). */
  get fake(): FakeMachine {
    assert.ok(this.h.machine, 'this test needs the fake machine');
    return this.h.machine;
  }

  /**
   * The first of `size` consecutive ports that are free now. On a fake machine every port
   * is free, so bands are handed out in order; on this one, a random quiet band.
   */
  async band(size: number): Promise<number> {
    if (!this.h.real) {
      const start = this.nextBand;
      this.nextBand += size + 10;
      return start;
    }
    for (let attempt = 0; attempt < 200; attempt++) {
      const start = REAL_BAND_LOW + Math.floor(Math.random() * (REAL_BAND_HIGH - REAL_BAND_LOW - size));
      let quiet = true;
      for (let p = start; p < start + size && quiet; p++) quiet = await isPortFree(p, 'tcp');
      if (quiet) return start;
    }
    throw new Error(`no ${size} quiet ports in a row from ${REAL_BAND_LOW} to ${REAL_BAND_HIGH}`);
  }

  /** A project directory `name` under the lab's directory, holding `yaml` as berth.yaml. */
  project(name: string, yaml: string): string {
    const dir = path.join(this.h.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'berth.yaml'), yaml);
    return dir;
  }

  /** A directory with no berth.yaml anywhere above it. */
  bare(name: string): string {
    const dir = path.join(this.h.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** A process that runs until ended: a fake process, or a real sleeping child. */
  async owner(): Promise<Owner> {
    if (!this.h.real) {
      const pid = this.nextFake++;
      this.fake.addProcess({ pid, ppid: process.pid, name: 'owner', command: `owner ${pid}` });
      return { pid, end: async () => this.fake.exit(pid) };
    }
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    const end = () => endChild(child);
    this.undo.push(end);
    return { pid: child.pid!, end };
  }

  /** A pid that named a process which has exited. */
  async deadPid(): Promise<number> {
    if (!this.h.real) return this.nextFake++;
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(child, 'exit');
    return child.pid!;
  }

  /**
   * Makes `port` taken on 127.0.0.1. `self`: by this very process (a server in the test);
   * `child`: by another process (a fake one, or a real child that listens).
   */
  async hold(port: number, by: 'self' | 'child' = 'self'): Promise<Holder> {
    if (!this.h.real) {
      const pid = by === 'self' ? process.pid : this.nextFake++;
      if (this.fake.processInfo(pid) === null) this.fake.addProcess({ pid, ppid: by === 'self' ? 1 : process.pid, name: 'node', command: `node listener ${port}` });
      this.fake.addListener({ port, pid });
      return { pid, port, stop: async () => void this.fake.removeListener(port, 'tcp', pid) };
    }
    if (by === 'child') {
      const helper: Helper = await startNode(TCP_LISTENER, ['127.0.0.1', String(port)]);
      const stop = () => stopNode(helper);
      this.undo.push(stop);
      return { pid: helper.pid, port, stop };
    }
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    const stop = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    this.undo.push(stop);
    return { pid: process.pid, port, stop };
  }

  /** Undoes everything the lab made, then the harness. */
  async close(): Promise<void> {
    for (const step of this.undo.reverse()) await step();
    await this.h.cleanup();
  }
}

async function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Runs `fn` in a fresh lab and always cleans it up. */
export async function withLab(make: HarnessFactory, fn: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = new Lab(await make());
  try {
    await fn(lab);
  } finally {
    await lab.close();
  }
}

/** A contract test's body: a fresh lab, and the test context (for skips). */
export type LabTest = (lab: Lab, t: TestContext) => Promise<void>;

/** The `it` of an area: each test gets a fresh lab from `make`, cleaned up after, and a time limit. */
export function labTest(make: HarnessFactory): (title: string, fn: LabTest) => void {
  return (title, fn) => it(title, { timeout: TEST_TIMEOUT_MS }, (t) => withLab(make, (lab) => fn(lab, t)));
}

/**
 * Skips the running test unless the lab's machine is `kind`, saying `why`; true when it
 * skipped (the caller returns). Which machine a harness has is known only once it is made.
 */
export function unless(lab: Lab, t: TestContext, kind: 'real' | 'fake', why: string): boolean {
  if (lab.h.real === (kind === 'real')) return false;
  t.skip(`${kind} machine only: ${why}`);
  return true;
}

/**
 * Asserts `promise` rejects with a `Class` error (message matching `pattern`), with the
 * exit code its kind maps to, and that `errorFromJSON(err.toJSON())` rebuilds the same
 * class, kind, exit code and message: what a remote caller gets back.
 */
export async function fails<E extends BerthError>(promise: Promise<unknown>, Class: abstract new (...args: never[]) => E, pattern?: RegExp): Promise<E> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${Class.name}, but the call succeeded`);
  assert.ok(caught instanceof Class, `expected ${Class.name}, got ${(caught as Error)?.constructor?.name}: ${(caught as Error)?.message}`);
  const err = caught as E;
  if (pattern) assert.match(err.message, pattern);
  const expectedExit = EXIT_OF_KIND[err.kind];
  if (expectedExit !== undefined) assert.equal(err.exitCode, expectedExit, `exit code of ${err.kind}`);
  const back = errorFromJSON(JSON.parse(JSON.stringify(err.toJSON())));
  assert.ok(back instanceof Class, `errorFromJSON gave ${back.constructor.name}, not ${Class.name}`);
  assert.equal(back.constructor, err.constructor);
  assert.equal(back.kind, err.kind);
  assert.equal(back.exitCode, err.exitCode);
  assert.equal(back.message, err.message);
  return err;
}

/** Waits until `check` returns a value (not undefined), at most `ms`; throws naming `what` otherwise. */
export async function waitFor<T>(what: string, check: () => T | undefined, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Ports of leases, in order. */
export const portsOf = (leases: readonly { readonly port: number }[]): number[] => leases.map((l) => l.port);
/** `scope/name` of leases, sorted. */
export const namesOf = (leases: readonly { readonly scope: string; readonly name: string }[]): string[] => leases.map((l) => `${l.scope}/${l.name}`).sort();
/** A band as an AllocationRequest range. */
export const range = (start: number, size: number) => ({ start, end: start + size - 1 });
