/**
 * Contract: every allocation strategy, from berth.yaml (context `{dir}`) and from the
 * request with a named scope (context `{scope}`).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ConflictError, ExhaustedError, RefusedError, UsageError } from '../../src/errors.js';
import { isPortFree } from '../../src/os/bind-probe.js';
import { fails, portsOf, range, labTest, unless, type HarnessFactory } from './support.js';

/** FNV-1a, 32 bit, of `scope/name`: the documented stable hash of the hash strategy. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Registers the strategy tests. */
export function strategiesContract(name: string, make: HarnessFactory): void {
  const test = labTest(make);

  describe(`${name}: strategies`, () => {
    test('sequential from base (berth.yaml), idempotent, and the scope named by project:', async (lab) => {
      const b = await lab.band(10);
      const dir = lab.project('seq', `project: seq-proj\nbase: ${b}\nservices:\n  web:\n  api:\n  worker:\n`);
      const leases = await lab.engine.leases.allocate({ dir });
      assert.deepEqual(portsOf(leases), [b, b + 1, b + 2]);
      assert.deepEqual(leases.map((l) => `${l.scope}/${l.name}`), ['seq-proj/web', 'seq-proj/api', 'seq-proj/worker']);
      assert.deepEqual(await lab.engine.leases.allocate({ dir }), leases, 'get-or-allocate');
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir }, [{ name: 'extra' }])), [b + 3]);
      // A named scope with the same berth.yaml: its own leases, after the project's.
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir, scope: 'seq/named' }, [{ name: 'web' }])), [b + 4]);
      const project = await lab.engine.project({ dir });
      assert.equal(project.scope, 'seq-proj');
      assert.equal(project.explicit, false);
      assert.equal(project.projectDir, dir);
      assert.equal((await lab.engine.project({ dir, scope: 'seq/named' })).directory, null);
    });

    test('sequential from a request range, with a named scope and no berth.yaml', async (lab) => {
      const b = await lab.band(10);
      const got = await lab.engine.leases.allocate({ scope: 'seq/req' }, ['a', 'b'].map((n) => ({ name: n, strategy: 'sequential' as const, range: range(b, 10) })));
      assert.deepEqual(portsOf(got), [b, b + 1]);
    });

    test('fixed: the configured port; another project wanting it gets a conflict naming the holder', async (lab) => {
      const b = await lab.band(5);
      const a = lab.project('fixed-a', `services:\n  web: ${b}\n`);
      const c = lab.project('fixed-c', `services:\n  web:\n    port: ${b}\n`);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir: a })), [b]);
      await fails(lab.engine.leases.allocate({ dir: c }), ConflictError, new RegExp(`${b}.*fixed-a/web`));
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ scope: 'fixed/req' }, [{ name: 'x', port: b + 2, strategy: 'fixed' }])), [b + 2]);
    });

    test('fixed: a reserved port or one a process holds is refused unless forced', async (lab) => {
      const b = await lab.band(5);
      const dir = lab.project('fixed-r', `project: fr\nreserved: [${b}]\n`);
      await fails(lab.engine.leases.allocate({ dir }, [{ name: 'rs', port: b }]), RefusedError, /reserved/);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir }, [{ name: 'rs', port: b }], { force: true })), [b]);
      await lab.hold(b + 1);
      await fails(lab.engine.leases.allocate({ scope: 'fixed/held' }, [{ name: 'h', port: b + 1 }]), RefusedError, /in use/);
      assert.deepEqual(await lab.engine.leases.list({}, { scope: 'fixed/held' }), []);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ scope: 'fixed/held' }, [{ name: 'h', port: b + 1 }], { force: true })), [b + 1]);
    });

    test('preferred: the preferred port, then the next free one in its band (leased or held by a process)', async (lab) => {
      const b = await lab.band(10);
      const yaml = `ranges:\n  mine: ${b}-${b + 9}\nservices:\n  svc:\n    prefer: ${b}\n    category: mine\n`;
      const p1 = lab.project('pref-1', yaml);
      const p2 = lab.project('pref-2', yaml);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir: p1 })), [b]);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir: p2 })), [b + 1]);
      await lab.hold(b + 5);
      const req = { strategy: 'preferred' as const, prefer: b + 5, category: 'mine' };
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir: p1, scope: 'pref/x' }, [{ name: 'held', ...req }])), [b + 6], 'a held preferred port falls back');
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir: p1, scope: 'pref/y' }, [{ name: 'held', ...req }])), [b + 7]);
      // From the top of the band the walk wraps to its start: b+7 is leased, so b+8.
      const top = { prefer: b + 9, range: range(b + 7, 3) };
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ scope: 'pref/z' }, [{ name: 'top', ...top }])), [b + 9]);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ scope: 'pref/w' }, [{ name: 'top', ...top }])), [b + 8]);
    });

    test('preferred: a well-known name gets its customary port', async (lab, t) => {
      if (unless(lab, t, 'fake', 'on a real machine 5432 and 6379 may be anyone’s; only a fake one can promise them free')) return;
      const got = await lab.engine.leases.allocate({ scope: 'wk' }, [{ name: 'postgres' }, { name: 'redis' }]);
      assert.deepEqual(portsOf(got), [5432, 6379]);
      lab.fake.occupy(5433);
      const other = await lab.engine.leases.allocate({ scope: 'wk2' }, [{ name: 'postgres' }]);
      assert.equal(other[0]!.port, 5434, 'the next free port of the database category');
    });

    test('range and category: first free port in the band; exhausted when full, nothing half-done', async (lab) => {
      const b = await lab.band(20);
      const ctx = { scope: 'rng' };
      assert.deepEqual(portsOf(await lab.engine.leases.allocate(ctx, ['a', 'b', 'c'].map((n) => ({ name: n, range: range(b, 3) })))), [b, b + 1, b + 2]);
      await fails(lab.engine.leases.allocate(ctx, ['d', 'e'].map((n) => ({ name: n, range: range(b, 4) }))), ExhaustedError, new RegExp(`no free tcp port in ${b}-${b + 3}`));
      assert.deepEqual((await lab.engine.leases.list({}, { scope: 'rng' })).map((l) => l.name), ['a', 'b', 'c'], 'd was not kept when e failed');
      const dir = lab.project('cat', `project: cat\nranges:\n  api: ${b + 10}-${b + 19}\nservices:\n  gw:\n    category: api\n`);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir })), [b + 10]);
      assert.deepEqual(portsOf(await lab.engine.leases.allocate({ dir, scope: 'cat/named' }, [{ name: 'x', category: 'api' }, { name: 'y', strategy: 'range', category: 'api' }])), [b + 11, b + 12]);
      await fails(lab.engine.leases.allocate({ dir }, [{ name: 'z', category: 'nope' }]), UsageError, /unknown category 'nope'/);
    });

    test('hash: a stable port from scope/name, again after a release, probing on collision', async (lab, t) => {
      const band = { start: 21_000, end: 21_999 };
      const expected = band.start + (fnv1a('hash/app/web') % 1000);
      const fromYaml = band.start + (fnv1a('hashy/api') % 1000);
      // On a real machine the hashed ports may be anyone's; the hash is then untestable here.
      if (lab.h.real && !((await isPortFree(expected, 'tcp')) && (await isPortFree(fromYaml, 'tcp')))) return t.skip(`port ${expected} or ${fromYaml} is held by something else here`);
      const req = [{ name: 'web', strategy: 'hash' as const, range: band }];
      const [web] = await lab.engine.leases.allocate({ scope: 'hash/app' }, req);
      assert.equal(web!.port, expected);
      await lab.engine.leases.release({ scope: 'hash/app' }, ['web']);
      assert.equal((await lab.engine.leases.allocate({ scope: 'hash/app' }, req))[0]!.port, expected, 'stable after a release');
      // The same scope/name while another lease sits on its hashed port: the next port.
      await lab.engine.leases.release({ scope: 'hash/app' });
      await lab.engine.leases.allocate({ scope: 'hash/squat' }, [{ name: 'squatter', port: expected }]);
      const probed = (await lab.engine.leases.allocate({ scope: 'hash/app' }, req))[0]!.port;
      assert.ok(probed !== expected && probed >= band.start && probed <= band.end, `probed to ${probed}`);
      if (!lab.h.real) assert.equal(probed, expected === band.end ? band.start : expected + 1);
      const yaml = lab.project('hashy', `project: hashy\nranges:\n  h: ${band.start}-${band.end}\nservices:\n  api:\n    strategy: hash\n    category: h\n`);
      const [api] = await lab.engine.leases.allocate({ dir: yaml });
      assert.equal(api!.port, fromYaml);
    });
  });
}
