/**
 * A long-lived engine (the daemon) parses each version of berth.yaml once, and still sees
 * every edit at once: the file is read on every call, only an unchanged text is not parsed
 * again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { ProjectResolver } from '../../src/core/project.js';
import { tempDir } from '../helpers/cli.js';

it('an unchanged berth.yaml is parsed once; an edit, even of the same size in the same instant, is seen at once', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'berth.yaml');
    fs.writeFileSync(file, 'project: memo-a\nservices:\n  web: {port: 21001}\n');
    const stamp = fs.statSync(file);
    const resolver = new ProjectResolver(dir);
    const first = await resolver.resolve({});
    const again = await resolver.resolve({});
    assert.equal(again.config, first.config, 'the same text gives the same parsed config');
    assert.equal(first.scope, 'memo-a');

    // Same length, timestamps put back: only the text tells the change.
    fs.writeFileSync(file, 'project: memo-b\nservices:\n  web: {port: 21002}\n');
    fs.utimesSync(file, stamp.atime, stamp.mtime);
    const edited = await resolver.resolve({});
    assert.equal(edited.scope, 'memo-b');
    assert.equal(edited.config.services[0]?.port, 21002);
  } finally {
    cleanup();
  }
});

it('a berth.yaml that becomes invalid is reported, not served from memory', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'berth.yaml');
    fs.writeFileSync(file, 'project: memo-c\n');
    const resolver = new ProjectResolver(dir);
    assert.equal((await resolver.resolve({})).scope, 'memo-c');
    fs.writeFileSync(file, 'project: [unclosed\n');
    await assert.rejects(resolver.resolve({}), (err: Error & { kind?: string }) => err.kind === 'config');
  } finally {
    cleanup();
  }
});
