/**
 * The built CLI where its dependencies are not in a node_modules above it: bin/ and dist/
 * copied elsewhere, with better-sqlite3 reachable only through NODE_PATH (as with Debian's
 * packaged modules). The SQLite addon must still be found.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, cliEnv, tempDir } from '../helpers/cli.js';

describe('install layout', () => {
  it('finds the SQLite addon through NODE_PATH when no node_modules is above the CLI', () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const part of ['bin', 'dist']) fs.cpSync(path.join(ROOT, part), path.join(dir, 'pkg', part), { recursive: true });
      const res = spawnSync(process.execPath, [path.join(dir, 'pkg', 'bin', 'berth.js'), 'allocate', 'web', '--json'], {
        cwd: dir,
        env: cliEnv({ db: path.join(dir, 'b.db'), env: { BERTH_SCOPE: 'layout', NODE_PATH: path.join(ROOT, 'node_modules') } }),
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, res.stderr);
      const [lease] = JSON.parse(res.stdout) as { name: string; port: number }[];
      assert.equal(lease?.name, 'web');
      assert.ok(lease.port >= 1 && lease.port <= 65535);
    } finally {
      cleanup();
    }
  });
});
