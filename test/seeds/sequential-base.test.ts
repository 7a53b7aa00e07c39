/**
 * The sequential seed (shared/seeds/002; issue 10 item 11): ports count up from BASE_PORT,
 * which its users set in the environment; berth takes the base from BASE_PORT (or
 * BERTH_BASE_PORT, or --base) too, and writes BASE_PORT and NEXT_PORT next to the service
 * ports for projects that want them (`env --base-vars`, `env_base_vars: true`).
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

const run = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = dir) => berth(args, { cwd, db, env });
const ok = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = dir) => {
  const res = run(args, env, cwd);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
  return res;
};

/** A port the OS picks, with nothing listening on it any more and nothing of this test's store near it. */
async function osPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('sequential: the base from the environment or a flag; BASE_PORT and NEXT_PORT', () => {
  let base: number;
  before(async () => {
    ({ dir, cleanup } = tempDir());
    db = path.join(dir, 'berth.db');
    // The seed's services, listed plainly; defaults: keeps postgres and mongo in the sequence.
    fs.writeFileSync(path.join(dir, 'berth.yaml'), 'defaults:\n  strategy: sequential\nservices:\n  http-server:\n  postgres:\n  mongo:\n');
    // A base below the ephemeral range whose next ports are almost surely free; the test
    // asserts about the ports berth gives relative to it, never that a port is free.
    base = 20000 + ((await osPort()) % 5000) * 2;
  });
  after(() => cleanup());

  it('BASE_PORT from the environment sets where the sequence starts', () => {
    const leases = json<Lease[]>(ok(['allocate', '--json'], { BASE_PORT: String(base) }));
    assert.equal(leases[0]!.name, 'http-server');
    assert.ok(leases.every((l) => l.port >= base && l.port < base + 20), `not from BASE_PORT ${base}: ${leases.map((l) => l.port)}`);
    assert.equal(leases[0]!.port, Math.min(...leases.map((l) => l.port)));
  });

  it('--base wins over BASE_PORT; a bad base is refused as bad input', () => {
    const [worker] = json<Lease[]>(ok(['--base', String(base + 100), 'allocate', 'worker', '--json'], { BASE_PORT: String(base) }));
    assert.ok(worker!.port >= base + 100 && worker!.port < base + 120, `--base ignored: ${worker!.port}`);
    const bad = run(['allocate', 'x'], { BASE_PORT: 'four-thousand' });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /invalid BASE_PORT/);
  });

  it('env --base-vars starts with BASE_PORT and NEXT_PORT (the next port the sequence gives)', () => {
    const vars = json<Record<string, string>>(ok(['env', '--base-vars', '--json'], { BASE_PORT: String(base) }));
    const keys = Object.keys(vars);
    assert.deepEqual(keys.slice(0, 2), ['BASE_PORT', 'NEXT_PORT']);
    assert.equal(vars.BASE_PORT, String(base));
    const next = Number(vars.NEXT_PORT);
    assert.ok(next > Number(vars.HTTP_SERVER_PORT) && next > Number(vars.MONGO_PORT), `NEXT_PORT ${next} is not past the leases`);
    // NEXT_PORT is what the next sequential service gets.
    const [added] = json<Lease[]>(ok(['allocate', 'redis', '--strategy', 'sequential', '--json'], { BASE_PORT: String(base) }));
    assert.equal(added!.port, next);
  });

  it('env_base_vars: true in berth.yaml writes them into .env without the flag', () => {
    const project = path.join(dir, 'withvars');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'berth.yaml'), `base: ${base + 200}\nenv_base_vars: true\nservices:\n  web:\n`);
    ok(['allocate'], {}, project);
    ok(['env', '--write', '.env'], {}, project);
    const env = fs.readFileSync(path.join(project, '.env'), 'utf8');
    assert.match(env, new RegExp(`^BASE_PORT=${base + 200}$`, 'm'));
    assert.match(env, /^NEXT_PORT=\d+$/m);
    assert.match(env, /^WEB_PORT=\d+$/m);
  });
});
