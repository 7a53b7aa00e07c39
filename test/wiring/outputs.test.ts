import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { ENV_FORMATS, parseEnvFormat, renderEnv, writeEnvOutput } from '../../src/workflows/env-format.js';
import { serviceHost, serviceHostVariable, urlHost } from '../../src/wiring/hosts.js';
import { listPoolUrls } from '../../src/wiring/urls.js';
import { leaseVariables } from '../../src/wiring/variables.js';
import type { SetsPoolConfig } from '../../src/types.js';
import { lease, seriesPool } from '../helpers/fixtures.js';

test('parseEnvFormat accepts the four formats and names them when refusing', () => {
  for (const f of ENV_FORMATS) assert.equal(parseEnvFormat(f), f);
  assert.throws(
    () => parseEnvFormat('yaml'),
    (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /unknown format 'yaml'.*dotenv, shell, compose, json/.test(e.message),
  );
});

test('renderEnv: each format from the same variables', () => {
  const vars = leaseVariables([lease('web', 3000)], [], { urls: true, host: "it's here" });
  assert.equal(renderEnv('dotenv', vars), `WEB_PORT=3000\nWEB_URL="http://it's here:3000"\n`);
  assert.equal(renderEnv('shell', vars), `export WEB_PORT='3000'\nexport WEB_URL='http://it'\\''s here:3000'\n`);
  assert.match(renderEnv('compose', vars), /^# .*\nWEB_PORT=3000\nWEB_URL="http:\/\/it's here:3000"\n$/);
  assert.deepEqual(JSON.parse(renderEnv('json', vars)), { WEB_PORT: '3000', WEB_URL: "http://it's here:3000" });
});

test('writeEnvOutput: dotenv merges, other formats replace, an unchanged file is not touched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-out-'));
  try {
    const vars = leaseVariables([lease('web', 3000)], []);
    const env = join(dir, '.env');
    writeFileSync(env, '# mine\nKEEP=1\nWEB_PORT=1\n');
    assert.equal((await writeEnvOutput(env, 'dotenv', vars)).changed, true);
    assert.equal(readFileSync(env, 'utf8'), '# mine\nKEEP=1\nWEB_PORT=3000\n');
    const sh = join(dir, 'ports.sh');
    writeFileSync(sh, 'old stuff\n');
    assert.equal((await writeEnvOutput(sh, 'shell', vars)).changed, true);
    assert.equal(readFileSync(sh, 'utf8'), "export WEB_PORT='3000'\n");
    const before = statSync(sh).mtimeMs;
    const again = await writeEnvOutput(sh, 'shell', vars);
    assert.equal(again.changed, false);
    assert.equal(statSync(sh).mtimeMs, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('urlHost: --host, else BERTH_HOST, else localhost; empty counts as unset', () => {
  assert.equal(urlHost(undefined, {}), 'localhost');
  assert.equal(urlHost(undefined, { BERTH_HOST: '' }), 'localhost');
  assert.equal(urlHost(undefined, { BERTH_HOST: 'box.lan' }), 'box.lan');
  assert.equal(urlHost('127.0.0.1', { BERTH_HOST: 'box.lan' }), '127.0.0.1');
  assert.throws(() => urlHost(''), UsageError);
  assert.throws(() => urlHost('a\nb'), UsageError);
});

test('serviceHost: <NAME>_HOST, else BERTH_HOST, else localhost', () => {
  assert.equal(serviceHostVariable('web-app'), 'WEB_APP_HOST');
  assert.equal(serviceHost('api', {}), 'localhost');
  assert.equal(serviceHost('api', { BERTH_HOST: 'shared' }), 'shared');
  assert.equal(serviceHost('api', { BERTH_HOST: 'shared', API_HOST: 'api.internal' }), 'api.internal');
  assert.equal(serviceHost('api', { API_HOST: '', BERTH_HOST: 'shared' }), 'shared');
});

test('listPoolUrls: a bounded pool lists every slot in order, held or not', () => {
  const pool = seriesPool('stack', { postgres: 5433, admin: 8002 }, { step: 2, slots: 10, urls: ['http://localhost:${admin}/cb'] });
  const urls = listPoolUrls(pool, new Map([[3, 'ws-3']]));
  assert.deepEqual(urls.map((u) => u.slot), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(urls.map((u) => u.url), Array.from({ length: 10 }, (_, k) => `http://localhost:${8002 + 2 * k}/cb`));
  assert.deepEqual(urls.filter((u) => u.heldBy !== null).map((u) => [u.slot, u.heldBy]), [[3, 'ws-3']]);
});

test('listPoolUrls: an open-ended pool lists only the held slots, in slot order', () => {
  const pool = seriesPool('stack', { admin: 8002 }, { urls: ['http://localhost:${admin}/a', 'http://localhost:${admin}/b'] });
  const urls = listPoolUrls(pool, new Map([[7, 'x'], [2, 'y']]));
  assert.deepEqual(urls.map((u) => u.url), ['http://localhost:8004/a', 'http://localhost:8004/b', 'http://localhost:8009/a', 'http://localhost:8009/b']);
  assert.deepEqual(listPoolUrls(pool, new Map()), []);
});

test('listPoolUrls: a sets pool lists each set', () => {
  const pool: SetsPoolConfig = { kind: 'sets', name: 'pairs', roles: ['api', 'web'], urls: ['http://localhost:${web}/'], protocol: 'tcp', sets: [{ api: 5001, web: 8001 }, { api: 5003, web: 8003 }] };
  assert.deepEqual(listPoolUrls(pool, new Map()).map((u) => u.url), ['http://localhost:8001/', 'http://localhost:8003/']);
});
