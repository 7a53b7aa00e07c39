/** The pure dependency graph: start and shutdown order, subsets, --no-deps, cycles. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCycle, selectWithDependencies, selectWithDependents, shutdownOrder, startOrder } from '../../src/config/graph.js';

const STACK = [
  { name: 'web', needs: ['api'] },
  { name: 'api', needs: ['db', 'cache'] },
  { name: 'worker', needs: ['db'] },
  { name: 'db', needs: [] },
  { name: 'cache', needs: [] },
];

test('start order puts every service after what it needs, in waves, berth.yaml order within a wave', () => {
  assert.deepEqual(startOrder(STACK), ['db', 'cache', 'api', 'worker', 'web']);
  assert.deepEqual(shutdownOrder(STACK), ['web', 'worker', 'api', 'cache', 'db']);
});

test('a subset brings its dependencies unless --no-deps; stopping one stops its dependents', () => {
  assert.deepEqual(selectWithDependencies(STACK, ['web']), ['db', 'cache', 'api', 'web']);
  assert.deepEqual(selectWithDependencies(STACK, ['web'], true), ['web']);
  assert.deepEqual(selectWithDependencies(STACK, []), startOrder(STACK));
  assert.deepEqual(selectWithDependents(STACK, ['db']), ['web', 'worker', 'api', 'db']);
  assert.deepEqual(selectWithDependents(STACK, ['web']), ['web']);
});

test('cycles are found and named; unknown names are left to the config check', () => {
  assert.equal(findCycle(STACK), null);
  assert.deepEqual(findCycle([{ name: 'a', needs: ['b'] }, { name: 'b', needs: ['a'] }]), ['a', 'b', 'a']);
  assert.deepEqual(findCycle([{ name: 'x', needs: ['x'] }]), ['x', 'x']);
  assert.equal(findCycle([{ name: 'a', needs: ['ghost'] }]), null);
});
