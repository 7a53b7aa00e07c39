/**
 * Registry-wide commands: export, import, gc, reset.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RefusedError, UsageError } from '../../errors.js';
import type { GcResult } from '../../engine/index.js';
import { writeError } from '../../workflows/files.js';
import { withEngine } from '../context.js';
import { emit, leaseTable, writeOut } from '../render.js';

function readSource(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Check the path.`);
  }
}

function gcText(r: GcResult): string {
  const verb = r.dryRun ? 'would release' : 'released';
  const lines: string[] = [];
  for (const s of r.goneScopes) lines.push(`${verb} scope ${s.scope} (directory ${s.directory} is gone): ${s.leases.length} lease(s)`);
  if (r.deadLeases.length > 0) lines.push(`${verb} ${r.deadLeases.length} ephemeral lease(s) whose pid is gone:`, leaseTable(r.deadLeases));
  return lines.length ? lines.join('\n') : 'nothing to collect';
}

/** Registers the registry-wide commands on `program`. */
export function registerAdminCommands(program: Command): void {
  program
    .command('export')
    .description("print a versioned JSON snapshot of this machine's scopes and leases (one scope's with --scope)")
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .action(async (flags: { output?: string }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx }) => {
        const text = `${JSON.stringify(await engine.registry.export(ctx, { scope: ctx.scope }), null, 2)}\n`;
        if (!flags.output) {
          writeOut(text);
          return;
        }
        try {
          writeFileSync(flags.output, text);
        } catch (err) {
          // A missing directory, or a directory given as the file: a clear error, not a stack trace.
          throw writeError(flags.output, err);
        }
      });
    });

  program
    .command('import')
    .description('import a snapshot (FILE, or - for stdin); all or none, conflicting rows refused')
    .argument('<file>')
    .option('--replace', 'make the store exactly the snapshot (forgets everything else)')
    .action(async (file: string, flags: { replace?: boolean }, cmd: Command) => {
      const text = readSource(file);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new UsageError(`${file} is not valid JSON (${(err as Error).message}). Make a snapshot with \`berth export > FILE\`.`);
      }
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const result = await engine.registry.import(ctx, value, { replace: flags.replace, source: file });
        emit(json, result, (r) => `imported ${r.imported} lease(s), ${r.unchanged} already present${r.replaced ? ' (store replaced)' : ''}`);
      });
    });

  program
    .command('gc')
    .description('release ephemeral leases whose pid is gone and scopes whose directory is gone')
    .option('--dry-run', 'only say what would be released')
    .action(async (flags: { dryRun?: boolean }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.registry.gc(ctx, { dryRun: flags.dryRun }), gcText);
      });
    });

  program
    .command('reset')
    .description("forget every lease and scope of this machine (needs --yes); the history stays")
    .option('--yes', 'really forget everything')
    .action(async (flags: { yes?: boolean }, cmd: Command) => {
      if (!flags.yes) throw new RefusedError('reset forgets every lease and scope and cannot be undone. Run `berth export > backup.json` first, then `berth reset --yes`.');
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.registry.reset(ctx), (r) => `forgot every lease and scope of ${r.host} in ${r.store} (${r.leases} lease(s))`);
      });
    });
}
