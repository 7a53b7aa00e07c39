/**
 * DESIGN.md: "The daemon, server and web assets stay out of the CLI's start-up path."
 * Every file the CLI's entry reaches by static imports (the code every `berth` command
 * evaluates) is listed; none may be the server's, the remote client's or the dashboard
 * page's. Those load through `import()` in the commands that need them. Reads the sources.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.js';

const ENTRY = 'src/cli/main.ts';
/** Folders whose code only some commands load. */
const KEPT_OUT = ['src/server/', 'src/client/', 'src/dashboard/'];

/** Relative specifiers of `file`'s static value imports (type-only imports cost nothing at run time). */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)([^;]*?)\s+from\s+'(\.[^']+)'/gms)) {
    const names = m[1]!;
    // `import { type A, type B } from` is type-only too.
    const braces = /^\{([^}]*)\}$/.exec(names.trim());
    if (braces && braces[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(m[2]!);
  }
  for (const m of text.matchAll(/^import\s+'(\.[^']+)'/gm)) out.push(m[1]!);
  return out;
}

function resolve(from: string, spec: string): string {
  return path.posix.join(path.posix.dirname(from), spec).replace(/\.js$/, '.ts');
}

test("the CLI's start-up path reaches no server, client or dashboard code", () => {
  const seen = new Set<string>([ENTRY]);
  const queue = [ENTRY];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const spec of staticImports(file)) {
      const next = resolve(file, spec);
      if (!seen.has(next) && fs.existsSync(path.join(ROOT, next))) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  assert.ok(seen.has('src/cli/commands/dashboard.ts'), 'the reader follows the commands (it found berth dashboard\'s)');
  assert.deepEqual([...seen].filter((f) => KEPT_OUT.some((dir) => f.startsWith(dir))), []);
});
