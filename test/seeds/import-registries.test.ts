/**
 * `berth import --from FORMAT FILE` for the seeds' own registry files (issue 10 item 9):
 * a preview with --dry-run, all or none, each format kept as its users had it (Conductor
 * workspaces keep their sets, uDOS services become leases and berth.yaml services, a
 * sequential registry continues at its next port, model/app pairs come back from the same
 * get-or-allocate call), and a clear error naming the field for an unknown shape.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir, type CliOptions } from '../helpers/cli.js';

describe('import --from conductor | udos | sequential | pairs', () => {
  let dir: string;
  let cleanup: () => void;
  let opts: CliOptions;
  const run = (...args: string[]) => berth(args, opts);
  const write = (name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  const leases = () => json<Lease[]>(run('list', '--json'));

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    opts = { cwd: dir, db: path.join(dir, 'berth.db'), env: { BERTH_STATE_DIR: path.join(dir, 'state') } };
  });
  afterEach(() => cleanup());

  it('conductor: a preview changes nothing; the import keeps each workspace on its set, and reserve gives it back', () => {
    const sets = [0, 1, 2].map((k) => ({ postgres_port: 25433 + k, mcp_port: 28081 + k, admin_ui_port: 28002 + k }));
    write('conductor_ports.json', { available_port_sets: sets, reserved_ports: { 'ws-denver': sets[1], 'ws-paris': 2 } });
    const dry = run('import', '--from', 'conductor', 'conductor_ports.json', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /ws-denver\s+postgres\s+25434\s+conductor\s+1/);
    assert.match(dry.stdout, /would add to .*berth\.yaml: pools conductor/);
    assert.match(dry.stdout, /dry run: 6 lease\(s\).*nothing was changed/);
    assert.deepEqual(leases(), []);
    assert.equal(fs.existsSync(path.join(dir, 'berth.yaml')), false);

    const res = run('import', '--from', 'conductor', 'conductor_ports.json');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /imported 6 lease\(s\)/);
    assert.match(fs.readFileSync(path.join(dir, 'berth.yaml'), 'utf8'), /pools:\n  conductor:\n    ports:\n      postgres: 25433\n      mcp: 28081\n      admin_ui: 28002\n    step: 1\n    slots: 3/);
    const again = json<Lease[]>(run('reserve', '--scope', 'ws-denver', '--json'));
    assert.deepEqual(again.map((l) => [l.name, l.port, l.slot]).sort(), [['admin_ui', 28003, 1], ['mcp', 28082, 1], ['postgres', 25434, 1]]);
    assert.deepEqual(json<Lease[]>(run('reserve', '--scope', 'ws-new', '--json')).map((l) => l.slot), [0, 0, 0]);
    assert.match(run('pools').stdout, /3 used, 0 free of 3/);
  });

  it('udos: services become leases and berth.yaml services (comments kept); allocate gives the same ports', () => {
    write('berth.yaml', '# uDOS services\nproject: udos\n');
    write('port_registry.json', {
      timestamp: '2026-01-17T12:00:00',
      services: [
        { name: 'wizard', port: 28765, environment: 'production', process_name: 'python', description: 'Wizard Server - Production always-on service', startup_cmd: 'python -m wizard.server', health_endpoint: 'http://localhost:28765/health', enabled: true },
        { name: 'goblin', port: 28767, environment: 'development', process_name: 'node', description: 'Goblin dev server', startup_cmd: 'npm run dev', health_endpoint: null, enabled: false },
      ],
    });
    const res = run('import', '--from', 'udos', 'port_registry.json');
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(leases().map((l) => [l.scope, l.name, l.port, l.purpose]).sort(), [
      ['udos', 'goblin', 28767, 'Goblin dev server'],
      ['udos', 'wizard', 28765, 'Wizard Server - Production always-on service'],
    ]);
    const config = fs.readFileSync(path.join(dir, 'berth.yaml'), 'utf8');
    assert.match(config, /^# uDOS services\nproject: udos\n/);
    assert.match(config, /  wizard:\n    # From uDOS: startup_cmd: python -m wizard.server; health_endpoint: http:\/\/localhost:28765\/health; environment: production\n    port: 28765\n    purpose: Wizard Server - Production always-on service\n    process: python\n    http: true/);
    assert.match(config, /disabled in the uDOS registry/);
    const alloc = run('allocate', '--json');
    assert.equal(alloc.code, 0, alloc.stderr);
    assert.deepEqual(json<Lease[]>(alloc).map((l) => [l.name, l.port]), [['wizard', 28765], ['goblin', 28767]]);
    assert.equal(run('import', '--from', 'udos', 'port_registry.json').code, 0, 'importing again changes nothing');
  });

  it('sequential: service → port and purpose, continuing at the next port', () => {
    write('berth.yaml', 'project: seq\n');
    write('port_assignments.json', {
      assignments: { 'http-server': { port: 24700, purpose: 'Main HTTP Server' }, postgres: { port: 24701, purpose: 'PostgreSQL Database' }, mongo: { port: 24702, purpose: 'MongoDB Database' } },
      base_port: 24700,
      next_port: 24703,
    });
    const dry = run('import', '--from', 'sequential', 'port_assignments.json', '--dry-run');
    assert.match(dry.stdout, /next port in the sequence: 24703/);
    assert.equal(run('import', '--from', 'sequential', 'port_assignments.json').code, 0);
    assert.deepEqual(leases().map((l) => [l.name, l.port, l.purpose]).sort(), [['http-server', 24700, 'Main HTTP Server'], ['mongo', 24702, 'MongoDB Database'], ['postgres', 24701, 'PostgreSQL Database']]);
    assert.match(fs.readFileSync(path.join(dir, 'berth.yaml'), 'utf8'), /base: 24700\ndefaults:\n  strategy: sequential/);
    assert.equal(json<Lease[]>(run('allocate', 'redis', '--json'))[0]!.port, 24703);
  });

  it('pairs: pre-configured (model, app) pairs come back from reserve, new ones continue the series', () => {
    write('port_config.json', [
      { model: 'model_a', app_num: 1, backend_port: 25001, frontend_port: 28001 },
      { model: 'model_a', app_num: 2, backend_port: 25003, frontend_port: 28003 },
      { model: 'model_b', app_num: 1, backend_port: 25005, frontend_port: 28005 },
    ]);
    const res = run('import', '--from', 'pairs', 'port_config.json');
    assert.equal(res.code, 0, res.stderr);
    const pair = json<Lease[]>(run('reserve', '--scope', 'model_a/app2', '--json'));
    assert.deepEqual(pair.map((l) => [l.name, l.port]), [['backend', 25003], ['frontend', 28003]]);
    const fresh = json<Lease[]>(run('reserve', '--scope', 'model_c/app1', '--json'));
    assert.deepEqual(fresh.map((l) => [l.name, l.port]), [['backend', 25007], ['frontend', 28007]]);
  });

  it('all or none: one port leased elsewhere refuses the whole file; unknown shapes name the field', () => {
    assert.equal(run('allocate', 'other', '--port', '24801', '--scope', 'someone').code, 0);
    write('port_assignments.json', { web: 24800, db: 24801 });
    const refused = run('import', '--from', 'sequential', 'port_assignments.json');
    assert.equal(refused.code, 4, refused.stderr);
    assert.deepEqual(leases().map((l) => l.name), ['other']);
    assert.equal(fs.existsSync(path.join(dir, 'berth.yaml')), false, 'berth.yaml untouched');

    write('port_registry.json', { services: [{ name: 'wizard', port: 'eighty' }] });
    const bad = run('import', '--from', 'udos', 'port_registry.json');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /port_registry\.json: services\[0\]\.port: expected a port from 1 to 65535, got "eighty"/);
    write('conductor_ports.json', { reserved_ports: {} });
    assert.match(run('import', '--from', 'conductor', 'conductor_ports.json').stderr, /available_port_sets: expected a non-empty list/);
    assert.match(run('import', '--from', 'orchestra', 'x.json').stderr, /unknown import format 'orchestra'\. Use one of: conductor, udos, sequential, pairs/);
  });
});
