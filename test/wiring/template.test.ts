/**
 * Templates (wiring/template.ts), pure: placeholders, defaults, escapes, unknown names,
 * and the built-ins from a scope's variables.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_TEMPLATES, builtinTemplate, fillTemplate } from '../../src/wiring/template.js';
import { leaseVariables } from '../../src/wiring/variables.js';
import type { Lease } from '../../src/types.js';
import { UsageError } from '../../src/errors.js';

const lease = (name: string, port: number, protocol: Lease['protocol'] = 'tcp'): Lease => ({
  host: 'h', scope: 's', name, port, protocol, purpose: null, pool: null, slot: null, strategy: null, ephemeral: false, pid: null, createdAt: '', updatedAt: '',
});

test('fillTemplate: ${NAME}, ${NAME:-default}, $${ escapes, and $word passes through', () => {
  const vars = [{ name: 'WEB_PORT', value: '4000' }];
  assert.equal(fillTemplate('a ${WEB_PORT} b ${API_PORT:-9} c $${WEB_PORT} d $host $1', vars), 'a 4000 b 9 c ${WEB_PORT} d $host $1');
});

test('fillTemplate: every unknown name in one error, with the names there are', () => {
  assert.throws(
    () => fillTemplate('${A} ${B} ${A}', [{ name: 'WEB_PORT', value: '1' }], 'x.tpl'),
    (e: unknown) => e instanceof UsageError && /^x\.tpl: no variable for \$\{A\}, \$\{B\}\. The scope's variables are: WEB_PORT\./.test(e.message),
  );
});

test('built-ins: HTTP services only where there are some; connection schemes by name; udp left out', () => {
  const vars = leaseVariables([lease('web', 4000), lease('postgres', 4001), lease('redis-cache', 4002), lease('dns', 4003, 'udp')], [], { urls: true, host: 'localhost' });
  assert.deepEqual(BUILTIN_TEMPLATES.map((t) => t.name), ['nginx', 'prometheus', 'caddy', 'connections']);
  const nginx = builtinTemplate('nginx')!.render(vars, '127.0.0.1');
  assert.match(nginx, /upstream web \{\n    server 127\.0\.0\.1:4000;\n\}/);
  assert.doesNotMatch(nginx, /postgres|dns/);
  const conn = builtinTemplate('connections')!.render(vars, 'localhost');
  assert.match(conn, /WEB_URL=http:\/\/localhost:4000\nPOSTGRES_URL=postgresql:\/\/localhost:4001\nREDIS_CACHE_URL=redis:\/\/localhost:4002\n$/);
  // No HTTP service at all: every TCP lease is a target.
  const none = leaseVariables([lease('postgres', 5432)], [], { urls: true });
  assert.match(builtinTemplate('prometheus')!.render(none, 'localhost'), /targets: \['localhost:5432'\]/);
  assert.equal(builtinTemplate('nope'), undefined);
});
