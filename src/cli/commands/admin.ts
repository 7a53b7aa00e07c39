/**
 * Registry-wide commands: export, import, gc, reset.
 */
import type { Command } from 'commander';
import { RefusedError, UsageError } from '../../errors.js';
import type { GcResult } from '../../engine/index.js';
import { MAX_SNAPSHOT_BYTES, readBoundedStream, readRegularFile } from '../../fs/safe-read.js';
import { writeFileAtomic } from '../../workflows/safe-write.js';
import { withEngine } from '../context.js';
import { rerenderAndReport } from './render.js';
import { emit, leaseTable, table, writeOut } from '../render.js';
import type { RegistryImport } from '../../workflows/import-registry.js';

/** The snapshot text of FILE, or of stdin for `-`: a regular file only, at most MAX_SNAPSHOT_BYTES. */
async function readSource(file: string): Promise<string> {
  if (file === '-') return (await readBoundedStream(process.stdin, 'stdin', MAX_SNAPSHOT_BYTES)).toString('utf8');
  const bytes = await readRegularFile(file, { maxBytes: MAX_SNAPSHOT_BYTES });
  if (bytes === null) throw new UsageError(`cannot read ${file}: ENOENT. Check the path.`, { file });
  return bytes.toString('utf8');
}

function gcText(r: GcResult): string {
  const verb = r.dryRun ? 'would release' : 'released';
  const lines: string[] = [];
  for (const s of r.goneScopes) lines.push(`${verb} scope ${s.scope} (directory ${s.directory} is gone): ${s.leases.length} lease(s)`);
  if (r.deadLeases.length > 0) lines.push(`${verb} ${r.deadLeases.length} ephemeral lease(s) whose pid is gone:`, leaseTable(r.deadLeases));
  return lines.length ? lines.join('\n') : 'nothing to collect';
}

/** `berth import --from`'s preview and outcome, for people. */
function registryImportText(r: RegistryImport): string {
  const rows = table(['SCOPE', 'NAME', 'PORT', 'POOL', 'SLOT', 'PURPOSE'], r.leases.map((l) => [l.scope, l.name, l.port, l.pool, l.slot, l.purpose]));
  const lines = [rows];
  const adds = [r.servicesAdded.length > 0 ? `services ${r.servicesAdded.join(', ')}` : null, r.poolsAdded.length > 0 ? `pools ${r.poolsAdded.join(', ')}` : null].filter((x) => x !== null);
  if (r.configFile !== null) lines.push(`${r.dryRun ? 'would add to' : 'added to'} ${r.configFile}: ${adds.length > 0 ? adds.join('; ') : 'defaults: strategy: sequential (and base:)'}`);
  if (r.next !== null) lines.push(`next port in the sequence: ${r.next}`);
  if (r.result === null) lines.push(`dry run: ${r.leases.length} lease(s) from ${r.file}; nothing was changed`);
  else lines.push(`imported ${r.result.imported} lease(s), ${r.result.unchanged} already present, from ${r.file} (${r.format})`);
  return lines.join('\n');
}

const MACHINE_HELP = "act for machine NAME of a shared registry instead of this one (BERTH_MACHINE, else the host name)";

/**
 * A destructive command for another machine needs --yes: its leases are someone else's.
 * Refuses before anything is opened.
 */
function confirmOtherMachine(what: string, machine: string | undefined, yes: boolean | undefined): void {
  if (machine !== undefined && !yes) {
    throw new RefusedError(`${what} for machine ${machine} changes another machine's leases: add --yes if that is what you mean.`, { machine });
  }
}

