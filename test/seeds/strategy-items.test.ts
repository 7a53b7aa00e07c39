/**
 * Strategies as the seeds' users type them (issue 10 items 10, 12, 13, 15): the sequential
 * manager from BASE_PORT 4000 (seed 002) lists postgres, mongo and redis plainly; the
 * Orchestra plan (seed 001) keeps its MCP servers on their standard 8001-8003 even when
 * the api's 8000 is taken; a taken --prefer falls back in its own band; a purpose said
 * again updates the lease.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
let db: string;

function project(name: string, yaml: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(p);
  fs.writeFileSync(path.join(p, 'berth.yaml'), yaml);
  return p;
}

const allocate = (cwd: string, args: string[] = []) => {
  const res = berth(['allocate', ...args, '--json'], { cwd, db });
  assert.equal(res.code, 0, res.stderr);
  return json<Lease[]>(res);
};

function hold(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('strategies as the seeds use them', () => {
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  it('defaults: {strategy: sequential}: postgres, mongo and redis count up from base like everything else', () => {
    const p = project('sequential', 'base: 24000\ndefaults:\n  strategy: sequential\nservices:\n  http-server:\n  postgres:\n  mongo:\n  redis:\n  api:\n    prefer: 24500\n');
    const got = allocate(p).map((l) => `${l.name}:${l.port}`);
    assert.deepEqual(got, ['http-server:24000', 'postgres:24001', 'mongo:24002', 'redis:24003', 'api:24500']);
    const bad = project('bad-default', 'defaults:\n  strategy: fixed\n');
    const res = berth(['allocate', 'x'], { cwd: bad, db });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /defaults\.strategy: fixed cannot be a default/);
  });

  it('one all-or-none allocation gives free preferred ports first: a taken 8000 does not push the others off theirs', async () => {
    const base = 24600;
    const server = await hold(base);
    try {
      const p = project('orchestra', [
        'ranges:',
        `  api: ${base}-${base + 99}`,
        'services:',
        '  api:',
        `    prefer: ${base}`,
        '  mcp_weaviate:',
        `    prefer: ${base + 1}`,
        '  mcp_conductor:',
        `    prefer: ${base + 2}`,
        '  mcp_memory:',
        `    prefer: ${base + 3}`,
        '',
      ].join('\n'));
      const got = new Map(allocate(p).map((l) => [l.name, l.port]));
      assert.equal(got.get('mcp_weaviate'), base + 1);
      assert.equal(got.get('mcp_conductor'), base + 2);
      assert.equal(got.get('mcp_memory'), base + 3);
      assert.equal(got.get('api'), base + 4, 'the api falls back past the ports the others prefer');
    } finally {
      server.close();
    }
  });

  it('a taken --prefer without a category falls back in the band that holds it, not the dynamic range', async () => {
    const p = project('prefer-band', 'ranges:\n  api: 24700-24799\n');
    const server = await hold(24700);
    try {
      const [lease] = allocate(p, ['svc', '--prefer', '24700']);
      assert.ok(lease!.port > 24700 && lease!.port <= 24799, `fell back to ${lease!.port}`);
    } finally {
      server.close();
    }
  });

  it('a purpose said again, on the command line or in berth.yaml, updates the lease', () => {
    const p = project('purpose', 'services:\n  web:\n    purpose: storefront\n');
    assert.equal(allocate(p)[0]!.purpose, 'storefront');
    fs.writeFileSync(path.join(p, 'berth.yaml'), 'services:\n  web:\n    purpose: shop front\n');
    const [again] = allocate(p);
    assert.equal(again!.purpose, 'shop front');
    const [cli] = allocate(p, ['web', '--purpose', 'the store']);
    assert.equal(cli!.purpose, 'the store');
    assert.equal(cli!.port, again!.port, 'the port stays');
  });
});

describe('why a preferred port was not given (issue 10 item 14)', () => {
  let d: string;
  let clean: () => void;
  before(() => {
    ({ dir: d, cleanup: clean } = tempDir());
  });
  after(() => clean());

  it('allocate says who has the preferred port (stderr, and JSON fields); check lists it as advisory, exit 0', async () => {
    const store = path.join(d, 'b.db');
    fs.writeFileSync(path.join(d, 'berth.yaml'), 'project: orch\nranges:\n  api: 24800-24899\nservices:\n  api:\n    prefer: 24800\n  db:\n    prefer: 24810\n');
    const server = await hold(24800);
    try {
      assert.equal(berth(['allocate', 'db', '--scope', 'elsewhere', '--port', '24810'], { cwd: d, db: store }).code, 0);
      const res = berth(['allocate', '--json'], { cwd: d, db: store });
      assert.equal(res.code, 0, res.stderr);
      const leases = json<(Lease & { preferred?: number; notPreferred?: string })[]>(res);
      const api = leases.find((l) => l.name === 'api')!;
      assert.equal(api.preferred, 24800);
      assert.match(api.notPreferred!, /in use by 'node' \(pid \d+\)/);
      assert.match(res.stderr, /api got \d+, not its preferred 24800: that one is in use by 'node'/);
      assert.match(leases.find((l) => l.name === 'db')!.notPreferred!, /leased to elsewhere\/db/);
      const check = berth(['check'], { cwd: d, db: store });
      assert.equal(check.code, 0, `advisory conflicts do not fail check: ${check.stdout}${check.stderr}`);
      assert.equal((check.stdout.match(/^preferred-taken: /gm) ?? []).length, 2, check.stdout);
      assert.match(check.stdout, /orch\/api is on \d+, not its preferred 24800, which is held by 'node'/);
    } finally {
      server.close();
    }
  });
});
