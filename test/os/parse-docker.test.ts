import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseContainersJson } from '../../src/os/parse-docker.js';
import { DOCKER_CONTAINERS_JSON, PODMAN_CONTAINERS_JSON } from './fixtures.js';

test('podman: name without slash, short id, image, published loopback port', () => {
  assert.deepEqual(parseContainersJson(PODMAN_CONTAINERS_JSON), [
    { port: 18080, protocol: 'tcp', address: '127.0.0.1', container: { id: '5bd514207e2f', name: 'web1', image: 'localhost/bb:latest' } },
  ]);
});

test('docker: both families listed, exposed-only and sctp ports left out, udp kept, compose labels read', () => {
  const db = { id: '8dfafdbc3a40', name: 'shop-db-1', image: 'postgres:16', compose: { service: 'db', project: 'shop' } };
  assert.deepEqual(parseContainersJson(DOCKER_CONTAINERS_JSON), [
    { port: 5433, protocol: 'tcp', address: '0.0.0.0', container: db },
    { port: 5433, protocol: 'tcp', address: '::', container: db },
    { port: 1053, protocol: 'udp', address: '127.0.0.1', container: { id: 'c3d4e5f6a7b8', name: 'dns', image: 'coredns/coredns:1.11.1' } },
  ]);
});

test('missing IP means all addresses; repeated entries are listed once', () => {
  const body = JSON.stringify([
    { Id: 'abc', Names: [], Image: 'x', Ports: [{ PrivatePort: 80, PublicPort: 8081, Type: 'tcp' }, { PrivatePort: 80, PublicPort: 8081, Type: 'tcp' }] },
  ]);
  assert.deepEqual(parseContainersJson(body), [{ port: 8081, protocol: 'tcp', address: '0.0.0.0', container: { id: 'abc', name: 'abc', image: 'x' } }]);
});

test('bodies that are not a container list yield nothing', () => {
  assert.deepEqual(parseContainersJson('not json'), []);
  assert.deepEqual(parseContainersJson('{"message":"page not found"}'), []);
  assert.deepEqual(parseContainersJson('[null, 3, {"Names":["/no-id"]}, {"Id":"x","Ports":[{"PublicPort":"80","Type":"tcp"}]}]'), []);
});

test('compose labels: the project and service compose made the container for', () => {
  const body = JSON.stringify([
    { Id: 'def', Names: ['/orchestra-postgres-1'], Image: 'postgres:16', Labels: { 'com.docker.compose.project': 'orchestra', 'com.docker.compose.service': 'postgres' }, Ports: [{ PrivatePort: 5432, PublicPort: 5432, Type: 'tcp' }] },
    { Id: 'ghi', Names: ['/loose'], Image: 'x', Labels: { 'com.docker.compose.service': 'web' }, Ports: [{ PrivatePort: 80, PublicPort: 8082, Type: 'tcp' }] },
  ]);
  assert.deepEqual(parseContainersJson(body).map((p) => p.container.compose), [{ service: 'postgres', project: 'orchestra' }, { service: 'web', project: null }]);
});
