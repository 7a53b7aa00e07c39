/**
 * The wiring methods through the library, imported the way users import it:
 * `import { openBerth } from 'berth'` (the package's own entry, resolved by name).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSeq, parseDocument } from 'yaml';
import { COMPOSE_YAML_TAGS } from '../../src/wiring/compose-ports.js';

type Lib = typeof import('../../src/index.js');

const BASE = 28_000 + Math.floor(Math.random() * 20) * 200 + 100;

let lib: Lib;
let dir: string;
let berth: Awaited<ReturnType<Lib['openBerth']>>;

describe('library: wiring on the engine', () => {
  before(async () => {
    // By package name, as a user would; cast because the name resolves only once built.
    lib = (await import('berth' as string)) as Lib;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lib-'));
    fs.writeFileSync(
      path.join(dir, 'berth.yaml'),
      [
        'project: libdemo',
        `base: ${BASE}`,
        'services:',
        '  web: {}',
        '  api:',
        '    env: API_LISTEN_PORT',
        'pools:',
        '  stack:',
        '    ports: { admin: 18002 }',
        '    slots: 10',
        "    urls: ['http://localhost:${admin}/cb']",
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    ports: ["8080:80"]\n');
    berth = await lib.openBerth({ cwd: dir, db: path.join(dir, 'berth.db'), env: {} });
  });

  after(async () => {
    await berth?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('allocate, get, env and url give one consistent view', async () => {
    const [web, api] = await berth.allocate();
    assert.equal((await berth.get('web')).port, web!.port);
    const vars = await berth.env({ urls: true, host: '127.0.0.1' });
    assert.deepEqual(
      Object.fromEntries(vars.map((v) => [v.name, v.value])),
      {
        WEB_PORT: String(web!.port),
        WEB_URL: `http://127.0.0.1:${web!.port}`,
        API_LISTEN_PORT: String(api!.port),
        API_URL: `http://127.0.0.1:${api!.port}`,
      },
    );
    assert.equal(await berth.url('web', { env: {} }), `http://localhost:${web!.port}`);
    assert.equal(await berth.url('api', { env: { API_HOST: 'api.internal', BERTH_HOST: 'box' } }), `http://api.internal:${api!.port}`);
    assert.equal(await berth.url('web', { env: { API_HOST: 'api.internal', BERTH_HOST: 'box' } }), `http://box:${web!.port}`);
    await assert.rejects(berth.url('nope', { env: {} }), lib.NotFoundError);
    assert.deepEqual((await berth.urls({ host: 'h' })).map((u) => u.url), [`http://h:${web!.port}`, `http://h:${api!.port}`]);
  });

  it('writeEnv merges into .env; poolUrls lists every slot; an unknown pool is a UsageError', async () => {
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, '# keep\nX=1\nWEB_PORT=1\n');
    const result = await berth.writeEnv(file);
    assert.equal(result.changed, true);
    const web = await berth.get('web');
    const api = await berth.get('api');
    assert.equal(fs.readFileSync(file, 'utf8'), `# keep\nX=1\nWEB_PORT=${web.port}\nAPI_LISTEN_PORT=${api.port}\n`);
    const urls = await berth.poolUrls('stack');
    assert.deepEqual(urls.map((u) => u.url), Array.from({ length: 10 }, (_, k) => `http://localhost:${18002 + k}/cb`));
    await assert.rejects(berth.poolUrls('nope'), lib.UsageError);
  });

  it('composeOverride maps the leased host port with !override', async () => {
    const web = await berth.get('web');
    const result = await berth.composeOverride({ dirs: [dir] });
    assert.equal(result.composeFile, path.join(dir, 'compose.yaml'));
    const doc = parseDocument(result.text, { customTags: COMPOSE_YAML_TAGS });
    const ports = doc.getIn(['services', 'web', 'ports'], true);
    assert.ok(isSeq(ports));
    assert.equal(ports.tag, '!override');
    assert.deepEqual(doc.toJS(), { services: { web: { ports: [`${web.port}:80`] } } });
    await assert.rejects(berth.composeOverride({ dirs: [path.join(dir, 'nowhere')] }), lib.UsageError);
  });

  it('run passes PORT and the variables, returns the exit status, and releases ephemeral leases', async () => {
    const web = await berth.get('web');
    const script = `process.exit(process.env.PORT === '${web.port}' && process.env.API_LISTEN_PORT !== undefined ? 5 : 1)`;
    const outcome = await berth.run(process.execPath, ['-e', script], { checkPorts: false });
    assert.equal(outcome.exitCode, 5);
    assert.equal(outcome.variables['PORT'], String(web.port));

    const warnings: string[] = [];
    const tmp = await berth.run(process.execPath, ['-e', 'process.exit(0)'], { names: ['tmp'], ephemeral: true, checkPorts: false, warn: (m) => warnings.push(m) });
    assert.equal(tmp.exitCode, 0);
    assert.deepEqual(tmp.released.map((l) => [l.name, l.pid]), [['tmp', tmp.pid]]);
    await assert.rejects(berth.get('tmp'), lib.NotFoundError);
    assert.equal(warnings.length, 0, warnings.join('\n'));

    const sticky = await berth.run(process.execPath, ['-e', ''], { names: ['web'], ephemeral: true, checkPorts: false, warn: (m) => warnings.push(m) });
    assert.deepEqual(sticky.released, []);
    assert.equal((await berth.get('web')).port, web.port, 'a sticky lease stays sticky');
    assert.match(warnings.join('\n'), /lease web .* stays after the command ends/);

    await assert.rejects(berth.run('berth-no-such-command-7c1', []), (e: unknown) => e instanceof lib.UsageError && e.details?.['shellStatus'] === 127);
  });

  it('release and list still see the same leases', async () => {
    assert.deepEqual((await berth.list({ scope: 'libdemo' })).map((l) => l.name).sort(), ['api', 'web']);
    await berth.release(['api']);
    assert.deepEqual((await berth.env()).map((v) => v.name), ['WEB_PORT']);
  });
});
