/**
 * DESIGN.md's import rules, checked on the sources: which layer may import which, only
 * composition roots construct concrete engines, stores and machines, no import cycles,
 * no file over the size a person reads in one sitting. Reads src/*.ts from the repository
 * (not the build), so it checks what people edit, type-only imports included: a type
 * import still ties one layer to another's shape.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ROOT } from '../helpers/cli.js';

// ---- The rules, as data: adjust here as the layers move. -------------------------------

/**
 * What each layer may import besides itself. A file's layer is its folder under src/
 * (`src/core/reality/x.ts` is `core`), or its name for the files at the top of src/.
 * `*` means anything.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  types: [],
  errors: [],
  // Reading a caller's file safely (regular files only, bounded): under everything that reads one.
  fs: ['types', 'errors'],
  os: ['types', 'errors'],
  store: ['fs', 'types', 'errors'],
  config: ['fs', 'types', 'errors'],
  wiring: ['types', 'errors'],
  engine: ['types', 'errors'],
  core: ['fs', 'engine', 'config', 'store', 'os', 'wiring', 'types', 'errors'],
  workflows: ['fs', 'engine', 'wiring', 'config', 'types', 'errors'],
  // The launch supervisor owns process trees (spawn, track, kill), so it reaches the OS
  // through os/ as core does, and everything else through the engine contract.
  launch: ['fs', 'engine', 'config', 'wiring', 'os', 'types', 'errors'],
  // Route definitions shared by server and client: the contract's shapes, nothing concrete.
  http: ['engine', 'types', 'errors'],
  server: ['fs', 'http', 'engine', 'workflows', 'wiring', 'config', 'launch', 'types', 'errors'],
  client: ['fs', 'http', 'engine', 'workflows', 'wiring', 'types', 'errors'],
  // The dashboard's page, run in the browser: it reaches the daemon only over HTTP, by the
  // shared routes, and shares the contract's types; never server code or anything concrete.
  // config and wiring: only their pure parts (categoryOf to count ports per category as
  // /metrics does; which leases speak HTTP, as `berth urls` decides); a node: import would
  // fail the page's browser bundle.
  dashboard: ['http', 'engine', 'config', 'wiring', 'types'],
  cli: ['fs', 'engine', 'workflows', 'wiring', 'config', 'client', 'server', 'http', 'launch', 'types', 'errors'],
  // The library entry and its engine factory are composition roots.
  index: ['*'],
  open: ['*'],
};

/** The concrete layers: only composition roots may import them from a face. */
const CONCRETE = ['core', 'store', 'os', 'open'] as const;

/**
 * Files outside `core` that may import the concrete layers, because they construct
 * engines, stores and machines: the CLI's entry and its engine factory, and the daemon
 * (DESIGN.md: the daemon is the composition root of a LocalEngine; rename the entry here
 * to the daemon's real file when it lands).
 */
const COMPOSITION_ROOTS: readonly string[] = ['src/cli/open-engine.ts', 'src/cli/main.ts', 'src/server/daemon.ts'];

/** Type-only imports count for cycles too: a type cycle still means two files cannot be read apart. */
const CYCLES_INCLUDE_TYPE_ONLY = true;

/** DESIGN.md: "none above ~400" lines. */
const MAX_LINES = 400;

// ---- Reading the sources. --------------------------------------------------------------

const SRC = path.join(ROOT, 'src');

/** One import found in a source file. */
interface Import {
  /** The specifier as written, or null for a dynamic import of a computed path. */
  readonly spec: string | null;
  readonly line: number;
  readonly typeOnly: boolean;
}

/** Every import of `text`: import, export-from, import = require, import() and import('x').T types. */
function importsOf(fileName: string, text: string): Import[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node, spec: ts.Node | undefined, typeOnly: boolean): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ spec: spec !== undefined && ts.isStringLiteralLike(spec) ? spec.text : null, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allTypes = clause !== undefined && clause.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, clause?.isTypeOnly === true || allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every .ts file under `dir`, as repository-relative paths with forward slashes, sorted. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  // Own recursion rather than readdir's `recursive`: Dirent.parentPath needs Node 20.12, berth supports 20.11.
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path.relative(ROOT, full).split(path.sep).join('/'));
  }
  return out.sort();
}

