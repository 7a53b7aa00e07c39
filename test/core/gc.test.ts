/**
 * isDirectoryGone: when gc may count a scope's directory as gone. Real temp directories
 * for ENOENT and ENOTDIR; errors root cannot provoke (EACCES) or a test cannot (EIO,
 * ESTALE from a dead NFS server) come from an injected stat.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDirectoryGone } from '../../src/core/gc.js';

let dir: string;

/** A stat that fails with `code` for `failing` and stats everything else for real. */
function statFailing(failing: string, code: string): (p: string) => unknown {
  return (p) => {
    if (p === failing) throw Object.assign(new Error(`${code}: ${p}`), { code });
    return fs.statSync(p);
  };
}

describe('isDirectoryGone', () => {
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-gc-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an existing directory is not gone', () => {
    assert.equal(isDirectoryGone(dir), false);
  });

  it('a removed directory whose parent exists is gone', () => {
    assert.equal(isDirectoryGone(path.join(dir, 'never-made')), true);
  });

  it('a directory under a regular file (ENOTDIR) is gone', () => {
    fs.writeFileSync(path.join(dir, 'file'), '');
    assert.equal(isDirectoryGone(path.join(dir, 'file', 'proj')), true);
  });

  it('a directory whose parent is gone too is kept: the disk may be unmounted', () => {
    assert.equal(isDirectoryGone(path.join(dir, 'USB', 'proj')), false);
  });

  for (const code of ['EACCES', 'EIO', 'ESTALE', 'ELOOP', 'EPERM']) {
    it(`stat failing with ${code} is not gone`, () => {
      const proj = path.join(dir, 'unseen');
      assert.equal(isDirectoryGone(proj, statFailing(proj, code)), false);
    });
  }

  it('a parent that stat cannot read is not proof either', () => {
    const proj = path.join(dir, 'parent', 'proj');
    const stat = (p: string): unknown => {
      throw Object.assign(new Error('x'), { code: p === proj ? 'ENOENT' : 'EIO' });
    };
    assert.equal(isDirectoryGone(proj, stat), false);
  });

  it('a dangling symlink and a relative path are kept', () => {
    const link = path.join(dir, 'link');
    fs.symlinkSync(path.join(dir, 'nowhere'), link);
    assert.equal(isDirectoryGone(link), false);
    assert.equal(isDirectoryGone('relative/never-made'), false);
  });
});
