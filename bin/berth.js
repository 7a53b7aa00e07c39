#!/usr/bin/env node
'use strict';
/*
 * The `berth` command. The CLI is bundled into one file (dist/berth.cjs, `npm run build`)
 * and started from a V8 code cache (dist/berth.cjs.cache): compiling the 500 kB bundle
 * from source is the largest part of berth's start-up, and the cache cuts it from ~15 ms
 * to ~2 ms. The cache is written on the first run that lacks a usable one (the build makes
 * it; a new Node version rejects it and the next run rewrites it); where dist/ is not
 * writable berth simply compiles from source.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
// The CommonJS Module class, without loading the public node:module (~0.5 ms).
const Module = module.constructor;

const file = path.join(__dirname, '..', 'dist', 'berth.cjs');
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  // No cache yet: compile from source below, and write one at exit.
}
// The bundle has no import() (a vm.Script cannot import), so a plain script suffices.
// It is pure ASCII (esbuild escapes the rest; scripts/bundle.mjs checks), so latin1 reads
// it exactly and gives V8 a one-byte string without UTF-8 decoding.
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'latin1')), { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    const temp = `${cacheFile}.${process.pid}`;
    try {
      fs.writeFileSync(temp, script.createCachedData());
      fs.renameSync(temp, cacheFile);
    } catch {
      // A read-only install: berth works the same, only its start-up stays slower.
      fs.rmSync(temp, { force: true });
    }
  });
}
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
