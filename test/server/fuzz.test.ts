/**
 * Fuzzing a real daemon: FUZZ_COUNT malformed requests, generated from a seeded PRNG (the
 * same requests every run; BERTH_FUZZ_SEED picks another sequence): bad and deep JSON,
 * bodies near the size limit, a wrong type for every body field of every mutation, odd
 * paths and encodings, odd methods, repeated query parameters, bad numbers, empty bodies
 * and arrays as bodies. Every answer must be a well-formed problem+json with a 4xx status,
 * or a 200 with a well-formed body where the input happened to be a valid read. Every
 * mutation sent is invalid by construction (each carries at least one field, value or
 * path the API must refuse), so the store must be unchanged afterwards, no event
 * recorded, the process the kill routes aim at still alive, and the daemon still answering.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROUTES, type JsonSchema, type Route } from '../../src/http/routes.js';
import { tempDir } from '../helpers/cli.js';
import { exportState, freePort, killQuietly, lastEventId, listener, request, startDaemon, type Daemon, type Req, type Res } from './harness.js';
import { seededRandom as prng } from '../helpers/random.js';

/** How many requests one run sends. */
const FUZZ_COUNT = 3000;
/** Requests in flight at once (over keep-alive connections). */
const IN_FLIGHT = 8;
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 0xbe27);


/** One generated request, and what it must get. */
interface Case extends Req {
  /** What the generator meant, for the failure message. */
  readonly what: string;
  /** `refused`: a 4xx problem; `any`: that, or a 200 with a well-formed body. */
  readonly expect: 'refused' | 'any';
}

/** Values of the wrong JSON type (or out of the schema's bounds) for a field of `schema`. */
function wrongValues(schema: JsonSchema): unknown[] {
  const huge = 'x'.repeat(200_000);
  const deep = JSON.parse('['.repeat(1000) + ']'.repeat(1000)) as unknown;
  const common = [null, {}, [], { $ne: 1 }, deep];
  const type = schema.type ?? (schema.enum ? 'enum' : 'object');
  switch (type) {
    case 'integer': {
      const bounded = schema.minimum !== undefined ? [Number(schema.minimum) - 1, Number(schema.maximum ?? 2 ** 31) + 1, 1e300, -1e300] : [];
      return [...common, '1', '4000', '0x10', '1e3', 1.5, true, false, huge, [1], ...bounded];
    }
    case 'boolean':
      return [...common, 'true', 'false', 1, 0, 'yes', huge, [true]];
    case 'string':
      return [...common, 1, 0, true, false, [huge], ['a'], { toString: 'x' }];
    case 'enum':
      return [...common, 1, true, 'TCP', 'tcp ', 'random', '', huge, ['tcp']];
    case 'array':
      return [...common.filter((v) => !Array.isArray(v) || v === deep), 'a', 1, true, { 0: 'a', length: 1 }, [null], [1.5], [{}], [[]], huge];
    default:
      return [null, 'x', 1, true, [], [{}], huge];
  }
}

