/**
 * How the built CLI writes its output (write(2) on the descriptor, not Node's stream):
 * whole through a slow reader, whole through a non-blocking pipe that fills up, and
 * quiet when the reader goes away early (berth list | head -1).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH_BIN, berth, cliEnv, tempDir } from '../helpers/cli.js';

/** Enough leases that `export` (~0.7 MB) overflows a 64 KiB pipe many times over. */
const LEASES = 3000;

describe('CLI output', () => {
  const { dir, cleanup } = tempDir();
  const db = path.join(dir, 'b.db');
  const env = cliEnv({ db, env: { BERTH_SCOPE: 'out' } });
  const expected = path.join(dir, 'expected.json');

  before(() => {
    const names = Array.from({ length: LEASES }, (_, i) => `s${i}`);
    const res = berth(['allocate', ...names, '--range', '20000-29999'], { db, env: { BERTH_SCOPE: 'out' } });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(berth(['export', '--output', expected], { db }).code, 0);
    assert.ok(fs.statSync(expected).size > 512 * 1024);
  });
  after(cleanup);

  /** The snapshot without its export time, which differs from run to run. */
  const snapshot = (text: string): unknown => ({ ...JSON.parse(text), exportedAt: null });

  it('writes all of a large output to a reader that is slow to read', () => {
    const res = spawnSync('bash', ['-c', `"${process.execPath}" "${BERTH_BIN}" export | (sleep 0.3; cat)`], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(snapshot(res.stdout), snapshot(fs.readFileSync(expected, 'utf8')));
  });

  /**
   * Python hands berth a pipe in O_NONBLOCK mode and reads only after a pause, so berth's
   * writes hit EAGAIN and must go on through Node's stream. It reads `limit` bytes (all
   * when 0) and closes the pipe, prints what it read and exits with berth's status.
   */
  function throughNonBlockingPipe(args: readonly string[], limit = 0) {
    const script = [
      'import os, subprocess, sys, time',
      'limit = int(sys.argv[1])',
      'r, w = os.pipe()',
      'os.set_blocking(w, False)',
      'p = subprocess.Popen(sys.argv[2:], stdout=w)',
      'os.close(w)',
      'time.sleep(0.3)',
      'out = b""',
      'while limit == 0 or len(out) < limit:',
      '    chunk = os.read(r, 65536 if limit == 0 else limit - len(out))',
      '    if not chunk: break',
      '    out += chunk',
      'os.close(r)',
      'sys.stdout.buffer.write(out)',
      'sys.exit(p.wait())',
    ].join('\n');
    return spawnSync('python3', ['-c', script, String(limit), process.execPath, BERTH_BIN, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }

  it('writes all of it, in order, to a non-blocking pipe that fills up', () => {
    const res = throughNonBlockingPipe(['export']);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(snapshot(res.stdout), snapshot(fs.readFileSync(expected, 'utf8')));
  });

  it('stops quietly, exit 0, when the reader of a non-blocking pipe closes it early', () => {
    const res = throughNonBlockingPipe(['export'], 1000);
    assert.equal(res.stdout.length, 1000);
    assert.equal(res.stderr, '');
    assert.equal(res.status, 0);
  });

  it('stops quietly, exit 0, when the reader closes the pipe early', () => {
    const res = spawnSync('bash', ['-c', `"${process.execPath}" "${BERTH_BIN}" list | head -1; echo "status \${PIPESTATUS[0]}" >&2`], { env, encoding: 'utf8' });
    assert.match(res.stdout, /^SCOPE\s+NAME\s+PORT/);
    assert.equal(res.stdout.split('\n').filter(Boolean).length, 1);
    assert.equal(res.stderr, 'status 0\n');
  });
});
