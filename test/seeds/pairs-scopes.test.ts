/**
 * The model/app pairs seed (shared/seeds/004) and scope safety (issue 10 items 6, 7):
 * backend/frontend pairs from an open-ended pool per `model/app` scope, `list --scope
 * 'model_a/*'`, `berth stats`, and scripts that cannot act on the wrong scope.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import type { Stats } from '../../src/workflows/stats.js';
import { berth, json, storeState, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

const run = (args: string[]) => berth(args, { cwd: dir, db });
const ok = (args: string[]) => {
  const res = run(args);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};

describe('model/app pairs and scope safety', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    fs.writeFileSync(path.join(dir, 'berth.yaml'), 'pools:\n  pairs:\n    ports: { backend: 25001, frontend: 28001 }\n    step: 2\n');
    for (const scope of ['model_a/app1', 'model_a/app2', 'model_b/app1']) ok(['reserve', '--scope', scope]);
    ok(['allocate', 'cache', '--category', 'cache', '--scope', 'model_a/app1']);
  });
  after(() => cleanup());

  it("list --scope 'model_a/*' lists every scope under model_a/ and nothing else", () => {
    const leases = json<Lease[]>(ok(['list', '--scope', 'model_a/*', '--json']));
    assert.deepEqual([...new Set(leases.map((l) => l.scope))].sort(), ['model_a/app1', 'model_a/app2']);
    assert.equal(leases.length, 5);
  });

  it('stats: pool slots used and the next pair; leases per scope prefix and category', () => {
    const all = json<Stats>(ok(['stats', '--json']));
    assert.deepEqual(all.pools, [{ pool: 'pairs', slots: null, used: 3, free: null, nextSlot: 3, nextPorts: null }]);
    const byPrefix = json<Stats>(ok(['stats', '--scope', 'model_a/*', '--json']));
    assert.deepEqual(byPrefix.scopes.map((s) => [s.scope, s.scopes, s.leases]), [
      ['model_a/app1', 1, 3],
      ['model_a/app2', 1, 2],
    ]);
    assert.equal(byPrefix.scopes[0]!.byCategory.cache, 1);
    const top = json<Stats>(ok(['stats', '--scope', 'model_*', '--json']));
    assert.deepEqual(top.scopes.map((s) => [s.scope, s.scopes, s.leases]), [
      ['model_a/', 2, 5],
      ['model_b/', 1, 2],
    ]);
    assert.match(ok(['stats']).stdout, /^POOL\s+USED\s+FREE\s+NEXT SLOT/m);
  });

  it('scripts cannot act on the wrong scope', () => {
    const before = storeState(db, dir);
    const empty = run(['release', '--scope', '']);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /the scope is empty/);
    const unknown = run(['release', '--scope', 'model_c/app9']);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /scope model_c\/app9 holds no leases; nothing was released/);
    // Typed the way the seeds' scripts were: a hint, nothing done.
    const reserve = run(['reserve', 'my-workspace']);
    assert.equal(reserve.code, 2);
    assert.match(reserve.stderr, /berth reserve --scope my-workspace/);
    const release = run(['release', 'model_a/app2']);
    assert.equal(release.code, 2, 'a scope name is not a lease name');
    assert.equal(storeState(db, dir), before);
    ok(['allocate', 'web', '--scope', 'workspace-9', '--range', '29900-29999']);
    const asScope = run(['release', 'workspace-9', '--scope', 'model_b/app1']);
    assert.equal(asScope.code, 1);
    assert.match(asScope.stderr, /Did you mean the scope: `berth release --scope workspace-9`\?/);
  });
});
