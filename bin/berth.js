#!/usr/bin/env node
// The CLI is bundled into one file (npm run build) so that it starts in a few milliseconds.
import '../dist/berth.cjs';