describe(`fuzzing a real daemon with ${FUZZ_COUNT} malformed requests (seed ${SEED})`, () => {
  const { dir, cleanup } = tempDir('berth-fuzz-');
  let d: Daemon;
  let victim: ChildProcess;
  let victimPort = 0;
  let agent: http.Agent;

  before(async () => {
    // The victim's port comes from the OS: the kill routes must aim at this test's process only.
    fs.writeFileSync(path.join(dir, 'berth.yaml'), `project: fz\nservices:\n  victim:\n    port: ${await freePort()}\n  web: {}\npools:\n  fzpool:\n    ports: { a: 27801, b: 27901 }\n    slots: 2\n`);
    d = await startDaemon({ dir });
    const seed: Req[] = [
      { method: 'POST', path: '/v1/leases/fz/allocate', body: {} },
      { method: 'PUT', path: '/v1/leases/other%2Fscope/a', body: { purpose: 'kept' } },
      { method: 'PUT', path: '/v1/leases/fz/eph', body: { ephemeral: true, pid: process.pid } },
      { method: 'POST', path: '/v1/pools/fzpool/reserve', body: { scope: 'pooled' } },
    ];
    for (const req of seed) assert.equal((await request(d, req)).status, 200, `${req.method} ${req.path}`);
    victimPort = (await request(d, { path: '/v1/leases/fz/victim' })).json.port;
    victim = await listener(victimPort);
    agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  });
  after(async () => {
    agent?.destroy();
    killQuietly(victim);
    await d?.stop();
    cleanup();
  });

  /** The cases, in order, from the seed. */
  function generate(count: number, snapshot: unknown): Case[] {
    const rand = prng(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const int = (n: number): number => Math.floor(rand() * n);
    const mutations = ROUTES.filter((r) => r.mutates);
    const reads = ROUTES.filter((r) => !r.mutates && r.response !== 'event-stream');
    const badNumbers = ['1e3', '-1', '65536', '0x10', '0', '', ' 1', '1.5', 'NaN', 'Infinity', '99999999999999999999', '+1', '1_000', '０', '%31', '4000%00'];
    /** A path segment for a number: `valid`, or a bad number (URL-encoded unless it is already percent-encoded). */
    const pathNumber = (valid: string): string => {
      const n = pick([valid, ...badNumbers.filter((x) => x !== '')]);
      return n.includes('%') ? n : encodeURIComponent(n);
    };
    /** A path for a mutation that, with a valid body, would act on the victim or on test data. */
    const mutationPath = (r: Route): string =>
      r.path
        .replace('{scope}', pick(['fz', 'other%2Fscope', 'pooled']))
        .replace('{name}', r.id === 'leases.kill' || r.id === 'udos.killService' ? 'victim' : pick(['web', 'a', 'eph', 'victim']))
        .replace('{pool}', 'fzpool')
        .replace('{port}', String(victimPort));
    /** A body that is valid for `r` apart from what the caller adds. */
    const baseBody = (r: Route): Record<string, unknown> =>
      ({
        'leases.allocate': { requests: [{ name: 'fresh' }] },
        'leases.reassign': { port: 24999 },
        'leases.handOver': { names: ['eph'], from: process.pid, to: d.child.pid },
        'leases.releaseOwned': { names: ['eph'], pids: [process.pid] },
        'pools.reserve': { scope: 'fresh-pool' },
        'registry.import': { snapshot, replace: true },
        'registry.reset': { yes: true },
      })[r.id] ?? {};
    const readPath = (r: Route): string =>
      r.path
        .replace('{scope}', pick(['fz', 'other%2Fscope', 'nope', '%2F', '%00', '..', '%E2%9C%93']))
        .replace('{name}', pick(['web', 'nope', 'a', '%20', 'x'.repeat(300)]))
        .replace('{pool}', pick(['fzpool', 'nope', '%25']))
        .replace('{port}', pathNumber(String(victimPort)))
        .replace('{id}', pathNumber('1'));
    const json = { 'Content-Type': 'application/json' };

    const generators: (() => Case)[] = [
      // A wrong type for one body field of a mutation; the rest of the body valid.
      () => {
        const r = pick(mutations.filter((m) => m.body && Object.keys((m.body.properties ?? {}) as object).length > 0));
        const props = r.body!.properties as Record<string, JsonSchema>;
        const field = pick(Object.keys(props));
        let value = pick(wrongValues(props[field]!));
        // In a list of requests, the wrong type goes into one request's field.
        if (field === 'requests' && rand() < 0.5) {
          const inner = (props.requests!.items as JsonSchema).properties as Record<string, JsonSchema>;
          const f = pick(Object.keys(inner));
          value = [{ name: 'fresh', [f]: pick(wrongValues(inner[f]!)) }];
        }
        return { what: `${r.id}: ${field} = ${JSON.stringify(value)?.slice(0, 60)}`, method: r.method, path: mutationPath(r), body: { ...baseBody(r), [field]: value }, expect: 'refused' };
      },
      // A field no route takes.
      () => {
        const r = pick(mutations);
        const field = pick(['command', 'Port', '__proto__', 'constructor', 'toString', '', ' port', 'port ', 'x'.repeat(5000)]);
        return { what: `${r.id}: unknown field ${JSON.stringify(field).slice(0, 40)}`, method: r.method, path: mutationPath(r), raw: `{${JSON.stringify(field)}: 1}`, headers: json, expect: 'refused' };
      },
      // JSON that is not JSON, or not an object.
      () => {
        const r = pick(mutations);
        const depth = 1 + int(300_000);
        const raw = pick<string | Buffer>([
          '{',
          '{"port":}',
          '{"port": 01}',
          "{'port': 1}",
          '{"port": NaN}',
          '{"port": 1,}',
          '\uFEFF{}',
          'nul',
          '[1,2',
          '{"a": "\\ud800"}',
          Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
          '{"__proto__": {"yes": true}}',
          '[]',
          '[{}]',
          'null',
          '"text"',
          '42',
          'true',
          '{"yes": true} {"yes": true}',
          '['.repeat(depth) + ']'.repeat(depth),
          `{"a":${'{"a":'.repeat(Math.min(depth, 200_000))}1${'}'.repeat(Math.min(depth, 200_000))}}`,
          `${' '.repeat(int(1 << 20))}{"zz": 1}`,
        ]);
        return { what: `${r.id}: bad JSON ${String(raw).slice(0, 40)}`, method: r.method, path: mutationPath(r), raw, headers: json, expect: 'refused' };
      },
      // An empty body where the route needs fields.
      () => {
        const r = pick(ROUTES.filter((m) => ['leases.reassign', 'leases.handOver', 'leases.releaseOwned', 'pools.reserve', 'registry.import', 'registry.reset'].includes(m.id)));
        return { what: `${r.id}: empty body`, method: r.method, path: mutationPath(r), raw: pick(['', ' ', '\n', '{}']), headers: json, expect: 'refused' };
      },
      // A bad port or id in a mutation's path.
      () => {
        const r = pick(ROUTES.filter((m) => m.mutates && m.path.includes('{port}')));
        const port = pick(badNumbers.filter((n) => !/^\d+$/.test(n) || Number(n) > 65535 || Number(n) === 0));
        return { what: `${r.id}: port ${port}`, method: r.method, path: r.path.replace('{port}', encodeURIComponent(port)), body: {}, expect: 'refused' };
      },
      // Odd paths and encodings, read and write.
      () => {
        const long = 'a'.repeat(1 + int(6000));
        const p = pick([
          '/%',
          '/v1/%',
          '/v1/leases/%2',
          '/v1/leases/%00/x',
          '/v1/leases/fz/%00',
          '/v1/leases/..%2F..%2Fetc/passwd',
          '/v1/../v1/leases',
          '/v1/leases/./web',
          '//v1/leases',
          '/v1/leases/',
          '/V1/LEASES',
          '/v1/leases?',
          '/v1/leases#x',
          `/v1/leases/${long}/${long}`,
          `/v1/${long}`,
          '/v1/leases/%E2%9C%93/%F0%9F%98%80',
          '/v1/leases/%C0%AF/x',
          '/v1/leases/%FF%FE/x',
          '/v1/ports/%31%32',
          '/v1/leases/fz/web/../../reset',
          '/api/ports/services/%2e%2e',
          '/api/ports/../../v1/reset',
          '/metrics/',
          '/v1/health/..',
          '/v1/openapi.json%00',
          '*',
          '/v1/leases?scope=%',
          '/v1/leases?scope=%ZZ',
          '/v1/leases?scope=%00',
          '/v1/leases?%00=1',
          '/v1/leases?=',
          '/v1/leases?&&&',
          `/v1/leases?scope=${long}`,
          '/v1/project?dir=%00',
          '/v1/project?dir=/',
          '/v1/project?dir=../../../../..',
          '/v1/project?config=%00.yaml',
          '/v1/project?config=/nonexistent/berth.yaml',
          '/v1/project?config=/etc/hostname.yaml',
          '/v1/project?dir=/proc/self&config=environ.yaml',
          '/v1/status?dir=%E2%9C%93',
          '/api/ports/status?scope=%00',
        ]);
        if (rand() < 0.5) return { what: `GET ${p.slice(0, 60)}`, path: p, expect: 'any' };
        return { what: `${pick(['PUT', 'POST', 'DELETE'])} ${p.slice(0, 60)} with an unknown field`, method: pick(['PUT', 'POST', 'DELETE']), path: p, raw: '{"command": "true"}', headers: json, expect: 'refused' };
      },
      // Methods the API does not take.
      () => {
        const r = pick(ROUTES);
        const method = pick(['PATCH', 'TRACE', 'PROPFIND', 'PURGE', 'LINK', 'SEARCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'OPTIONS', 'HEAD', 'REPORT']);
        return { what: `${method} ${r.path}`, method, path: readPath(r), raw: '{"command": "true"}', headers: json, expect: 'refused' };
      },
      // A query parameter given twice, or one the route does not take.
      () => {
        const r = pick(reads);
        const names = Object.keys({ ...(r.query ?? {}), dir: 1 });
        const name = pick(names);
        const q = rand() < 0.7 ? `${name}=1&${name}=2` : `${pick(['token', 'x', 'Scope', 'scope[]', 'scope.x', '__proto__'])}=1`;
        return { what: `${r.id}: ?${q}`, path: `${readPath(r)}?${q}`, expect: 'refused' };
      },
      // Bad numbers and odd values in queries and path parameters of reads.
      () => {
        const r = pick(reads);
        const params = Object.entries(r.query ?? {});
        const qs = params
          .filter(() => rand() < 0.5)
          .map(([name, type]) => `${name}=${encodeURIComponent(type === 'string' ? pick(['', '%', '\u0000', 'x'.repeat(2000), '1-0', '65535-1', 'dotenv', 'udp', 'xml', ...badNumbers]) : pick(badNumbers))}`);
        return { what: `${r.id}: ${qs.join('&').slice(0, 60)}`, path: `${readPath(r)}${qs.length ? `?${qs.join('&')}` : ''}`, expect: 'any' };
      },
      // A JSON body of the right shape under a content type that is not JSON.
      () => {
        const r = pick(mutations);
        const type = pick(['text/plain', 'application/jsonx', 'application/x-www-form-urlencoded', 'text/json', 'application/json-seq', '*/*', 'application/ json']);
        return { what: `${r.id}: Content-Type ${type}`, method: r.method, path: mutationPath(r), raw: JSON.stringify(baseBody(r)), headers: { 'Content-Type': type }, expect: 'refused' };
      },
    ];
    return Array.from({ length: count }, () => pick(generators)());
  }

  function check(c: Case, res: Res): void {
    const where = `[${c.what}] ${c.method ?? 'GET'} ${c.path.slice(0, 80)} → ${res.status} ${res.text.slice(0, 300)}`;
    if (res.status === 200 && c.expect === 'any') {
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('application/json')) assert.notEqual(res.json, undefined, `${where}: a 200 whose JSON does not parse`);
      else assert.match(type, /^text\/(plain|x-shellscript)/, `${where}: a 200 of type ${type}`);
      return;
    }
    assert.ok(res.status >= 400 && res.status < 500, `${where}: expected a 4xx problem`);
    assert.match(String(res.headers['content-type'] ?? ''), /^application\/problem\+json/, where);
    if (c.method === 'HEAD') return;
    const body = res.json as Record<string, unknown> | undefined;
    assert.ok(body && typeof body.code === 'string' && body.status === res.status && typeof body.detail === 'string' && typeof body.title === 'string', `${where}: a malformed problem`);
    // A message may quote a bad name from the path or query (at most a header's size), never a body.
    assert.ok((body.detail as string).length < 16_384, `${where}: the message echoes too much input`);
  }

  it('every answer is a 4xx problem+json (or a valid read), the daemon survives, nothing changes', async () => {
    const snapshotRes = await request(d, { path: '/v1/export' });
    const before = exportState(d);
    const lastBefore = await lastEventId(d);
    const cases = generate(FUZZ_COUNT, snapshotRes.json);
    const failures: string[] = [];
    const counts = { refused: 0, ok: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++]!;
        try {
          const res = await request(d, { ...c, agent });
          if (res.status === 200) counts.ok++;
          else counts.refused++;
          check(c, res);
        } catch (error) {
          if (failures.length < 20) failures.push((error as Error).message.split('\n')[0]!);
          else failures.length++;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} answers were wrong (seed ${SEED})`);
    assert.equal(counts.ok + counts.refused, FUZZ_COUNT);
    assert.ok(counts.refused > FUZZ_COUNT / 2, `${counts.refused} refused, ${counts.ok} valid reads`);

    assert.equal(d.child.exitCode, null, `the daemon exited:\n${d.output()}`);
    assert.equal((await request(d, { path: '/v1/health' })).status, 200);
    assert.equal(exportState(d), before, 'the store is unchanged');
    assert.equal(await lastEventId(d), lastBefore, 'no change was recorded');
    assert.equal(victim.exitCode, null, 'the process on the kill routes’ port still runs');
    assert.equal(victim.signalCode, null, 'the process on the kill routes’ port still runs');
    assert.doesNotMatch(d.output(), /Error|at .*\.js:\d+/, 'the daemon logged no crash');
  });
});
