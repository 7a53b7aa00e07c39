/**
 * The Orchestra seed's "7 of 14 services conflict with old containers" (issue 10 item 17):
 * `berth check --fix` moves each lease whose port a stranger holds to the next free port
 * of its category, re-renders every file berth wrote for the scope, and leaves ports
 * berth.yaml fixes as conflicts; `--dry-run` says what would move and changes nothing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, tempDir, type CliOptions } from '../helpers/cli.js';

const BAND = { start: 24520, end: 24539 };
const FIXED = 24541;

/** A process that is not the service: listens on `port` until killed. */
async function stranger(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await once(child.stdout!, 'data');
  return child;
}

describe('check --fix: move leases strangers hold, re-render, leave fixed ports', () => {
  let dir: string;
  let cleanup: () => void;
  let opts: CliOptions;
  const holders: ChildProcess[] = [];
  const run = (...args: string[]) => berth(args, opts);
  const port = (name: string) => json<{ port: number }>(run('get', name, '--json')).port;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    opts = { cwd: dir, db: path.join(dir, 'berth.db'), env: { BERTH_STATE_DIR: path.join(dir, 'state') } };
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      [
        'project: orchestra',
        'ranges:',
        `  orch: ${BAND.start}-${BAND.end}`,
        'services:',
        '  web:',
        '    category: orch',
        '    process: uvicorn',
        '  search:',
        `    port: ${FIXED}`,
        '    process: weaviate',
        '',
      ].join('\n'),
    );
    assert.equal(run('allocate').code, 0);
    fs.writeFileSync(path.join(dir, '.env'), '# mine\nTOKEN=abc\n');
    assert.equal(run('env', '--write', '.env').code, 0);
    holders.push(await stranger(port('web')), await stranger(FIXED));
  });
  after(async () => {
    for (const h of holders) {
      if (h.exitCode === null && h.signalCode === null) {
        h.kill();
        await once(h, 'exit');
      }
    }
    cleanup();
  });

  it('--dry-run says what would move and changes nothing', () => {
    const before = port('web');
    const res = run('check', '--fix', '--dry-run');
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`would move orchestra/web from ${before} to \\d+ \\(${before} is held by node \\(pid \\d+\\)\\)`));
    assert.equal(port('web'), before);
    assert.match(fs.readFileSync(path.join(dir, '.env'), 'utf8'), new RegExp(`WEB_PORT=${before}`));
  });

  it('moves the lease to the next free port of its category, re-renders .env, and leaves the fixed port a conflict', () => {
    const before = port('web');
    const res = run('check', '--fix');
    assert.equal(res.code, 1, 'the fixed port stays a conflict');
    const after = port('web');
    assert.ok(after > before && after <= BAND.end, `${before} -> ${after}`);
    assert.match(res.stderr, new RegExp(`moved orchestra/web from ${before} to ${after}`));
    assert.match(res.stderr, /re-rendered .*\.env \(env\) for scope orchestra/);
    assert.match(res.stderr, new RegExp(`left orchestra/search on ${FIXED}: berth.yaml fixes search`));
    assert.equal(port('search'), FIXED);
    assert.equal(fs.readFileSync(path.join(dir, '.env'), 'utf8'), `# mine\nTOKEN=abc\nWEB_PORT=${after}\nSEARCH_PORT=${FIXED}\n`);
    assert.match(res.stdout, new RegExp(`foreign-holder: port ${FIXED}`));
    assert.doesNotMatch(res.stdout, new RegExp(`port ${before}`));
  });
});
