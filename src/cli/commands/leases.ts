/**
 * Lease commands: allocate, get, release, list, reassign.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { parsePort, parseProtocol, parseRange } from '../../config/ports.js';
import type { AllocationRequest } from '../../engine/index.js';
import { describeConfigDrift } from '../../wiring/describe.js';
import { withEngine } from '../context.js';
import { parseCount, parseStrategy } from '../options.js';
import { emit, leaseTable, note } from '../render.js';
import { rerenderAndReport } from './render.js';

interface AllocateFlags {
  port?: string;
  prefer?: string;
  range?: string;
  category?: string;
  strategy?: string;
  protocol?: string;
  purpose?: string;
  ephemeral?: boolean;
  pid?: string;
  force?: boolean;
}

/** Turns allocate's flags into one request per name. */
function requestsFrom(names: string[], flags: AllocateFlags): AllocationRequest[] {
  const shared = {
    port: flags.port === undefined ? undefined : parsePort(flags.port, '--port'),
    prefer: flags.prefer === undefined ? undefined : parsePort(flags.prefer, '--prefer'),
    range: flags.range === undefined ? undefined : parseRange(flags.range, '--range'),
    category: flags.category,
    strategy: flags.strategy === undefined ? undefined : parseStrategy(flags.strategy),
    protocol: flags.protocol === undefined ? undefined : parseProtocol(flags.protocol),
    purpose: flags.purpose,
  };
  if (shared.port !== undefined && names.length !== 1) throw new UsageError('--port gives one fixed port: name exactly one service.');
  if (names.length === 0 && Object.values(shared).some((v) => v !== undefined)) {
    throw new UsageError('port options need names: berth allocate NAME --prefer 5432 (without names, berth.yaml decides every service).');
  }
  return names.map((name) => ({ name, ...shared }));
}

/** Registers the lease commands on `program`. */
export function registerLeaseCommands(program: Command): void {
  program
    .command('allocate')
    .alias('alloc')
    .description('get or allocate ports for NAMEs (default: every service in berth.yaml); all or none')
    .argument('[names...]', 'lease names, e.g. web api postgres')
    .option('--port <port>', 'fixed port (strategy fixed)')
    .option('--prefer <port>', 'preferred port, with fallback in its category')
    .option('--range <A-B>', 'allocate inside this band')
    .option('--category <name>', 'allocate inside this category (database, cache, api, ...)')
    .option('--strategy <name>', 'fixed | preferred | sequential | range | hash')
    .option('--protocol <proto>', 'tcp (default) or udp')
    .option('--purpose <text>', 'what the port is for')
    .option('--ephemeral', 'tie the leases to a pid; reclaimed when it dies')
    .option('--pid <pid>', 'owner pid of ephemeral leases (default: the calling process)')
    .option('--force', 'lease a fixed port even when a process holds it')
    .action(async (names: string[], flags: AllocateFlags, cmd: Command) => {
      const requests = requestsFrom(names, flags);
      const pid = flags.pid === undefined ? (flags.ephemeral ? process.ppid : undefined) : parseCount(flags.pid, '--pid');
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const leases = await engine.leases.allocate(ctx, requests, { ephemeral: flags.ephemeral, pid, force: flags.force });
        for (const l of leases) if (l.notPreferred !== undefined) note(`berth: ${l.name} got ${l.port}, not its preferred ${l.preferred}: that one is ${l.notPreferred}.`);
        for (const l of leases) if (l.configPort !== undefined) note(`berth: ${describeConfigDrift(l.name, l.port, l.configPort)}`);
        emit(json, leases, (l) => leaseTable(l));
      });
    });

  program
    .command('get')
    .description("print the port of the scope's lease NAME (exit 1 if none)")
    .argument('<name>')
    .action(async (name: string, _flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const lease = await engine.leases.get(ctx, name);
        emit(json, lease, (l) => String(l.port));
      });
    });

  program
    .command('release')
    .description("release the scope's leases NAME...; with no names, the whole scope (leases and pool slot)")
    .argument('[names...]')
    .action(async (names: string[], _flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const released = await engine.leases.release(ctx, names.length > 0 ? names : undefined);
        emit(json, released, (l) => leaseTable(l));
        // The files berth wrote for the scope drop the released variables, so no stale port stays in them.
        await rerenderAndReport(engine, new Set(released.map((l) => l.scope)));
      });
    });

  program
    .command('list')
    .alias('ls')
    .description("list leases: every scope, or the one named by --scope / BERTH_SCOPE ('model_a/*': every scope under model_a/)")
    .option('--pool <name>', 'only leases of this pool')
    .option('--all-machines', "every machine's leases of a shared registry, with a MACHINE column")
    .action(async (flags: { pool?: string; allMachines?: boolean }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        // --scope 'model_a/*' filters by prefix; it is no scope to act for.
        const pattern = ctx.scope?.endsWith('*') === true;
        const filter = { scope: ctx.scope, pool: flags.pool, allMachines: flags.allMachines === true };
        const leases = await engine.leases.list(pattern ? { ...ctx, scope: undefined } : ctx, filter);
        emit(json, leases, (l) => leaseTable(l, undefined, filter.allMachines));
      });
    });

  program
    .command('reassign')
    .description("move the scope's lease NAME to PORT (default: the next free port of its category); re-renders the files berth wrote")
    .argument('<name>')
    .argument('[port]')
    .option('--force', 'move even if a process holds PORT or it is reserved')
    .option('--update-config', "also write the new port into berth.yaml's services.NAME.port, keeping its comments")
    .action(async (name: string, port: string | undefined, flags: { force?: boolean; updateConfig?: boolean }, cmd: Command) => {
      const target = port === undefined ? null : parsePort(port);
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const lease = await engine.leases.reassign(ctx, name, target, { force: flags.force });
        emit(json, lease, (l) => leaseTable([l]));
        if (flags.updateConfig === true) {
          const { setServicePort } = await import('../../workflows/config-edit.js');
          const file = (await engine.project(ctx)).config.file;
          const changed = await setServicePort(file, name, lease.port);
          note(`berth: ${changed ? 'wrote' : 'unchanged:'} services.${name}.port: ${lease.port} in ${file}`);
        }
        await rerenderAndReport(engine, [lease.scope]);
      });
    });
}
