/**
 * The Orchestra seed's containers (issue 10 item 18), against real podman containers:
 * podman's API socket is found without DOCKER_HOST (XDG_RUNTIME_DIR/podman/podman.sock);
 * a container compose made for the lease (labels com.docker.compose.project/service) is
 * the expected holder, an old stack's container is not; the hint names the container and
 * its stop command; `kill --stop-container` stops it through the engine API and confirms
 * the port free.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir, type CliOptions } from '../helpers/cli.js';
import { freeLoopbackPort, startPublishedContainer, type PodmanContainer } from '../os/podman.js';

const TEST_TIMEOUT_MS = 240_000;

describe('containers: socket discovery, compose labels, stop hints, kill --stop-container', { timeout: TEST_TIMEOUT_MS }, () => {
  let dir: string;
  let cleanup: () => void;
  let opts: CliOptions;
  let skip: string | null = null;
  const containers: PodmanContainer[] = [];
  let dbPort = 0;
  let cachePort = 0;
  const run = (...args: string[]) => berth(args, { ...opts, timeoutMs: 60_000 });

  before(async () => {
    ({ dir, cleanup } = tempDir());
    const runtime = path.join(dir, 'runtime');
    // No DOCKER_HOST: berth must find podman's socket where podman.socket puts it.
    opts = { cwd: dir, db: path.join(dir, 'berth.db'), env: { DOCKER_HOST: '', XDG_RUNTIME_DIR: runtime } };
    dbPort = await freeLoopbackPort();
    cachePort = await freeLoopbackPort();
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      `project: orchestra\nservices:\n  postgres:\n    port: ${dbPort}\n    process: postgres\n  cache:\n    port: ${cachePort}\n    process: redis\n`,
    );
    assert.equal(run('allocate').code, 0);
    const mine = await startPublishedContainer('seed-compose', dbPort, {
      labels: { 'com.docker.compose.project': 'orchestra', 'com.docker.compose.service': 'postgres' },
      socketPath: path.join(runtime, 'podman', 'podman.sock'),
    });
    if ('skip' in mine) {
      skip = mine.skip;
      return;
    }
    containers.push(mine);
    const old = await startPublishedContainer('seed-oldstack', cachePort, { labels: { 'com.docker.compose.project': 'oldstack', 'com.docker.compose.service': 'cache' } });
    if ('skip' in old) skip = old.skip;
    else containers.push(old);
  });
  after(async () => {
    for (const c of containers) await c.cleanup();
    cleanup();
  });

  it("finds podman's socket without DOCKER_HOST and counts the stack's own compose container as the expected holder", (t) => {
    if (skip !== null) return t.skip(skip);
    const who = run('who', String(dbPort));
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, new RegExp(containers[0]!.name));
    const status = run('status', '--json');
    const states = JSON.parse(status.stdout) as { lease: { name: string }; state: string }[];
    assert.equal(states.find((s) => s.lease.name === 'postgres')!.state, 'listening');
  });

  it("an old stack's container is foreign; the hint names it and its stop command, not a bare berth kill", (t) => {
    if (skip !== null) return t.skip(skip);
    const res = run('check');
    assert.equal(res.code, 1, res.stdout);
    const old = containers[1]!.name;
    assert.match(res.stdout, new RegExp(`port ${cachePort}: .*container '${old}'.*stop the container ${old} \\(\`podman stop ${old}\`, or \`berth kill ${cachePort} --stop-container\`\\)`));
    assert.doesNotMatch(res.stdout, new RegExp(`port ${dbPort}`));
    assert.doesNotMatch(res.stdout, /\(berth kill \d+\)/);
  });

  it('kill --stop-container stops it through the engine API and confirms the port free', (t) => {
    if (skip !== null) return t.skip(skip);
    const old = containers[1]!.name;
    const res = run('kill', String(cachePort), '--stop-container');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`stopped container ${old} through its engine\\ntcp port ${cachePort} \\(leased to orchestra/cache\\) is free now`));
    const after = run('who', String(cachePort));
    assert.match(after.stdout, /nothing listens on it/);
  });
});
