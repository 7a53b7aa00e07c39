/**
 * `berth gc` and scope directories, through the built CLI with real temp directories:
 * a scope is collected only when its directory is certainly gone (stat says ENOENT or
 * ENOTDIR and the parent exists), never when its disk may just be unmounted or unreadable.
 * Scopes with arbitrary directories come from `berth import` of a snapshot.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/types.js';
import { berth, json, tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;

interface GcJson {
  readonly dryRun: boolean;
  readonly deadLeases: readonly Lease[];
  readonly goneScopes: readonly { readonly scope: string; readonly directory: string; readonly leases: readonly Lease[] }[];
}

const IS_ROOT = process.getuid?.() === 0;

/** A store holding one lease per scope, each scope with the given directory. */
function storeWith(name: string, scopes: Record<string, string>): string {
  const db = path.join(dir, `${name}.db`);
  const now = new Date().toISOString();
  const entries = Object.entries(scopes);
  const snapshot = {
    format: 'berth-snapshot',
    version: 1,
    exportedAt: now,
    scopes: entries.map(([scope, directory]) => ({ host: 'local', name: scope, directory, createdAt: now })),
    leases: entries.map(([scope], i) => ({
      host: 'local', scope, name: 'web', port: 29101 + i, protocol: 'tcp', purpose: null, pool: null, slot: null, ephemeral: false, pid: null, createdAt: now, updatedAt: now,
    })),
  };
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(snapshot));
  const res = berth(['import', file], { cwd: dir, db });
  assert.equal(res.code, 0, res.stderr);
  return db;
}

const scopesLeft = (db: string) => [...new Set(json<Lease[]>(berth(['list', '--json'], { cwd: dir, db })).map((l) => l.scope))].sort();

describe('berth gc and scope directories', () => {
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => {
    // A directory made unreadable must be readable again to be removed.
    if (fs.existsSync(path.join(dir, 'locked'))) fs.chmodSync(path.join(dir, 'locked'), 0o755);
    cleanup();
  });

  it('collects a scope whose directory was removed, keeps one whose parent is gone too (an unmounted disk)', () => {
    const here = path.join(dir, 'here');
    const removed = path.join(dir, 'removed');
    const underGoneParent = path.join(dir, 'gone-parent', 'proj');
    const underFile = path.join(dir, 'a-file', 'proj');
    fs.mkdirSync(here);
    fs.mkdirSync(removed);
    fs.mkdirSync(underGoneParent, { recursive: true });
    fs.rmSync(removed, { recursive: true });
    fs.rmSync(path.join(dir, 'gone-parent'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a-file'), 'not a directory\n');
    const db = storeWith('mounts', { here, removed, usb: underGoneParent, 'under-file': underFile });

    const dry = json<GcJson>(berth(['gc', '--dry-run', '--json'], { cwd: dir, db }));
    assert.deepEqual(dry.goneScopes.map((s) => s.scope).sort(), ['removed', 'under-file']);
    assert.deepEqual(scopesLeft(db), ['here', 'removed', 'under-file', 'usb'], 'a dry run changes nothing');

    const res = berth(['gc'], { cwd: dir, db });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`released scope removed \\(directory ${removed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is gone\\): 1 lease`));
    assert.doesNotMatch(res.stdout, /scope usb/);
    assert.deepEqual(scopesLeft(db), ['here', 'usb']);
  });

  it('keeps a scope behind a dangling symlink: its target may be on an unmounted disk', () => {
    const link = path.join(dir, 'link-to-usb');
    fs.symlinkSync(path.join(dir, 'no-such-mount', 'proj'), link);
    const db = storeWith('links', { linked: link });
    const res = json<GcJson>(berth(['gc', '--json'], { cwd: dir, db }));
    assert.deepEqual(res.goneScopes, []);
    assert.deepEqual(scopesLeft(db), ['linked']);
  });

  it('keeps a scope whose directory cannot be read (EACCES)', { skip: IS_ROOT && 'root reads every directory, so stat never says EACCES' }, () => {
    const proj = path.join(dir, 'locked', 'proj');
    fs.mkdirSync(proj, { recursive: true });
    fs.chmodSync(path.join(dir, 'locked'), 0o000);
    const db = storeWith('locked', { locked: proj });
    const res = json<GcJson>(berth(['gc', '--json'], { cwd: dir, db }));
    assert.deepEqual(res.goneScopes, []);
    assert.deepEqual(scopesLeft(db), ['locked']);
  });
});