/** The .ts file a relative specifier names (NodeNext: `./x.js` is `./x.ts`), 'other' for a non-TS file, or null. */
function resolve(from: string, spec: string): string | 'other' | null {
  const abs = path.resolve(ROOT, path.dirname(from), spec);
  const candidates = [abs.replace(/\.js$/, '.ts'), abs.replace(/\.mjs$/, '.mts'), `${abs}.ts`, path.join(abs, 'index.ts'), abs];
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate) || !fs.statSync(candidate).isFile()) continue;
    if (!/\.m?ts$/.test(candidate)) return 'other';
    return path.relative(ROOT, candidate).split(path.sep).join('/');
  }
  return null;
}

/** `src/core/reality/x.ts` -> `core`; `src/types.ts` -> `types`. */
function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, '') : parts[1]!;
}

/** One resolved edge of the import graph. */
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly typeOnly: boolean;
}

/** The import graph of src/, plus the imports that could not be checked. */
function readGraph(): { files: string[]; lines: Map<string, number>; edges: Edge[]; unchecked: string[] } {
  const files = sourceFiles(SRC);
  const lines = new Map<string, number>();
  const edges: Edge[] = [];
  const unchecked: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    lines.set(file, text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    for (const imp of importsOf(file, text)) {
      if (imp.spec === null) {
        unchecked.push(`${file}:${imp.line} imports a computed path (write the path as a string literal so this test can check it)`);
        continue;
      }
      if (!imp.spec.startsWith('.')) continue; // node builtins and packages
      const to = resolve(file, imp.spec);
      if (to === null) unchecked.push(`${file}:${imp.line} imports '${imp.spec}', which names no file`);
      else if (to !== 'other' && !to.startsWith('src/')) unchecked.push(`${file}:${imp.line} imports ${to}, outside src/`);
      else if (to !== 'other') edges.push({ from: file, to, line: imp.line, typeOnly: imp.typeOnly });
    }
  }
  return { files, lines, edges, unchecked };
}

// ---- The checks. -----------------------------------------------------------------------

/** One line per import that breaks the layer rules. */
function layerViolations(files: readonly string[], edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (MAY_IMPORT[layerOf(file)] === undefined) out.push(`${file} is in no layer (add '${layerOf(file)}' to MAY_IMPORT in test/structure/imports.test.ts)`);
  }
  for (const edge of edges) {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    const may = MAY_IMPORT[from];
    if (may === undefined || from === to || may.includes('*') || may.includes(to)) continue;
    const isRoot = COMPOSITION_ROOTS.includes(edge.from);
    if (isRoot && (CONCRETE as readonly string[]).includes(to)) continue;
    const roots = COMPOSITION_ROOTS.filter((r) => layerOf(r) === from);
    const rootNote = roots.length && (CONCRETE as readonly string[]).includes(to) ? `; ${CONCRETE.join('/')} only from its composition roots ${roots.join(', ')}` : '';
    const allowed = may.length ? may.join(', ') : 'nothing of berth';
    out.push(`${edge.from} imports ${edge.to} (layer ${from} may import only ${allowed}${rootNote}; line ${edge.line}${edge.typeOnly ? ', type-only' : ''})`);
  }
  return out;
}

/**
 * Each strongly connected set of files (Tarjan), reported as its shortest cycle through
 * its first file, in import order.
 */
