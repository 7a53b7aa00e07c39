import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { composeAllocationRequests, locateComposeFile } from '../../src/workflows/compose-build.js';
import type { ComposeService } from '../../src/wiring/compose-ports.js';
import { lease, service } from '../helpers/fixtures.js';

function port(svc: string, containerPort: number, hostPort: number | null, protocol: 'tcp' | 'udp' = 'tcp') {
  return { service: svc, containerPort, hostPort, protocol, hostIp: null, key: `services.${svc}.ports[0]` };
}

const COMPOSE: ComposeService[] = [
  { name: 'db', ports: [port('db', 5432, 5432)] },
  { name: 'web', ports: [port('web', 80, 8080), port('web', 443, 8443)] },
  { name: 'dns', ports: [port('dns', 53, null, 'udp')] },
  { name: 'worker', ports: [] },
];

test('composeAllocationRequests: leased ports are skipped, the rest get suggested names and preferred host ports', () => {
  const reqs = composeAllocationRequests(COMPOSE, [lease('db', 15432)], []);
  assert.deepEqual(
    reqs.map((r) => [r.name, r.prefer ?? null, r.protocol]),
    [
      ['web-80', 8080, 'tcp'],
      ['web-443', 8443, 'tcp'],
      ['dns', null, 'udp'],
    ],
  );
});

test('composeAllocationRequests: berth.yaml services that target a compose service come first, with their own settings', () => {
  const reqs = composeAllocationRequests(COMPOSE, [], [service('pg', { compose: 'db' }), service('front', { compose: 'web', composePort: 80 }), service('other')]);
  assert.deepEqual(reqs.map((r) => r.name), ['pg', 'front', 'web-443', 'dns']);
  assert.deepEqual(reqs[0], { name: 'pg' });
  assert.deepEqual(composeAllocationRequests(COMPOSE, [lease('db', 1), lease('web-80', 2), lease('web-443', 3), lease('dns', 4, { protocol: 'udp' })], []), []);
});

test('locateComposeFile: the compose file names in docker compose order, then the next directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  try {
    const sub = join(root, 'sub');
    mkdirSync(sub);
    writeFileSync(join(root, 'docker-compose.yml'), 'services: {}\n');
    assert.equal(await locateComposeFile(undefined, [sub, root]), join(root, 'docker-compose.yml'));
    writeFileSync(join(root, 'compose.yaml'), 'services: {}\n');
    assert.equal(await locateComposeFile(undefined, [root]), join(root, 'compose.yaml'));
    assert.equal(await locateComposeFile('docker-compose.yml', [root]), join(root, 'docker-compose.yml'));
    await assert.rejects(locateComposeFile(undefined, [sub]), (e: unknown) =>
      e instanceof UsageError && ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'].every((n) => e.message.includes(n)) && e.message.includes(sub),
    );
    await assert.rejects(locateComposeFile('nope.yml', [root]), (e: unknown) => e instanceof UsageError && /nope\.yml \(ENOENT\)/.test(e.message));
    await assert.rejects(locateComposeFile('sub', [root]), (e: unknown) => e instanceof UsageError && /not a file/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