/** Registers the registry-wide commands on `program`. */
export function registerAdminCommands(program: Command): void {
  program
    .command('export')
    .description("print a versioned JSON snapshot of this machine's scopes and leases (one scope's with --scope)")
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--machine <name>', MACHINE_HELP)
    .action(async (flags: { output?: string; machine?: string }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx }) => {
        const text = `${JSON.stringify(await engine.registry.export(ctx, { scope: ctx.scope }), null, 2)}\n`;
        if (flags.output === undefined) {
          writeOut(text);
          return;
        }
        // Atomic, regular files only, no other user's links (workflows/safe-write.ts); errors name the path.
        await writeFileAtomic(flags.output, text);
      }, flags.machine);
    });

  program
    .command('import')
    .description('import a snapshot (FILE, or - for stdin), or with --from a seed registry file; all or none, conflicting rows refused')
    .argument('<file>')
    .option('--replace', "make this machine's rows exactly the snapshot (forgets its others)")
    .option('--machine <name>', MACHINE_HELP)
    .option('--yes', 'with --machine and --replace: really replace that machine\'s rows')
    .option('--from <format>', 'FILE is a registry of another port manager: conductor | udos | sequential | pairs')
    .option('--dry-run', 'with --from: show the leases and the berth.yaml entries it would add, change nothing')
    .option('--pool <name>', 'with --from conductor or pairs: the pool the sets go to (default: conductor, pairs)')
    .action(async (file: string, flags: { replace?: boolean; machine?: string; yes?: boolean; from?: string; dryRun?: boolean; pool?: string }, cmd: Command) => {
      if (flags.from !== undefined) {
        if (flags.replace === true) throw new UsageError('--replace goes with snapshots, not with --from: a registry file is merged, all or none.');
        const { importRegistry } = await import('../../workflows/import-registry.js');
        const { parseImportFormat } = await import('../../wiring/import-formats.js');
        const format = parseImportFormat(flags.from);
        await withEngine(cmd, async ({ engine, ctx, json }) => {
          const r = await importRegistry(engine, ctx, format, file, { dryRun: flags.dryRun, pool: flags.pool });
          emit(json, r, registryImportText);
        }, flags.machine);
        return;
      }
      if (flags.dryRun === true || flags.pool !== undefined) throw new UsageError('--dry-run and --pool go with --from FORMAT (a registry file of another port manager).');
      if (flags.replace) confirmOtherMachine('import --replace', flags.machine, flags.yes);
      const text = await readSource(file);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new UsageError(`${file} is not valid JSON (${(err as Error).message}). Make a snapshot with \`berth export > FILE\`.`);
      }
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const result = await engine.registry.import(ctx, value, { replace: flags.replace, source: file });
        emit(json, result, (r) => `imported ${r.imported} lease(s), ${r.unchanged} already present${r.replaced ? ' (store replaced)' : ''}`);
      }, flags.machine);
    });

  program
    .command('gc')
    .description('release ephemeral leases whose pid is gone and scopes whose directory is gone')
    .option('--dry-run', 'only say what would be released')
    .option('--machine <name>', 'only NAME, this machine, is possible: gc asks the OS which pids and directories are gone')
    .action(async (flags: { dryRun?: boolean; machine?: string }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const { host } = await engine.info();
        // Which pids live and which directories exist only this machine's OS can say: gc
        // for another machine would release leases that are alive there.
        if (flags.machine !== undefined && flags.machine !== host) {
          throw new UsageError(
            `gc --machine ${flags.machine}: gc asks this machine's OS which pids and directories are gone, and this is ${host}. ` +
              `Run \`berth gc\` on ${flags.machine}, or forget a machine that is gone with \`berth reset --machine ${flags.machine} --yes\`.`,
          );
        }
        const result = await engine.registry.gc(ctx, { dryRun: flags.dryRun });
        emit(json, result, gcText);
        // Released leases leave the files berth wrote for their scopes (a scope gone with its directory has none worth keeping).
        if (!result.dryRun) await rerenderAndReport(engine, result.deadLeases.map((l) => l.scope));
      });
    });

  program
    .command('reset')
    .description("forget every lease and scope of this machine (needs --yes); the history stays")
    .option('--yes', 'really forget everything')
    .option('--machine <name>', MACHINE_HELP)
    .action(async (flags: { yes?: boolean; machine?: string }, cmd: Command) => {
      if (!flags.yes) throw new RefusedError('reset forgets every lease and scope and cannot be undone. Run `berth export > backup.json` first, then `berth reset --yes`.');
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.registry.reset(ctx), (r) => `forgot every lease and scope of ${r.host} in ${r.store} (${r.leases} lease(s))`);
      }, flags.machine);
    });
}
