/**
 * A separate process that allocates in a loop on one store file, for the race and crash
 * tests. Usage: node worker.js DB SCOPE COUNT NAMES_PER_CALL RANGE
 * Prints `ok N` after each allocate call and `done` at the end; errors go to stderr.
 */
import { openBerth } from '../../src/index.js';
import { parseRange } from '../../src/config/ports.js';

const [db, scope, count, perCall, range] = process.argv.slice(2);
const berth = await openBerth({ db, scope, cwd: process.cwd(), env: {} });
let failures = 0;
for (let i = 0; i < Number(count); i++) {
  const names = Array.from({ length: Number(perCall) }, (_, j) => ({ name: `s${i}-${j}`, range: parseRange(range!) }));
  try {
    await berth.allocate(names);
    process.stdout.write(`ok ${i + 1}\n`);
  } catch (err) {
    failures++;
    process.stderr.write(`allocate ${i}: ${(err as Error).message}\n`);
  }
}
await berth.close();
process.stdout.write('done\n');
process.exitCode = failures > 0 ? 1 : 0;
