/**
 * The store conformance suite: written against the Store interface, not a backend.
 * Every backend runs it (sqlite-store.test.ts, memory-store.test.ts; PostgreSQL later).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError, StoreError, UsageError } from '../../src/errors.js';
import { claimConformance } from './conformance-claim.js';
import { historyConformance } from './conformance-history.js';
import { lease, useStore, type StoreFactory } from './conformance-kit.js';
import { poolConformance } from './conformance-pools.js';

export type { StoreFactory } from './conformance-kit.js';

/** Registers the suite for one backend. */
export function storeConformance(backend: string, factory: StoreFactory): void {
  describe(`store conformance: ${backend}`, () => {
    describe('leases, scopes and scan hints', () => {
      const subject = useStore(factory);
      const { write } = subject;

      it('inserts a lease and reads it back by name and by port', async () => {
        const made = await write(async (tx) => tx.insertLease(lease({ purpose: 'http "x"', ephemeral: true, pid: 42 })));
        assert.equal(made.port, 4000);
        assert.equal(made.ephemeral, true);
        assert.equal(made.pid, 42);
        assert.match(made.createdAt, /^\d{4}-\d\d-\d\dT/);
        await subject.read(async (tx) => {
          assert.deepEqual(await tx.getLease('h1', 'app1', 'web'), made);
          assert.deepEqual(await tx.leaseAt('h1', 'tcp', 4000), made);
          assert.equal(await tx.leaseAt('h1', 'udp', 4000), null);
          assert.equal(await tx.leaseAt('h2', 'tcp', 4000), null);
        });
      });

      it("keeps a lease's strategy: inserted, read back, changed by a move, kept by other updates", async () => {
        const made = await write(async (tx) => tx.insertLease(lease({ strategy: 'hash' })));
        assert.equal(made.strategy, 'hash');
        await write(async (tx) => tx.insertLease(lease({ name: 'old', port: 4001 })));
        await subject.read(async (tx) => {
          assert.deepEqual(await tx.getLease('h1', 'app1', 'web'), made);
          assert.deepEqual((await tx.listLeases({ host: 'h1' })).map((l) => [l.name, l.strategy]), [['web', 'hash'], ['old', null]]);
        });
        const kept = await write(async (tx) => tx.updateLease('h1', 'app1', 'web', { pid: 7, ephemeral: true }));
        assert.equal(kept.strategy, 'hash', 'an update that does not say keeps it');
        const moved = await write(async (tx) => tx.updateLease('h1', 'app1', 'web', { port: 4002, strategy: 'fixed' }));
        assert.equal(moved.strategy, 'fixed');
        await subject.read(async (tx) => assert.equal((await tx.getLease('h1', 'app1', 'web'))?.strategy, 'fixed'));
      });

      it('refuses a second lease on the same host, protocol and port', async () => {
        await write(async (tx) => tx.insertLease(lease()));
        await assert.rejects(write(async (tx) => tx.insertLease(lease({ scope: 'app2' }))), (err) => err instanceof ConflictError && /app1\/web/.test(err.message));
        // Other protocol and other host are separate namespaces.
        await write(async (tx) => tx.insertLease(lease({ scope: 'app2', protocol: 'udp' })));
        await write(async (tx) => tx.insertLease(lease({ host: 'h2' })));
      });

      it('refuses a second lease with the same scope and name', async () => {
        await write(async (tx) => tx.insertLease(lease()));
        await assert.rejects(write(async (tx) => tx.insertLease(lease({ port: 4001 }))), (err) => err instanceof ConflictError && /app1\/web already holds port 4000/.test(err.message));
      });

      it('refuses a port outside 1-65535, inserted or moved to', async () => {
        await assert.rejects(write(async (tx) => tx.insertLease(lease({ port: 70000 }))), (err) => err instanceof UsageError && /70000\/tcp cannot be leased/.test(err.message));
        await write(async (tx) => tx.insertLease(lease()));
        await assert.rejects(write(async (tx) => tx.updateLease('h1', 'app1', 'web', { port: 0 })), UsageError);
        assert.equal((await subject.read((tx) => tx.getLease('h1', 'app1', 'web')))?.port, 4000);
      });

      it('rolls back everything when the transaction throws', async () => {
        await assert.rejects(
          write(async (tx) => {
            await tx.insertLease(lease());
            await tx.ensureScope('h1', 'app1', '/tmp/x');
            throw new Error('boom');
          }),
          /boom/,
        );
        await subject.read(async (tx) => {
          assert.deepEqual(await tx.listLeases(), []);
          assert.deepEqual(await tx.listScopes(), []);
        });
      });

      it('lists with filters, ordered by scope then pool slot then port', async () => {
        await write(async (tx) => {
          await tx.insertLease(lease({ scope: 'b', name: 'x', port: 4005 }));
          await tx.insertLease(lease({ scope: 'a', name: 'y', port: 4009 }));
          await tx.insertLease(lease({ scope: 'a', name: 'z', port: 4001 }));
          await tx.insertLease(lease({ scope: 'a', name: 'r1', port: 5001, pool: 'p', slot: 0 }));
          await tx.insertLease(lease({ host: 'h2', scope: 'a', name: 'q', port: 1 }));
        });
        await subject.read(async (tx) => {
          const all = await tx.listLeases({ host: 'h1' });
          assert.deepEqual(all.map((l) => `${l.scope}/${l.name}`), ['a/z', 'a/y', 'a/r1', 'b/x']);
          assert.deepEqual((await tx.listLeases({ host: 'h1', scope: 'b' })).map((l) => l.name), ['x']);
          assert.deepEqual((await tx.listLeases({ pool: 'p' })).map((l) => l.name), ['r1']);
          assert.equal((await tx.listLeases()).length, 5);
        });
      });

      it('updates a lease port and pid; refuses a port another lease holds', async () => {
        await write(async (tx) => {
          await tx.insertLease(lease());
          await tx.insertLease(lease({ name: 'api', port: 4001 }));
        });
        const moved = await write(async (tx) => tx.updateLease('h1', 'app1', 'web', { port: 4100, pid: 7, ephemeral: true }));
        assert.equal(moved.port, 4100);
        assert.equal(moved.pid, 7);
        await assert.rejects(write(async (tx) => tx.updateLease('h1', 'app1', 'web', { port: 4001 })), (e) => e instanceof ConflictError && /app1\/api/.test(e.message));
        await assert.rejects(write(async (tx) => tx.updateLease('h1', 'app1', 'nope', { port: 4002 })), NotFoundError);
      });

      it('deletes leases and scopes', async () => {
        await write(async (tx) => {
          await tx.ensureScope('h1', 'app1', '/tmp/app1');
          await tx.insertLease(lease());
          await tx.insertLease(lease({ name: 'api', port: 4001 }));
        });
        const gone = await write(async (tx) => tx.deleteLease('h1', 'app1', 'web'));
        assert.equal(gone?.port, 4000);
        assert.equal(await write(async (tx) => tx.deleteLease('h1', 'app1', 'web')), null);
        const scopeLeases = await write(async (tx) => tx.deleteScope('h1', 'app1'));
        assert.deepEqual(scopeLeases.map((l) => l.name), ['api']);
        await subject.read(async (tx) => {
          assert.equal(await tx.getScope('h1', 'app1'), null);
          assert.deepEqual(await tx.listLeases(), []);
        });
      });

      it('remembers the directory a scope came from, filling it in once', async () => {
        const s1 = await write(async (tx) => tx.ensureScope('h1', 's', null));
        assert.equal(s1.directory, null);
        const s2 = await write(async (tx) => tx.ensureScope('h1', 's', '/work/s'));
        assert.equal(s2.directory, '/work/s');
        const s3 = await write(async (tx) => tx.ensureScope('h1', 's', '/elsewhere'));
        assert.equal(s3.directory, '/work/s');
        assert.deepEqual((await subject.read((tx) => tx.listScopes('h1'))).map((s) => s.name), ['s']);
      });

      it('reports which scope holds which pool slot', async () => {
        await write(async (tx) => {
          await tx.insertLease(lease({ scope: 'a', name: 'be', port: 5001, pool: 'p', slot: 0 }));
          await tx.insertLease(lease({ scope: 'a', name: 'fe', port: 8001, pool: 'p', slot: 0 }));
          await tx.insertLease(lease({ scope: 'b', name: 'be', port: 5003, pool: 'p', slot: 1 }));
        });
        assert.deepEqual(await subject.read((tx) => tx.poolSlots('h1', 'p')), [
          { slot: 0, scope: 'a' },
          { slot: 1, scope: 'b' },
        ]);
      });

      it('keeps scan hints below every freed port', async () => {
        await write(async (tx) => {
          for (let p = 4000; p < 4010; p++) await tx.insertLease(lease({ name: `s${p}`, port: p }));
          await tx.setScanHint('h1', 'tcp', 4000, 4010);
          await tx.setScanHint('h1', 'tcp', 4005, 4010);
          await tx.setScanHint('h1', 'udp', 4000, 4010);
        });
        assert.equal(await subject.read((tx) => tx.getScanHint('h1', 'tcp', 4000)), 4010);
        await write(async (tx) => tx.deleteLease('h1', 'app1', 's4003'));
        await subject.read(async (tx) => {
          assert.equal(await tx.getScanHint('h1', 'tcp', 4000), 4003, 'a hint starting below the freed port drops to it');
          assert.equal(await tx.getScanHint('h1', 'tcp', 4005), 4010, 'a hint starting above the freed port is unaffected');
          assert.equal(await tx.getScanHint('h1', 'udp', 4000), 4010, 'other protocols are unaffected');
        });
        await write(async (tx) => tx.updateLease('h1', 'app1', 's4007', { port: 4500 }));
        assert.equal(await subject.read((tx) => tx.getScanHint('h1', 'tcp', 4005)), 4007, 'moving a lease frees its old port');
      });

      it('answers every lookup of one read transaction as its snapshot has it, in any order, around a scan hint', async () => {
        // A backend may read ahead of a hint (PostgreSQL reads the leases of the ports after
        // it with the hint): each answer must still be the row, or null, port by port.
        const leased = [4100, 4103, 4163, 4164, 4200];
        await write(async (tx) => {
          for (const port of leased) await tx.insertLease(lease({ name: `w${port}`, port }));
          await tx.insertLease(lease({ name: 'u4101', port: 4101, protocol: 'udp' }));
          await tx.insertLease(lease({ host: 'h2', name: 'o4102', port: 4102 }));
          await tx.setScanHint('h1', 'tcp', 4000, 4100);
        });
        await subject.read(async (tx) => {
          assert.equal((await tx.leaseAt('h1', 'tcp', 4164))?.name, 'w4164', 'asked before the hint');
          assert.equal(await tx.getScanHint('h1', 'tcp', 4000), 4100);
          for (let port = 4095; port <= 4205; port++) {
            const at = await tx.leaseAt('h1', 'tcp', port);
            assert.equal(at?.name ?? null, leased.includes(port) ? `w${port}` : null, `tcp ${port}`);
          }
          assert.equal((await tx.leaseAt('h1', 'udp', 4101))?.name, 'u4101', 'another protocol is its own');
          assert.equal(await tx.leaseAt('h1', 'udp', 4100), null);
          assert.equal((await tx.leaseAt('h2', 'tcp', 4102))?.name, 'o4102', 'another host is its own');
          assert.equal(await tx.getScanHint('h1', 'tcp', 4000), 4100, 'the same hint asked again');
          assert.equal(await tx.getScanHint('h1', 'tcp', 4100), null, 'a start with no hint');
        });
        await write(async (tx) => tx.deleteLease('h1', 'app1', 'w4103'));
        await subject.read(async (tx) => {
          assert.equal(await tx.getScanHint('h1', 'tcp', 4000), 4100);
          assert.equal(await tx.leaseAt('h1', 'tcp', 4103), null, 'a later transaction sees the release');
        });
      });

      it('reset forgets everything', async () => {
        await write(async (tx) => {
          await tx.ensureScope('h1', 's', null);
          await tx.insertLease(lease());
          await tx.setScanHint('h1', 'tcp', 4000, 4001);
          await tx.reset('h1');
        });
        await subject.read(async (tx) => {
          assert.deepEqual(await tx.listLeases(), []);
          assert.deepEqual(await tx.listScopes(), []);
          assert.equal(await tx.getScanHint('h1', 'tcp', 4000), null);
        });
      });

      it('serialises concurrent transactions within one process', async () => {
        // 50 concurrent read-check-write sequences on the same counter lease.
        await write(async (tx) => tx.insertLease(lease({ name: 'counter', port: 10000 })));
        await Promise.all(
          Array.from({ length: 50 }, () =>
            write(async (tx) => {
              const l = (await tx.getLease('h1', 'app1', 'counter'))!;
              await new Promise((r) => setImmediate(r));
              await tx.updateLease('h1', 'app1', 'counter', { port: l.port + 1 });
            }),
          ),
        );
        assert.equal((await subject.read((tx) => tx.getLease('h1', 'app1', 'counter')))!.port, 10050);
      });

      it('refuses transactions once closed; closing twice is harmless', async () => {
        const pending = write(async (tx) => tx.insertLease(lease()));
        await subject.store.close();
        assert.equal((await pending).port, 4000, 'close waits for the transactions already asked for');
        await assert.rejects(subject.read((tx) => tx.listLeases()), StoreError);
        await subject.store.close();
      });
    });

    historyConformance(factory);
    poolConformance(factory);
    claimConformance(factory);
  });
}
