/**
 * Pool commands: reserve, pools.
 */
import type { Command } from 'commander';
import type { PoolStatus } from '../../engine/index.js';
import { withEngine } from '../context.js';
import { parseCount } from '../options.js';
import { emit, leaseTable, table } from '../render.js';

function poolsText(pools: readonly PoolStatus[]): string {
  if (pools.length === 0) return 'no pools are defined; add one under pools: in berth.yaml';
  return pools
    .map((p) => {
      const head = `${p.name}: ${p.used} used, ${p.free === null ? 'open-ended' : `${p.free} free of ${p.slots}`} (roles: ${p.roles.join(', ')})`;
      if (p.detail.length === 0) return head;
      const rows = p.detail.map((s) => [s.slot, ...p.roles.map((r) => s.ports[r]), s.scope ?? 'free']);
      return `${head}\n${table(['SLOT', ...p.roles.map((r) => r.toUpperCase()), 'HELD BY'], rows)}`;
    })
    .join('\n\n');
}

/** Registers the pool commands on `program`. */
export function registerPoolCommands(program: Command): void {
  program
    .command('reserve')
    .description('reserve one whole pool slot for the scope (all roles or none)')
    .option('--pool <name>', 'which pool (optional when there is only one)')
    .option('--ephemeral', 'tie the slot to a pid; reclaimed when it dies')
    .option('--pid <pid>', 'owner pid of an ephemeral slot (default: the calling process)')
    .action(async (flags: { pool?: string; ephemeral?: boolean; pid?: string }, cmd: Command) => {
      const pid = flags.pid === undefined ? (flags.ephemeral ? process.ppid : undefined) : parseCount(flags.pid, '--pid');
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const leases = await engine.pools.reserve(ctx, { pool: flags.pool, ephemeral: flags.ephemeral, pid });
        emit(json, leases, (l) => leaseTable(l));
      });
    });

  program
    .command('pools')
    .description('each pool with its slots used and free, and who holds each slot')
    .action(async (_flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.pools.status(ctx), poolsText);
      });
    });
}
