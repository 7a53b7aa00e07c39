import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachContainers } from '../../src/os/index.js';
import type { PublishedPort } from '../../src/os/index.js';
import type { Listener } from '../../src/types.js';

const web = { id: '5bd514207e2f', name: 'web1', image: 'localhost/bb:latest' };
const db = { id: '8dfafdbc3a40', name: 'shop-db-1', image: 'postgres:16' };

const listener = (over: Partial<Listener>): Listener => ({
  protocol: 'tcp',
  address: '127.0.0.1',
  port: 3000,
  pid: 100,
  process: 'node',
  command: 'node server.js',
  user: 'alice',
  container: null,
  ...over,
});

test('a listener on a published port gets its container; others are left alone', () => {
  const listeners = [
    listener({ port: 18080, pid: 3844, process: 'conmon', command: '/usr/bin/conmon --api-version 1 ...' }),
    listener({ port: 3000 }),
  ];
  const published: PublishedPort[] = [{ port: 18080, protocol: 'tcp', address: '127.0.0.1', container: web }];
  const result = attachContainers(listeners, published);
  assert.deepEqual(
    result.map((l) => [l.port, l.pid, l.process, l.container?.name ?? null]),
    [
      [3000, 100, 'node', null],
      [18080, 3844, 'conmon', 'web1'],
    ],
  );
});

test('a published port nobody visible listens on is added with pid and process null', () => {
  const published: PublishedPort[] = [
    { port: 5433, protocol: 'tcp', address: '0.0.0.0', container: db },
    { port: 5433, protocol: 'tcp', address: '::', container: db },
  ];
  assert.deepEqual(attachContainers([], published), [
    { protocol: 'tcp', address: '0.0.0.0', port: 5433, pid: null, process: null, command: null, user: null, container: db },
    { protocol: 'tcp', address: '::', port: 5433, pid: null, process: null, command: null, user: null, container: db },
  ]);
});

test('docker-proxy on both families: each listener is marked, nothing is added', () => {
  const listeners = [
    listener({ address: '0.0.0.0', port: 5433, pid: 2001, process: 'docker-proxy' }),
    listener({ address: '::', port: 5433, pid: 2002, process: 'docker-proxy' }),
  ];
  const published: PublishedPort[] = [
    { port: 5433, protocol: 'tcp', address: '0.0.0.0', container: db },
    { port: 5433, protocol: 'tcp', address: '::', container: db },
  ];
  const result = attachContainers(listeners, published);
  assert.equal(result.length, 2);
  assert.ok(result.every((l) => l.container === db && l.pid !== null));
});

test('protocol and port must both match, exactly', () => {
  const published: PublishedPort[] = [{ port: 1053, protocol: 'udp', address: '127.0.0.1', container: web }];
  const result = attachContainers([listener({ port: 1053 }), listener({ port: 105, protocol: 'udp' }), listener({ port: 10530, protocol: 'udp' })], published);
  assert.deepEqual(
    result.map((l) => [l.protocol, l.port, l.pid, l.container?.name ?? null]),
    [
      ['tcp', 1053, 100, null],
      ['udp', 105, 100, null],
      ['udp', 1053, null, 'web1'],
      ['udp', 10530, 100, null],
    ],
  );
});
