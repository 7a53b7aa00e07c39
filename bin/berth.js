#!/usr/bin/env node
// The CLI is bundled into one CommonJS file (npm run build) so that it starts fast.
// require() it rather than import it: importing CommonJS from ESM scans the whole bundle
// for export names, which cost more than everything else berth does at start-up.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../dist/berth.cjs');