function cycles(files: readonly string[], edges: readonly Edge[]): string[] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (CYCLES_INCLUDE_TYPE_ONLY || !e.typeOnly) next.get(e.from)?.push(e.to);
  for (const list of next.values()) list.sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sets: string[][] = [];
  // Recursion depth is bounded by the number of files in src/.
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const set: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      set.push(w);
      if (w === v) break;
    }
    if (set.length > 1 || next.get(v)!.includes(v)) sets.push(set.sort());
  };
  for (const f of files) if (!index.has(f)) connect(f);

  return sets.map((set) => {
    const start = set[0]!;
    const members = new Set(set);
    // Breadth-first from start back to start, inside the set: the shortest cycle through it.
    const parent = new Map<string, string>();
    const queue = [start];
    for (let i = 0; i < queue.length && !parent.has(start); i++) {
      for (const w of next.get(queue[i]!) ?? []) {
        if (!members.has(w) || parent.has(w)) continue;
        parent.set(w, queue[i]!);
        queue.push(w);
      }
    }
    const ring = [start];
    for (let at = parent.get(start)!; at !== start; at = parent.get(at)!) ring.unshift(at);
    ring.unshift(start);
    const rest = set.filter((f) => !ring.includes(f));
    return `cycle: ${ring.join(' -> ')}${rest.length ? ` (the same knot also holds ${rest.join(', ')})` : ''}`;
  });
}

const report = (title: string, lines: readonly string[]): string => `${title} (${lines.length}):\n  ${lines.join('\n  ')}`;

// ---- Tests. ----------------------------------------------------------------------------

test('the import reader sees every kind of import, and nothing in comments or strings', () => {
  const text = [
    "import a from './a.js';",
    "import type { B } from './b.js';",
    "import { type C, type D } from './c.js';",
    "import { type E, f } from './e.js';",
    "export { g } from './g.js';",
    "export type * from './h.js';",
    "const i = await import('./i.js');",
    "let j: import('./j.js').J;",
    "import k = require('./k.js');",
    "const l = await import(name);",
    "// import x from './comment.js';",
    "const s = \"import y from './string.js'\";",
  ].join('\n');
  assert.deepEqual(
    importsOf('fixture.ts', text).map((i) => `${i.spec} ${i.line}${i.typeOnly ? ' type' : ''}`),
    ['./a.js 1', './b.js 2 type', './c.js 3 type', './e.js 4', './g.js 5', './h.js 6 type', './i.js 7', './j.js 8 type', './k.js 9', 'null 10'],
  );
});

test('the checks themselves: a layer break, a composition root, a cycle', () => {
  const edge = (from: string, to: string): Edge => ({ from, to, line: 1, typeOnly: false });
  const files = ['src/cli/main.ts', 'src/cli/render.ts', 'src/core/a.ts', 'src/engine/b.ts', 'src/engine/c.ts', 'src/types.ts'];
  const edges = [edge('src/cli/main.ts', 'src/core/a.ts'), edge('src/cli/render.ts', 'src/core/a.ts'), edge('src/engine/b.ts', 'src/engine/c.ts'), edge('src/engine/c.ts', 'src/types.ts'), edge('src/engine/c.ts', 'src/engine/b.ts')];
  assert.deepEqual(
    layerViolations(files, edges).map((v) => v.split(' (')[0]),
    ['src/cli/render.ts imports src/core/a.ts'],
  );
  assert.deepEqual(cycles(files, edges), ['cycle: src/engine/b.ts -> src/engine/c.ts -> src/engine/b.ts']);
  assert.deepEqual(cycles(['src/x.ts'], [edge('src/x.ts', 'src/x.ts')]), ['cycle: src/x.ts -> src/x.ts']);
});

test('every import in src/ can be checked', () => {
  const { files, unchecked } = readGraph();
  assert.ok(files.includes('src/types.ts') && files.length > 20, `expected the sources under ${SRC}, found ${files.length} files`);
  if (unchecked.length) assert.fail(report('imports this test cannot check', unchecked));
});

test('layers import only what DESIGN.md allows', () => {
  const { files, edges } = readGraph();
  const violations = layerViolations(files, edges);
  if (violations.length) assert.fail(report('import-rule violations', violations));
});

test('no import cycles in src/', () => {
  const { files, edges } = readGraph();
  const found = cycles(files, edges);
  if (found.length) assert.fail(report('import cycles', found));
});

test(`no file in src/ exceeds ${MAX_LINES} lines`, () => {
  const { lines } = readGraph();
  const long = [...lines].filter(([, n]) => n > MAX_LINES).map(([file, n]) => `${file}: ${n} lines`);
  if (long.length) assert.fail(report(`files over ${MAX_LINES} lines (split them)`, long));
});
