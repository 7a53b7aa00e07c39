/**
 * Who owns a lease when it is asked for again: ephemeral owners, fixed ports, pool slots
 * released whole, reserved ports. Through the built CLI, with real processes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  children.push(child);
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

const run = (args: string[]) => berth(args, { cwd: dir, db });
const leases = (args: string[]) => {
  const res = run([...args, '--json']);
  assert.equal(res.code, 0, res.stderr);
  return json<Lease[]>(res);
};

describe('lease ownership', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      'project: own\nreserved: [27601]\npools:\n  p:\n    ports: { backend: 27701, frontend: 27801 }\n    slots: 2\n',
    );
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    cleanup();
  });

  it('an ephemeral lease needs a live owner', async () => {
    const pid = await deadPid();
    const res = run(['allocate', 'web', '--ephemeral', '--pid', String(pid), '--range', '27500-27599']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, new RegExp(`pid ${pid} is not running`));
  });

  it('a live owner keeps its ephemeral lease; a dead owner hands it on', async () => {
    const a = sleeper();
    const b = sleeper();
    const [first] = leases(['allocate', 'eph', '--ephemeral', '--pid', String(a.pid), '--range', '27500-27599']);
    assert.equal(first!.pid, a.pid);

    const taken = run(['allocate', 'eph', '--ephemeral', '--pid', String(b.pid), '--range', '27500-27599']);
    assert.equal(taken.code, 4);
    assert.match(taken.stderr, new RegExp(`belongs to pid ${a.pid}, which is still running`));
    const [read] = leases(['allocate', 'eph']);
    assert.equal(read!.pid, a.pid, 'a sticky get reads the lease without taking it');

    a.kill('SIGKILL');
    await new Promise((r) => a.on('exit', r));
    const [handed] = leases(['allocate', 'eph', '--ephemeral', '--pid', String(b.pid), '--range', '27500-27599']);
    assert.equal(handed!.port, first!.port);
    assert.equal(handed!.pid, b.pid, 'the new owner holds it, so gc will not free it under them');
    const gc = json<{ deadLeases: Lease[] }>(run(['gc', '--json']));
    assert.deepEqual(gc.deadLeases, []);
  });

  it('asking for a fixed port a lease does not have is a conflict, not a silent other port', () => {
    const [x] = leases(['allocate', 'fx', '--range', '27550-27599']);
    const res = run(['allocate', 'fx', '--port', '27560']);
    assert.equal(res.code, 4);
    assert.match(res.stderr, new RegExp(`own/fx already holds port ${x!.port}, not 27560.*berth reassign fx 27560`));
  });

  it('a reserved port is not leased as a fixed port without --force', () => {
    const res = run(['allocate', 'rs', '--port', '27601']);
    assert.equal(res.code, 4);
    assert.match(res.stderr, /27601 .*reserved in berth\.yaml.*--force/);
    assert.equal(run(['get', 'rs']).code, 1, 'nothing was leased');
    assert.deepEqual(leases(['allocate', 'rs', '--port', '27601', '--force']).map((l) => l.port), [27601]);
  });

  it('releasing one role of a pool slot releases the whole slot; reserve gives a whole one again', () => {
    leases(['reserve', '--scope', 's1']);
    const released = leases(['release', 'backend', '--scope', 's1']);
    assert.deepEqual(released.map((l) => l.name).sort(), ['backend', 'frontend']);
    assert.deepEqual(leases(['list', '--scope', 's1']), []);
    const again = leases(['reserve', '--scope', 's1']);
    assert.deepEqual(again.map((l) => [l.name, l.port]), [
      ['backend', 27701],
      ['frontend', 27801],
    ]);
  });

  it('a pool role cannot be reassigned off its slot', () => {
    const res = run(['reassign', 'backend', '27900', '--scope', 's1']);
    assert.equal(res.code, 4);
    assert.match(res.stderr, /role backend of pool p slot 0/);
  });

  it('naming a lease twice in release releases it once', () => {
    leases(['allocate', 'twice', '--range', '27950-27999']);
    const res = leases(['release', 'twice', 'twice']);
    assert.deepEqual(res.map((l) => l.name), ['twice']);
  });
});
