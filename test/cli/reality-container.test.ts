/**
 * Reality against a real container (podman, with its Docker-compatible API at DOCKER_HOST)
 * publishing a loopback port, through the built CLI: who and ports name the container, kill
 * refuses and names the stop command, check and free know the port is taken. Only
 * inspects: no connection is ever opened to the container.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Conflict, PortEntry, WhoResult } from '../../src/engine/index.js';
import { berth, json, tempDir, type CliResult } from '../helpers/cli.js';
import { startPublishedContainer } from '../os/podman.js';

const show = (r: CliResult): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('a container publishing a port: who and ports name it, kill refuses with the stop command, check and free know it is taken', { timeout: 180_000 }, async (t) => {
  const started = await startPublishedContainer('cli');
  if ('skip' in started) {
    t.skip(started.skip);
    return;
  }
  const { dir, cleanup } = tempDir();
  try {
    const { name, port, dockerHost } = started;
    const db = path.join(dir, 'berth.db');
    const env = { DOCKER_HOST: dockerHost };
    const run = (args: string[], cwd = dir): CliResult => berth(args, { cwd, db, env });

    const who = json<WhoResult>(run(['who', String(port), '--json']));
    assert.ok(who.holders.length >= 1, JSON.stringify(who));
    assert.ok(
      who.holders.every((h) => h.container?.name === name && h.address === '127.0.0.1'),
      JSON.stringify(who.holders),
    );
    assert.equal(who.holders[0]!.process, 'conmon');
    assert.match(run(['who', String(port)]).stdout, new RegExp(`127\\.0\\.0\\.1\\s+${name}\\s`));

    const entries = json<PortEntry[]>(run(['ports', '--json'])).filter((e) => e.port === port);
    assert.ok(entries.length >= 1 && entries.every((e) => e.container?.name === name), JSON.stringify(entries));

    const free = run(['free', '--range', `${port}-${port}`]);
    assert.equal(free.code, 3, `the published port is not free: ${show(free)}`);

    const killed = run(['kill', `:${port}`, '--force']);
    assert.equal(killed.code, 4, show(killed));
    assert.match(killed.stderr, new RegExp(`container '${name}' publishes port ${port}; killing conmon would break the container engine\\. Run \`podman stop ${name}\` instead\\.`));
    const asJson = run(['kill', String(port), '--json']);
    assert.equal(asJson.code, 4);
    const refusals = (JSON.parse(asJson.stderr) as { refusals: { kind: string; instead: string }[] }).refusals;
    assert.deepEqual([...new Set(refusals.map((r) => `${r.kind} ${r.instead}`))], [`container podman stop ${name}`]);
    // Without the engine's API berth still knows conmon holds ports for containers.
    const blind = berth(['kill', `:${port}`], { cwd: dir, db, env: { DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}` } });
    assert.equal(blind.code, 4, show(blind));
    assert.match(blind.stderr, new RegExp(`conmon \\(pid \\d+\\) holds port ${port} for a container.*podman ps --filter publish=${port}, then podman stop NAME`));
    assert.ok(json<WhoResult>(run(['who', String(port), '--json'])).holders.some((h) => h.container?.name === name), 'the container still publishes its port');

    // A service of berth.yaml whose fixed port the container holds.
    const proj = path.join(dir, 'proj');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'berth.yaml'), `project: shop\nservices:\n  web:\n    port: ${port}\n    process: web-server\n`);
    let conflicts = json<Conflict[]>(run(['check', '--json'], proj));
    assert.deepEqual(
      conflicts.map((c) => [c.kind, c.port]),
      [['fixed-port-in-use', port]],
    );
    assert.match(conflicts[0]!.message, new RegExp(`^port ${port}: fixed for 'web' in .*berth\\.yaml, but taken by container '${name}' \\(conmon, pid \\d+\\)`));
    const refused = run(['allocate', 'web'], proj);
    assert.equal(refused.code, 4, `allocate refuses the taken port: ${show(refused)}`);
    assert.equal(run(['allocate', 'web', '--force'], proj).code, 0);
    const res = run(['check', '--json'], proj);
    assert.equal(res.code, 1, show(res));
    conflicts = json<Conflict[]>(res);
    assert.deepEqual(
      conflicts.map((c) => [c.kind, c.port, c.lease]),
      [['foreign-holder', port, { scope: 'shop', name: 'web' }]],
    );
    assert.match(conflicts[0]!.message, new RegExp(`^port ${port}: expected 'web-server' but found container '${name}' \\(conmon, pid \\d+\\).*stop the container ${name} \\(\`podman stop ${name}\`, or \`berth kill ${port} --stop-container\`\\)`));
  } finally {
    await started.cleanup();
    cleanup();
  }
});
