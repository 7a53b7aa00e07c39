/**
 * Why a pool slot cannot be had (shared/seeds/000 and 004; issue 10 item 5): `pools` says
 * what blocks a set that looks free (which port, held by which lease or process), the
 * full-pool error names it too, and changing `slots:` or base ports while sets are held is
 * reported by `check` and shown by `pools` (no more "-6 free of 5" hiding the held sets).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, tempDir } from '../helpers/cli.js';

interface Slot { slot: number; scope: string | null; blocked: string | null; changed: string | null }
interface Pool { used: number; free: number | null; blocked: number; slots: number | null; detail: Slot[] }

let dir: string;
let cleanup: () => void;
let db: string;
let server: net.Server;
let held: number;

const run = (args: string[]) => berth(args, { cwd: dir, db });
const ok = (args: string[]) => {
  const res = run(args);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};
const yaml = (slots: number, shift = 0) =>
  ['project: conductor', 'pools:', '  conductor:', `    ports: { postgres: ${held - 2 + shift}, mcp: ${held + 10}, admin: ${held + 20} }`, `    slots: ${slots}`, ''].join('\n');
const pool = () => json<Pool[]>(ok(['pools', '--json']))[0]!;

describe('pools: why a slot that looks free cannot be reserved', () => {
  before(async () => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    // This test's own listener: slot 2's postgres port is held by this very process.
    // Below the kernel's ephemeral range, where outgoing connections do not come and go.
    server = net.createServer();
    for (let attempt = 0; ; attempt++) {
      const port = 20000 + Math.floor(Math.random() * 9000);
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) break;
      if (attempt > 50) throw new Error('no free port to listen on between 20000 and 29000');
    }
    held = (server.address() as net.AddressInfo).port;
    fs.writeFileSync(path.join(dir, 'berth.yaml'), yaml(4));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    cleanup();
  });

  it('a slot blocked by a lease or a process says which port and who', () => {
    // Slot 1's admin port, taken by another scope's lease (--force, as a person might).
    ok(['allocate', 'ui', '--port', String(held + 21), '--force', '--scope', 'other']);
    const p = pool();
    assert.match(p.detail[1]!.blocked ?? '', new RegExp(`^admin ${held + 21} leased to other/ui$`));
    assert.match(p.detail[2]!.blocked ?? '', new RegExp(`^postgres ${held} in use by .*pid ${process.pid}`));
    assert.equal(p.detail[2]!.scope, null);
    const text = ok(['pools']).stdout;
    assert.match(text, /blocked: admin \d+ leased to other\/ui/);
    assert.match(text, new RegExp(`blocked: postgres ${held} in use by .*pid ${process.pid}`));
    assert.match(text, /\d+ blocked/);
  });

  it('the full-pool error names the holders and what blocks the other slots', () => {
    let full = run(['reserve', '--scope', 'ws-0']);
    for (let i = 1; full.code === 0 && i < 5; i++) full = run(['reserve', '--scope', `ws-${i}`]);
    assert.equal(full.code, 3, full.stderr);
    assert.match(full.stderr, /no free slot; held: slot 0: ws-0/);
    assert.match(full.stderr, /slot 1: admin \d+ leased to other\/ui/);
    assert.match(full.stderr, new RegExp(`slot 2: postgres ${held} in use by .*pid ${process.pid}`));
  });

  it('lowering slots: while sets are held: pools keeps showing them, check reports them', () => {
    const holders = pool().detail.filter((s) => s.scope !== null);
    const beyond = holders.filter((s) => s.slot >= 1);
    assert.ok(beyond.length > 0, `no slot above 0 is held: ${JSON.stringify(holders)}`);
    fs.writeFileSync(path.join(dir, 'berth.yaml'), yaml(1));
    const p = pool();
    assert.equal(p.used, holders.length);
    assert.equal(p.free, 0);
    assert.ok(p.free! >= 0);
    for (const s of beyond) {
      const shown = p.detail.find((d) => d.slot === s.slot);
      assert.equal(shown?.scope, s.scope, `held slot ${s.slot} is hidden`);
      assert.match(shown!.changed ?? '', /beyond the 1 slot\(s\) berth\.yaml now defines/);
    }
    assert.doesNotMatch(ok(['pools']).stdout, /-\d+ free/);
    const check = run(['check']);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`pool-slot-changed: ${beyond[0]!.scope}/\\w+ holds port \\d+ as \\w+ of pool conductor slot ${beyond[0]!.slot}`));
  });

  it('moving a base port while slot 0 is held is reported too', () => {
    fs.writeFileSync(path.join(dir, 'berth.yaml'), yaml(4, -1));
    const check = run(['check', '--json']);
    assert.equal(check.code, 1, check.stderr);
    const conflicts = json<{ kind: string; lease: { scope: string; name: string } | null; message: string }[]>(check);
    assert.ok(
      conflicts.some((c) => c.kind === 'pool-slot-changed' && c.lease?.scope === 'ws-0' && c.lease.name === 'postgres' && /now puts slot 0's postgres on/.test(c.message)),
      JSON.stringify(conflicts),
    );
    assert.match(pool().detail[0]!.changed ?? '', /postgres holds \d+, berth\.yaml now says \d+/);
  });
});
