/**
 * Scope identity (issue 10 item 3): a scope derived from a directory is unique to that
 * directory. Two repositories' `denver` worktrees (the Conductor and model/app seeds run
 * many of them) get separate scopes, and `gc` after deleting one keeps the other's ports.
 * A named scope tied to a directory with `--dir` is reclaimed by gc once it is gone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, berthAsync, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

const ok = (args: string[], cwd: string) => {
  const res = berth(args, { cwd, db });
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};
/** The leases of the scope that `cwd` resolves to (`berth list` alone lists every scope). */
const leases = (cwd: string, scope: string) => json<Lease[]>(ok(['list', '--json'], cwd)).filter((l) => l.scope === scope);

describe('scope identity: one scope per directory', () => {
  let repoA: string;
  let repoB: string;
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    repoA = path.join(dir, 'repo-a', 'denver');
    repoB = path.join(dir, 'repo-b', 'denver');
    for (const d of [repoA, repoB]) {
      fs.mkdirSync(path.join(d, '.git'), { recursive: true });
      fs.writeFileSync(path.join(d, 'berth.yaml'), 'services:\n  web:\n  api:\n');
    }
  });
  after(() => cleanup());

  it('two repositories\' denver worktrees get separate scopes and port sets', () => {
    const a = json<Lease[]>(ok(['allocate', '--json'], repoA));
    const b = json<Lease[]>(ok(['allocate', '--json'], repoB));
    assert.equal(a[0]!.scope, 'denver', 'the first directory keeps the plain name');
    assert.match(b[0]!.scope, /^denver@[0-9a-f]{8}$/);
    const portsA = new Set(a.map((l) => l.port));
    for (const l of b) assert.ok(!portsA.has(l.port), `repo-b's ${l.name} shares port ${l.port} with repo-a`);
    // Each directory gets its own leases back, again.
    assert.deepEqual(json<Lease[]>(ok(['allocate', '--json'], repoA)), a);
    assert.deepEqual(json<Lease[]>(ok(['allocate', '--json'], repoB)), b);
  });

  it('gc after deleting one worktree frees only its ports; the other keeps its scope', () => {
    const scopeB = json<Lease[]>(ok(['allocate', '--json'], repoB))[0]!.scope;
    const before = leases(repoB, scopeB);
    fs.rmSync(repoA, { recursive: true, force: true });
    const gc = ok(['gc'], dir);
    assert.match(gc.stdout + gc.stderr, /released scope denver \(directory .*repo-a\/denver is gone\)/);
    assert.doesNotMatch(gc.stdout + gc.stderr, /repo-b/);
    const after = leases(repoB, scopeB);
    assert.deepEqual(after, before, 'repo-b lost or changed leases');
    // The plain name is free now, yet repo-b stays on its own scope.
    const again = json<Lease[]>(ok(['allocate', 'worker', '--json'], repoB));
    assert.equal(again[0]!.scope, scopeB);
  });

  it('two first runs at once in two denver directories still get two scopes', async () => {
    for (let round = 0; round < 4; round++) {
      const store = path.join(dir, `race-${round}.db`);
      const [a, b] = await Promise.all([repoB, path.join(dir, 'repo-c', 'denver')].map(async (cwd) => {
        fs.mkdirSync(cwd, { recursive: true });
        fs.writeFileSync(path.join(cwd, 'berth.yaml'), 'services:\n  web:\n');
        const res = await berthAsync(['allocate', '--json'], { cwd, db: store });
        assert.equal(res.code, 0, res.stderr);
        return json<Lease[]>(res)[0]!;
      }));
      assert.notEqual(a!.scope, b!.scope, `round ${round}: both directories got scope ${a!.scope}`);
      assert.notEqual(a!.port, b!.port);
    }
  });

  it('--dir ties a named scope to a directory: gc reclaims it once that directory is gone', () => {
    const ws = path.join(dir, 'ws-7');
    fs.mkdirSync(ws);
    ok(['allocate', 'web', '--scope', 'conductor/ws-7', '--dir', ws], dir);
    ok(['allocate', 'web', '--scope', 'conductor/ws-8'], dir);
    assert.doesNotMatch(ok(['gc'], dir).stdout, /ws-7/, 'gc took a scope whose directory exists');
    const moved = berth(['allocate', 'api', '--scope', 'conductor/ws-7', '--dir', path.join(dir, 'elsewhere')], { cwd: dir, db });
    assert.equal(moved.code, 4, moved.stderr);
    assert.match(moved.stderr, /scope conductor\/ws-7 is tied to .*ws-7/);
    fs.rmSync(ws, { recursive: true });
    const gc = ok(['gc'], dir);
    assert.match(gc.stdout + gc.stderr, /released scope conductor\/ws-7/);
    const rest = json<Lease[]>(ok(['list', '--json'], dir)).map((l) => l.scope);
    assert.ok(!rest.includes('conductor/ws-7'));
    assert.ok(rest.includes('conductor/ws-8'), 'a named scope without --dir is never collected');
  });
});
