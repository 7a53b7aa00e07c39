/**
 * `berth render` (templates filled with the scope's variables, and the built-ins), and the
 * report every port-moving command prints after re-rendering the files berth wrote.
 */
import type { Command } from 'commander';
import type { Engine } from '../../engine/index.js';
import { urlHost } from '../../wiring/hosts.js';
import { BUILTIN_TEMPLATES } from '../../wiring/template.js';
import { renderScopeTemplate, rerenderScope, type RerenderOutcome } from '../../workflows/scope-files.js';
import { withEngine } from '../context.js';
import { emit, note, writeOut } from '../render.js';

/**
 * Re-renders every file berth wrote for each of `scopes` and says which changed, which
 * were left alone and why. Returns the outcomes (for --json).
 */
export async function rerenderAndReport(engine: Engine, scopes: Iterable<string>): Promise<RerenderOutcome[]> {
  const all: RerenderOutcome[] = [];
  for (const scope of new Set(scopes)) all.push(...(await rerenderScope(engine, scope)));
  reportRerender(all);
  return all;
}

/** One stderr line per re-rendered file that changed, was left alone, or is gone. */
export function reportRerender(outcomes: readonly RerenderOutcome[]): void {
  for (const r of outcomes) {
    if (r.outcome === 'updated') note(`berth: re-rendered ${r.file} (${r.kind}) for scope ${r.scope}`);
    else if (r.outcome === 'skipped' || r.outcome === 'failed') note(`berth: did not re-render ${r.file} (${r.kind}): ${r.reason}`);
    else if (r.outcome === 'forgotten') note(`berth: forgot ${r.file}: ${r.reason}`);
  }
}

/** Registers `render` on `program`. */
export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description(`fill TEMPLATE's \${NAME} with the scope's variables (<NAME>_PORT, <NAME>_URL, BERTH_SCOPE), or render a built-in: ${BUILTIN_TEMPLATES.map((t) => t.name).join(', ')}`)
    .argument('[template]', 'a template file, or the name of a built-in template')
    .option('--write <file>', 'write FILE atomically; berth re-renders it whenever a port of the scope moves')
    .option('--force', 'replace FILE even if berth did not write it, or it was edited since')
    .option('--host <host>', 'host in URLs (default: BERTH_HOST, else localhost)')
    .option('--list', 'list the built-in templates')
    .action(async (template: string | undefined, flags: { write?: string; force?: boolean; host?: string; list?: boolean }, cmd: Command) => {
      const json = !!cmd.optsWithGlobals<{ json?: boolean }>().json;
      if (flags.list === true || template === undefined) {
        const list = BUILTIN_TEMPLATES.map((t) => ({ name: t.name, description: t.description }));
        emit(json, list, (l) => l.map((t) => `${t.name.padEnd(12)} ${t.description}`).join('\n'));
        return;
      }
      await withEngine(cmd, async ({ engine, ctx }) => {
        const result = await renderScopeTemplate(engine, ctx, template, { host: urlHost(flags.host), write: flags.write, force: flags.force });
        if (result.written === null) {
          if (json) emit(true, result, () => '');
          else writeOut(result.text);
          return;
        }
        if (json) emit(true, { template: result.template, written: result.written, changed: result.changed }, () => '');
        else note(`${result.changed ? 'wrote' : 'unchanged:'} ${result.written} (from ${result.template})`);
      });
    });
}
