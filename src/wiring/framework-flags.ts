/**
 * Dev servers that ignore PORT (Vite, Astro, Angular's `ng serve`, webpack-dev-server...)
 * take their port from a flag. One table, used by `berth run` and by launch, so a
 * framework listens on its lease whichever way it is started. Pure.
 */

/** A framework berth knows, how to spot it in a command line, and its port flag. */
interface Framework {
  readonly name: string;
  /** True when the words (after runners like npx) start this framework's dev server. */
  readonly matches: (words: readonly string[]) => boolean;
  /** The flag words for `port`. */
  readonly flag: (port: number) => string[];
  /** Flags that already set the port (left alone when present). */
  readonly portFlags: readonly string[];
}

const base = (word: string | undefined): string => (word ?? '').split('/').pop() ?? '';
/** Words that run a package's binary: skipped to find the framework. */
const RUNNERS: Readonly<Record<string, number>> = { npx: 1, bunx: 1, pnpx: 1 };
const EXEC_RUNNERS = new Set(['pnpm', 'yarn', 'bun']);

/** The frameworks whose dev servers ignore PORT. Next.js, Nuxt, Remix (node) and most servers read PORT already. */
export const FRAMEWORKS: readonly Framework[] = [
  { name: 'vite', matches: (w) => base(w[0]) === 'vite' && (w[1] === undefined || ['dev', 'serve', 'preview'].includes(w[1]) || w[1].startsWith('-')), flag: (p) => ['--port', String(p), '--strictPort'], portFlags: ['--port'] },
  { name: 'astro', matches: (w) => base(w[0]) === 'astro' && ['dev', 'preview', undefined].includes(w[1]), flag: (p) => ['--port', String(p)], portFlags: ['--port'] },
  { name: 'angular', matches: (w) => base(w[0]) === 'ng' && ['serve', 's', 'dev'].includes(w[1] ?? ''), flag: (p) => ['--port', String(p)], portFlags: ['--port'] },
  { name: 'sveltekit', matches: (w) => base(w[0]) === 'svelte-kit' && w[1] === 'dev', flag: (p) => ['--port', String(p)], portFlags: ['--port'] },
  { name: 'webpack-dev-server', matches: (w) => base(w[0]) === 'webpack-dev-server' || (base(w[0]) === 'webpack' && ['serve', 'server', 's'].includes(w[1] ?? '')), flag: (p) => ['--port', String(p)], portFlags: ['--port'] },
  { name: 'storybook', matches: (w) => ['storybook', 'start-storybook'].includes(base(w[0])) && (base(w[0]) === 'start-storybook' || w[1] === 'dev'), flag: (p) => ['--port', String(p)], portFlags: ['--port', '-p'] },
  { name: 'gatsby', matches: (w) => base(w[0]) === 'gatsby' && w[1] === 'develop', flag: (p) => ['--port', String(p)], portFlags: ['--port', '-p'] },
];

/** What berth does to a command so that it listens on `port`. */
export interface PortInjection {
  /** The command to run: the input with the port flag added, or unchanged. */
  readonly argv: readonly string[];
  /** The framework recognised, or null. */
  readonly framework: string | null;
  /** True when berth added the flag. */
  readonly injected: boolean;
  /** Advice for a person when the port cannot be set (the command sets another port, or a package script hides the framework). */
  readonly note: string | null;
}

/** Index of the first word after runners (`npx vite`, `pnpm exec astro dev`, `yarn vite`). */
function frameworkStart(argv: readonly string[]): number {
  let i = 0;
  if (RUNNERS[base(argv[0])] !== undefined) i = 1;
  else if (EXEC_RUNNERS.has(base(argv[0]))) i = argv[1] === 'exec' || argv[1] === 'dlx' ? 2 : 1;
  while (argv[i]?.startsWith('-') === true && i > 0) i += 1; // npx --yes vite
  return i;
}

/**
 * Adds the port flag of a recognised framework to `argv` (at the end, so the framework's
 * own sub-command stays first). A command that already sets its port keeps it, with a note
 * when it is not the lease. `npm run dev`-style commands are named in a note: the script
 * they run is not visible here.
 */
export function injectPortFlag(argv: readonly string[], port: number): PortInjection {
  const start = frameworkStart(argv);
  const words = argv.slice(start);
  const framework = FRAMEWORKS.find((f) => f.matches(words));
  if (framework === undefined) {
    const script = ['npm', 'pnpm', 'yarn', 'bun'].includes(base(argv[0])) && (argv[1] === 'run' || argv[1] === 'start' || argv[1] === 'dev');
    const note = script ? `${argv.join(' ')} runs a package script berth cannot see into; if it starts a dev server that ignores PORT (vite, astro, ng serve), pass the port yourself: ${argv.join(' ')} -- --port ${port}` : null;
    return { argv, framework: null, injected: false, note };
  }
  const given = words.findIndex((w) => framework.portFlags.includes(w.split('=')[0]!));
  if (given >= 0) {
    const w = words[given]!;
    const value = w.includes('=') ? w.slice(w.indexOf('=') + 1) : words[given + 1];
    const note = value === String(port) ? null : `${framework.name} is given ${w.split('=')[0]} ${value ?? ''} but its lease is port ${port}; berth leaves the command's own port alone.`;
    return { argv, framework: framework.name, injected: false, note };
  }
  return { argv: [...argv, ...framework.flag(port)], framework: framework.name, injected: true, note: null };
}

/**
 * The same for a shell command line: the flag is appended when the line is one simple
 * command (no `;`, `&&`, `|`, redirections or substitutions), else a note says berth cannot.
 */
export function injectPortFlagShell(line: string, port: number): { readonly line: string; readonly framework: string | null; readonly injected: boolean; readonly note: string | null } {
  const simple = !/[;&|<>`$()\\'"]/.test(line);
  const result = injectPortFlag(line.trim().split(/\s+/), port);
  if (!result.injected) return { line, framework: result.framework, injected: false, note: result.note };
  if (!simple) return { line, framework: result.framework, injected: false, note: `${result.framework} ignores PORT and '${line}' is not a simple command berth can add --port ${port} to; add the flag to the command yourself.` };
  return { line: result.argv.join(' '), framework: result.framework, injected: true, note: null };
}
