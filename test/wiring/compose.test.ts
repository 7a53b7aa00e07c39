import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSeq, parseDocument, type Tags } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { composePublishedPorts, type ComposeService } from '../../src/wiring/compose-ports.js';
import { planComposeOverride, renderComposeOverride, suggestedLeaseName } from '../../src/wiring/compose-override.js';
import { readComposeServices } from '../../src/workflows/files.js';
import { lease, service } from '../helpers/fixtures.js';

const BASE = `
services:
  db:
    image: postgres:16
    ports:
      - "5432:5432"
  web:
    build: .
    ports:
      - "8080:80"
    depends_on: [db]
`;

/** The test's own handler for compose's tag: keeps the list and remembers it was tagged. */
const OVERRIDE_SEEN: string[] = [];
const TEST_TAGS: Tags = [{ tag: '!override', collection: 'seq', resolve: (seq) => (OVERRIDE_SEEN.push('!override'), seq) }];

/** Parses an override back and returns service → [hostPort, containerPort, protocol] from short syntax. */
function readBack(text: string): Record<string, Array<[string, number, string]>> {
  const doc = parseDocument(text, { customTags: TEST_TAGS });
  assert.deepEqual(doc.errors, []);
  assert.deepEqual(doc.warnings, [], 'every tag in the output is known');
  const out: Record<string, Array<[string, number, string]>> = {};
  const services = doc.toJS() as { services: Record<string, { ports: string[] }> };
  for (const [name, body] of Object.entries(services.services)) {
    const node = doc.getIn(['services', name, 'ports'], true);
    assert.ok(isSeq(node), `${name}.ports is a sequence`);
    assert.equal(node.tag, '!override', `${name}.ports carries the !override tag`);
    out[name] = body.ports.map((p) => {
      const m = /^(?:(.*):)?(\d+)(?:\/(tcp|udp))?$/.exec(p)!;
      return [m[1] ?? '', Number(m[2]), m[3] ?? 'tcp'];
    });
  }
  return out;
}

test('override for 5432:5432 and 8080:80 maps leased host ports to 5432 and 80 under !override', () => {
  const composeServices = composePublishedPorts(BASE, 'compose.yaml');
  const plan = planComposeOverride(composeServices, [lease('db', 15432), lease('web', 18080)], []);
  assert.deepEqual(plan.unleased, []);
  assert.deepEqual(plan.unmatched, []);
  const text = renderComposeOverride(plan.mappings);
  assert.match(text, /ports: !override\n/);
  OVERRIDE_SEEN.length = 0;
  assert.deepEqual(readBack(text), { db: [['15432', 5432, 'tcp']], web: [['18080', 80, 'tcp']] });
  assert.equal(OVERRIDE_SEEN.length, 2, 'the custom handler resolved both tagged lists');
});

test('long syntax, udp, host_ip and IPv6 are read and written back', () => {
  const text = `
services:
  dns:
    ports:
      - target: 53
        published: "5353"
        protocol: udp
        host_ip: 127.0.0.1
      - "[::1]:8053:8053"
      - target: 9000
`;
  const [dns] = composePublishedPorts(text, 'compose.yaml');
  assert.deepEqual(dns!.ports.map((p) => [p.hostIp, p.hostPort, p.containerPort, p.protocol, p.key]), [
    ['127.0.0.1', 5353, 53, 'udp', 'services.dns.ports[0]'],
    ['::1', 8053, 8053, 'tcp', 'services.dns.ports[1]'],
    [null, null, 9000, 'tcp', 'services.dns.ports[2]'],
  ]);
  const plan = planComposeOverride(
    [dns!],
    [lease('dns-53-udp', 25353, { protocol: 'udp' }), lease('admin', 28053)],
    [service('admin', { compose: 'dns', composePort: 8053 })],
  );
  assert.deepEqual(plan.unleased.map((p) => p.containerPort), [9000]);
  assert.deepEqual(readBack(renderComposeOverride(plan.mappings)), {
    dns: [
      ['127.0.0.1:25353', 53, 'udp'],
      ['[::1]:28053', 8053, 'tcp'],
      ['', 9000, 'tcp'], // kept as in the base file, or !override would drop it
    ],
  });
});

test('short syntax forms: bare, empty host, ranges, variables, anchors and compose tags', () => {
  const text = `
x-ports: &ports
  ports:
    - 80
    - "127.0.0.1::81"
    - "3000-3002:4000-4002"
    - "9090-9091:8080"
    - "\${WEB_PORT:-3000}:3000"
    - "7000:\${INNER:-7001}"
    - 22:22/udp
services:
  a:
    <<: *ports
  b:
    ports: !reset null
  c:
    ports: !override ["1:2"]
  d:
`;
  const services = composePublishedPorts(text, 'c.yaml');
  assert.deepEqual(services.map((s) => s.name), ['a', 'b', 'c', 'd']);
  assert.deepEqual(services[0]!.ports.map((p) => `${p.hostIp ?? ''}|${p.hostPort}|${p.containerPort}/${p.protocol}`), [
    '|null|80/tcp',
    '127.0.0.1|null|81/tcp',
    '|3000|4000/tcp',
    '|3001|4001/tcp',
    '|3002|4002/tcp',
    '|null|8080/tcp',
    '|null|3000/tcp',
    '|7000|7001/tcp',
    '|22|22/udp',
  ]);
  assert.deepEqual(services[1]!.ports, []);
  assert.deepEqual(services[2]!.ports.map((p) => [p.hostPort, p.containerPort]), [[1, 2]]);
  assert.deepEqual(services[3]!.ports, []);
  assert.deepEqual(composePublishedPorts('version: "3"\n', 'c.yaml'), []);
});

