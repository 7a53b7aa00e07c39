/** berth.yaml's launch keys: parsed, defaulted, and every mistake a ConfigError naming the key. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/project/berth.yaml';

async function refused(text: string, key: string, words: RegExp): Promise<void> {
  await assert.rejects(parseConfigText(text, FILE), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.key, key, error.message);
    assert.match(error.message, words);
    return true;
  });
}

test('every launch key is read, with durations, signals and the compose spellings', async () => {
  const config = await parseConfigText(
    `services:
  db:
    command: [node, db.js]
    health: {tcp: true, interval: 200ms, retries: 5, start_period: 1s, start_interval: 50ms}
  api:
    command: node api.js --verbose
    cwd: api
    environment: {MODE: dev, DEBUG: 1}
    depends_on: [db]
    description: the API
    stage: development
    health: {http: /health, timeout: 500}
    restart: {policy: always, max_restarts: 3, backoff: {base: 50ms, factor: 3, cap: 2s}, reset_after: 5s}
    stop: {signal: INT, grace: 2s}
  web:
    command: [vite]
    depends_on: {api: {condition: service_started}, db: healthy}
    environment: [A=1, B=x=y]
    enabled: false
  cache: 6379
`,
    FILE,
  );
  const [db, api, web, cache] = config.services;
  assert.deepEqual(db!.launch!.command, { argv: ['node', 'db.js'] });
  assert.deepEqual(db!.launch!.health, { kind: 'tcp', target: '', intervalMs: 200, timeoutMs: 2000, retries: 5, startPeriodMs: 1000, startIntervalMs: 50, port: null });
  assert.deepEqual(api!.launch!.command, { shell: 'node api.js --verbose' });
  assert.equal(api!.launch!.cwd, '/project/api');
  assert.deepEqual(api!.launch!.environment, { MODE: 'dev', DEBUG: '1' });
  assert.deepEqual(api!.launch!.dependsOn, [{ name: 'db', condition: 'healthy' }], 'the list form waits for healthy when the dependency has a check');
  assert.equal(api!.purpose, 'the API');
  assert.equal(api!.launch!.stage, 'development');
  assert.deepEqual(api!.launch!.restart, { policy: 'always', maxRestarts: 3, backoff: { baseMs: 50, factor: 3, capMs: 2000 }, resetAfterMs: 5000 });
  assert.deepEqual(api!.launch!.stop, { signal: 'SIGINT', graceMs: 2000 });
  assert.deepEqual(web!.launch!.dependsOn, [{ name: 'api', condition: 'started' }, { name: 'db', condition: 'healthy' }]);
  assert.deepEqual(web!.launch!.environment, { A: '1', B: 'x=y' });
  assert.equal(web!.launch!.enabled, false);
  assert.equal(cache!.launch, undefined, 'a service without command is only leased');
});

test('the list form waits for started when the dependency has no health check; restart: on-failure alone', async () => {
  const config = await parseConfigText('services:\n  a: {command: [x], restart: "no"}\n  b: {command: [y], depends_on: [a], restart: on-failure}\n', FILE);
  assert.deepEqual(config.services[1]!.launch!.dependsOn, [{ name: 'a', condition: 'started' }]);
  assert.equal(config.services[0]!.launch!.restart.policy, 'no');
  assert.equal(config.services[1]!.launch!.restart.policy, 'on-failure');
});

test('cycles, unknown dependencies and bad values are ConfigErrors naming the key', async () => {
  await refused('services:\n  a: {command: [x], depends_on: [b]}\n  b: {command: [y], depends_on: [c]}\n  c: {command: [z], depends_on: [a]}\n', 'services.a.depends_on', /cycle a → b → c → a/);
  await refused('services:\n  a: {command: [x], depends_on: [nope]}\n', 'services.a.depends_on.nope', /no service 'nope'/);
  await refused('services:\n  a: {command: [x], depends_on: [a]}\n', 'services.a.depends_on.a', /itself/);
  await refused('services:\n  a: 5000\n  b: {command: [x], depends_on: [a]}\n', 'services.b.depends_on.a', /has no command/);
  await refused('services:\n  a: {command: [x]}\n  b: {command: [x], depends_on: {a: healthy}}\n', 'services.b.depends_on.a', /no health: check/);
  await refused('services:\n  a: {command: [x]}\n  b: {command: [x], depends_on: {a: ready}}\n', 'services.b.depends_on.a', /unknown condition/);
  await refused('services:\n  a: {health: {tcp: true}}\n', 'services.a.health', /command:/);
  await refused('services:\n  a: {command: []}\n', 'services.a.command', /non-empty list/);
  await refused('services:\n  a: {command: [x], health: {tcp: true, http: /}}\n', 'services.a.health', /exactly one check/);
  await refused('services:\n  a: {command: [x], health: {http: health}}\n', 'services.a.health.http', /neither a path/);
  await refused('services:\n  a: {command: [x], health: {log: "(["}}\n', 'services.a.health.log', /regular expression/);
  await refused('services:\n  a: {command: [x], health: {tcp: true, interval: soon}}\n', 'services.a.health.interval', /invalid duration/);
  await refused('services:\n  a: {command: [x], health: {tcp: true, start_interval: 0}}\n', 'services.a.health.start_interval', /above 0/);
  // Several ports: leases: names bare leases, each owned once; health.port names one of them.
  await refused('services:\n  a: {command: [x], leases: [nope]}\n', 'services.a.leases[0]', /no service 'nope'/);
  await refused('services:\n  a: {command: [x], leases: [b]}\n  b: {command: [y]}\n', 'services.a.leases[0]', /has a command: of its own/);
  await refused('services:\n  a: {command: [x], leases: [a]}\n', 'services.a.leases[0]', /the service itself/);
  await refused('services:\n  m: 5000\n  a: {command: [x], leases: [m]}\n  b: {command: [y], leases: [m]}\n', 'services.b.leases[0]', /already listed in services\.a\.leases/);
  await refused('services:\n  m: 5000\n  a: {command: [x], leases: [m], health: {tcp: true, port: other}}\n', 'services.a.health.port', /not a port of a: name a or one of its leases: \(m\)/);
  await refused('services:\n  a: {command: [x], health: {exec: "true", port: a}}\n', 'services.a.health.port', /uses no port/);
  await refused('services:\n  a: {leases: [b]}\n  b: 5000\n', 'services.a.leases', /only a service with command:/);
  await refused('services:\n  a: {command: [x], restart: sometimes}\n', 'services.a.restart', /unknown policy/);
  await refused('services:\n  a: {command: [x], restart: {backoff: {base: 2s, cap: 1s}}}\n', 'services.a.restart.backoff.cap', /below base/);
  await refused('services:\n  a: {command: [x], stop: {signal: SIGNOPE}}\n', 'services.a.stop.signal', /invalid signal/);
  await refused('services:\n  a: {command: [x], environment: {1A: x}}\n', 'services.a.environment.1A', /variable name/);
  await refused('services:\n  a: {command: [x], enabled: "no"}\n', 'services.a.enabled', /true or false/);
  await refused('services:\n  a: {command: [x], purpose: p, description: d}\n', 'services.a.description', /keep one/);
});
