/**
 * The Orchestra and uDOS seeds' `reassign` (issue 10 item 16): a service whose port
 * berth.yaml fixes is moved, and the project keeps working on the moved lease (allocate
 * and run use it, with a note), `check` reports the drift, `reassign --update-config`
 * writes the new port into berth.yaml keeping its comments, and `reassign NAME` with no
 * port takes the next free port of the service's category.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, json, tempDir, type CliOptions } from '../helpers/cli.js';

const API = 24401;
const MOVED = 24450;
const BAND = { start: 24460, end: 24479 };

describe('reassign of a fixed port: the moved lease is used, check reports it, --update-config', () => {
  let dir: string;
  let cleanup: () => void;
  let opts: CliOptions;
  const run = (...args: string[]) => berth(args, opts);
  const config = () => fs.readFileSync(path.join(dir, 'berth.yaml'), 'utf8');

  before(() => {
    ({ dir, cleanup } = tempDir());
    opts = { cwd: dir, db: path.join(dir, 'berth.db'), env: { BERTH_STATE_DIR: path.join(dir, 'state') } };
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      [
        'project: orchestra',
        'ranges:',
        `  orch: ${BAND.start}-${BAND.end}`,
        'services:',
        '  # The API, on the port the plan gave it.',
        '  api:',
        `    port: ${API}  # fixed by the Orchestra plan`,
        '    purpose: API server',
        '  worker:',
        '    category: orch',
        '',
      ].join('\n'),
    );
    assert.equal(run('allocate').code, 0);
  });
  after(() => cleanup());

  it('after reassign, allocate and run use the moved lease with a note instead of failing', () => {
    assert.equal(run('reassign', 'api', String(MOVED)).code, 0);
    const alloc = run('allocate', '--json');
    assert.equal(alloc.code, 0, alloc.stderr);
    const api = json<{ name: string; port: number; configPort?: number }[]>(alloc).find((l) => l.name === 'api')!;
    assert.equal(api.port, MOVED);
    assert.equal(api.configPort, API);
    assert.match(alloc.stderr, new RegExp(`api uses port ${MOVED}, where its lease was moved; berth.yaml fixes ${API}`));
    const ran = run('run', '--', process.execPath, '-e', 'console.log(process.env.API_PORT)');
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trim(), String(MOVED));
    assert.match(ran.stderr, /api uses port/);
  });

  it('a port asked for on the command line is still refused when the lease sits elsewhere', () => {
    assert.equal(run('allocate', 'api', '--port', String(API)).code, 4);
  });

  it('check reports the drift (exit 1) with both ways out', () => {
    const res = run('check');
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, new RegExp(`config-drift: orchestra/api is on ${MOVED}, but .*berth\\.yaml fixes port ${API}`));
    assert.match(res.stdout, new RegExp(`berth reassign api ${MOVED} --update-config --scope orchestra`));
  });

  it('reassign --update-config rewrites the port in berth.yaml, keeping its comments; check is clean', () => {
    const res = run('reassign', 'api', String(MOVED), '--update-config');
    assert.equal(res.code, 0, res.stderr);
    const text = config();
    assert.match(text, new RegExp(`^    port: ${MOVED} +# fixed by the Orchestra plan$`, 'm'));
    assert.match(text, /^  # The API, on the port the plan gave it\.$/m);
    assert.match(text, /^    purpose: API server$/m);
    assert.equal(run('check').code, 0);
    assert.equal(json<{ port: number }>(run('get', 'api', '--json')).port, MOVED);
  });

  it('reassign NAME with no port takes the next free port of its category', () => {
    const before = json<{ port: number }>(run('get', 'worker', '--json')).port;
    assert.ok(before >= BAND.start && before <= BAND.end);
    const res = run('reassign', 'worker', '--json');
    assert.equal(res.code, 0, res.stderr);
    const after = json<{ port: number }>(res).port;
    assert.ok(after > before && after <= BAND.end, `${before} -> ${after}`);
  });
});