test('malformed compose files are ConfigErrors naming the file and key', () => {
  const cases: Array<[string, string]> = [
    ['services:\n  db:\n    ports: [unclosed\n', ''],
    ['- just a list\n', ''],
    ['', ''],
    ['services: [db]\n', 'services'],
    ['services:\n  db: postgres\n', 'services.db'],
    ['services:\n  db:\n    ports: "5432:5432"\n', 'services.db.ports'],
    ['services:\n  db:\n    ports: ["5432:abc"]\n', 'services.db.ports[0]'],
    ['services:\n  db:\n    ports: ["1:2", "70000:5432"]\n', 'services.db.ports[1]'],
    ['services:\n  db:\n    ports: ["5432:5432/sctp"]\n', 'services.db.ports[0]'],
    ['services:\n  db:\n    ports: ["3000-3001:4000-4002"]\n', 'services.db.ports[0]'],
    ['services:\n  db:\n    ports: ["1:2:3:4:5"]\n', 'services.db.ports[0]'],
    ['services:\n  db:\n    ports: ["5432:${PORT}"]\n', 'services.db.ports[0]'],
    ['services:\n  db:\n    ports: [{published: 5432}]\n', 'services.db.ports[0].target'],
    ['services:\n  db:\n    ports: [[1, 2]]\n', 'services.db.ports[0]'],
    ['services:\n  db:\n    ports: [{target: 1, host_ip: localhost}]\n', 'services.db.ports[0].host_ip'],
    ['services:\n  db:\n    ports: ["1-2000:1-2000"]\n', 'services.db.ports[0]'],
  ];
  for (const [text, key] of cases) {
    assert.throws(
      () => composePublishedPorts(text, '/p/compose.yaml'),
      (e: unknown) => e instanceof ConfigError && e.file === '/p/compose.yaml' && e.key === key && e.message.startsWith('/p/compose.yaml: '),
      JSON.stringify(text),
    );
  }
});

test('readComposeServices reads a real file and names it in errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), BASE);
    assert.deepEqual((await readComposeServices(join(dir, 'compose.yaml'))).map((s) => s.name), ['db', 'web']);
    writeFileSync(join(dir, 'bad.yaml'), 'services:\n  db:\n    ports: "x"\n');
    await assert.rejects(readComposeServices(join(dir, 'bad.yaml')), (e: unknown) => e instanceof ConfigError && e.file === join(dir, 'bad.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planComposeOverride: ambiguity, missing services, added ports and the allocate loop', () => {
  const composeServices: ComposeService[] = composePublishedPorts(
    `
services:
  api:
    ports: ["8000:8000", "127.0.0.1:9229:9229"]
  cache:
    ports: ["6379:6379"]
  worker: {}
`,
    'compose.yaml',
  );
  const first = planComposeOverride(
    composeServices,
    [lease('api', 18000), lease('ghost', 1), lease('frontend', 3000), lease('debug', 19230)],
    [service('ghost', { compose: 'nope' }), service('debug', { compose: 'worker', composePort: 9230 })],
  );
  assert.deepEqual(first.unmatched.map((u) => [u.lease.name, /several tcp ports/.test(u.reason) || /no service "nope"/.test(u.reason)]), [
    ['ghost', true],
    ['api', true],
  ]);
  // A configured container port the base file does not publish is added.
  assert.deepEqual(first.mappings, [{ service: 'worker', ports: [{ hostPort: 19230, containerPort: 9230, protocol: 'tcp', hostIp: null }] }]);
  assert.deepEqual(first.unleased.map((p) => `${p.service}:${p.containerPort}`), ['api:8000', 'api:9229', 'cache:6379']);

  // What a caller does with --allocate: lease each unleased port under the suggested name, plan again.
  let next = 20000;
  const allocated = first.unleased.map((p) => lease(suggestedLeaseName(p, composeServices.find((s) => s.name === p.service)!), next++, { protocol: p.protocol }));
  assert.deepEqual(allocated.map((l) => l.name), ['api-8000', 'api-9229', 'cache']);
  const second = planComposeOverride(composeServices, allocated, []);
  assert.deepEqual(second.unleased, []);
  assert.deepEqual(second.unmatched, []);
  assert.deepEqual(readBack(renderComposeOverride(second.mappings)), {
    api: [['20000', 8000, 'tcp'], ['127.0.0.1:20001', 9229, 'tcp']],
    cache: [['20002', 6379, 'tcp']],
  });
});

test('planComposeOverride picks among several ports by the configured port, and pool roles match by name', () => {
  const composeServices = composePublishedPorts('services:\n  web:\n    ports: ["8080:80", "8443:443"]\n  postgres:\n    ports: ["5432:5432"]\n', 'c.yaml');
  const plan = planComposeOverride(
    composeServices,
    [lease('web', 18443), lease('postgres', 5433, { pool: 'stack', slot: 0 })],
    [service('web', { prefer: 8443 })],
  );
  assert.deepEqual(plan.mappings, [
    { service: 'web', ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: null }, { hostPort: 18443, containerPort: 443, protocol: 'tcp', hostIp: null }] },
    { service: 'postgres', ports: [{ hostPort: 5433, containerPort: 5432, protocol: 'tcp', hostIp: null }] },
  ]);
  // A UDP lease never takes a TCP port.
  assert.deepEqual(planComposeOverride(composeServices, [lease('postgres', 1, { protocol: 'udp' })], []).mappings, []);
});

test('renderComposeOverride with no services is still a valid override', () => {
  const doc = parseDocument(renderComposeOverride([]));
  assert.deepEqual(doc.toJS(), { services: {} });
});
