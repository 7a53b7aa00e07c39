/**
 * `berth kill` refuses a container port forwarder found by its full executable name: a
 * real process whose executable is named `rootlessport-child` (Linux shows it as
 * `rootlessport-ch`) or `slirp4netns` listens on a loopback port, and the built CLI
 * refuses with exit 4 and leaves it running. The process is node under another name (a
 * hard link), so the test needs no container engine.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '../../src/os/index.js';
import { berthAsync, tempDir, type CliResult } from '../helpers/cli.js';
import { linkOrCopy, startNode, stopNode, TCP_LISTENER, type Helper } from '../os/helpers.js';

const TEST_TIMEOUT_MS = 60_000;
const show = (r: CliResult): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('berth kill refuses container port forwarders by their full executable name', { skip: process.platform !== 'linux' && 'the 15-character comm and /proc/PID/exe are Linux' }, () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  before(() => {
    ({ dir, cleanup } = tempDir('berth-kill-forwarders-'));
    db = path.join(dir, 'berth.db');
  });
  after(() => cleanup());

  /** Runs node, renamed to `name`, listening on a loopback port; kills it with berth; returns the run and whether it survived. */
  async function killForwarder(name: string, json = false): Promise<{ res: CliResult; helper: Helper; port: number; alive: boolean }> {
    const binary = path.join(dir, name);
    linkOrCopy(process.execPath, binary);
    const helper = await startNode(TCP_LISTENER, ['127.0.0.1', '0'], { execPath: binary });
    try {
      const port = Number(helper.firstLine);
      const res = await berthAsync(['kill', `:${port}`, '--grace', '2000', ...(json ? ['--json'] : [])], { cwd: dir, db });
      return { res, helper, port, alive: isAlive(helper.pid) };
    } finally {
      await stopNode(helper);
    }
  }

  it('rootlessport-child (comm rootlessport-ch): exit 4, podman named, the process lives', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { res, helper, port, alive } = await killForwarder('rootlessport-child');
    assert.equal(res.code, 4, show(res));
    assert.match(res.stderr, new RegExp(`refusing to kill the holders of tcp port ${port}; nothing was signalled\\.\\n  rootlessport-child \\(pid ${helper.pid}\\) holds port ${port} for a container;.*\`podman ps --filter publish=${port}, then podman stop NAME\``));
    assert.equal(alive, true, 'not signalled');
  });

  it('slirp4netns: exit 4, a rootless container network named, the process lives', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { res, port, alive } = await killForwarder('slirp4netns', true);
    assert.equal(res.code, 4, show(res));
    const error = JSON.parse(res.stderr) as { error: string; refusals: { kind: string; reason: string; instead: string }[] };
    assert.equal(error.error, 'refused');
    assert.deepEqual(error.refusals.map((r) => [r.kind, r.instead]), [['container', `podman ps --filter publish=${port}, then podman stop NAME`]]);
    assert.match(error.refusals[0]!.reason, /forwards port \d+ into a rootless container's network/);
    assert.equal(alive, true, 'not signalled');
  });
});
