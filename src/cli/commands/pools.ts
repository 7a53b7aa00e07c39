/**
 * Pool commands: reserve, pools.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { computeStats, type Stats } from '../../workflows/stats.js';
import type { PoolStatus } from '../../engine/index.js';
import { withEngine } from '../context.js';
import { parseCount } from '../options.js';
import { emit, leaseTable, note, table } from '../render.js';
import type { Lease } from '../../types.js';
import { rerenderAndReport } from './render.js';

function poolsText(pools: readonly PoolStatus[]): string {
  if (pools.length === 0) return 'no pools are defined; add one under pools: in berth.yaml';
  return pools
    .map((p) => {
      const blocked = p.blocked > 0 ? `, ${p.blocked} blocked` : '';
      const head = `${p.name}: ${p.used} used, ${p.free === null ? 'open-ended' : `${p.free} free of ${p.slots}${blocked}`} (roles: ${p.roles.join(', ')})`;
      const lines = [head];
      // A slot that looks free but cannot be reserved says what blocks it; a held slot berth.yaml changed says how.
      const state = (s: PoolStatus['detail'][number]): string =>
        s.scope !== null ? (s.changed === null ? s.scope : `${s.scope} (changed: ${s.changed})`) : s.blocked === null ? 'free' : `blocked: ${s.blocked}`;
      if (p.detail.length > 0) lines.push(table(['SLOT', ...p.roles.map((r) => r.toUpperCase()), 'HELD BY'], p.detail.map((s) => [s.slot, ...p.roles.map((r) => s.ports[r]), state(s)])));
      for (const f of p.fallback) {
        lines.push(`fallback (no slot was free): ${f.scope} on ${p.roles.map((r) => `${r} ${f.ports[r] ?? '-'}`).join(', ')}; \`berth reserve --scope ${f.scope}\` moves it into a slot once one frees`);
      }
      return lines.join('\n');
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
    .argument('[scope]', 'not taken: the scope is --scope NAME (a hint says so)')
    .action(async (word: string | undefined, flags: { pool?: string; ephemeral?: boolean; pid?: string }, cmd: Command) => {
      if (word !== undefined) {
        // `reserve my-workspace`, as the Conductor script was typed: say what berth wants.
        throw new UsageError(`berth reserve takes the scope as an option: \`berth reserve --scope ${word}\` (and --pool NAME when there are several pools).`);
      }
      const pid = flags.pid === undefined ? (flags.ephemeral ? process.ppid : undefined) : parseCount(flags.pid, '--pid');
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const { scope } = await engine.project(ctx);
        const pool = (await engine.pools.definition(ctx, flags.pool)).name;
        const before = await engine.leases.list(ctx, { scope, pool });
        const leases = await engine.pools.reserve(ctx, { pool: flags.pool, ephemeral: flags.ephemeral, pid });
        reserveNotes(scope, pool, before, leases);
        emit(json, leases, (l) => leaseTable(l));
        // A reserve may move the scope's ports (a fallback moved into a freed slot): the files berth wrote follow.
        if (leases.length > 0) await rerenderAndReport(engine, [leases[0]!.scope]);
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

  program
    .command('stats')
    .description("usage at a glance: each pool's slots used and free and the next slot; leases per scope and category (--scope 'model_a/*' groups by prefix)")
    .action(async (_flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const pattern = ctx.scope;
        const stats = await computeStats(engine, { ...ctx, scope: undefined }, pattern);
        emit(json, stats, statsText);
      });
    });
}

/** Says when a reserve gave fallback ports, or moved a scope from them into a slot. */
function reserveNotes(scope: string, pool: string, before: readonly Lease[], after: readonly Lease[]): void {
  const ports = (ls: readonly Lease[]) => ls.map((l) => `${l.name} ${l.port}`).join(', ');
  const wasFallback = before.length > 0 && before.every((l) => l.slot === null);
  const slot = after.find((l) => l.slot !== null)?.slot;
  if (slot === undefined && after.length > 0) {
    note(
      wasFallback
        ? `pool ${pool} still has no free slot: ${scope} stays on its fallback ports (${ports(after)}).`
        : `pool ${pool} has no free slot: ${scope} got fallback hash ports (${ports(after)}); \`berth reserve --scope ${scope}\` moves it into a slot once one frees.`,
    );
  } else if (wasFallback && slot !== undefined) {
    note(`moved ${scope} from its fallback ports (${ports(before)}) into slot ${slot} of pool ${pool} (${ports(after)}); write its files again (berth env --write .env --scope ${scope}).`);
  }
}

function statsText(s: Stats): string {
  const pools = s.pools.length === 0
    ? 'no pools'
    : table(
        ['POOL', 'USED', 'FREE', 'NEXT SLOT', 'NEXT PORTS'],
        s.pools.map((p) => [p.pool, p.used, p.free === null ? 'open-ended' : `${p.free} of ${p.slots}`, p.nextSlot ?? 'full', p.nextPorts === null ? null : Object.entries(p.nextPorts).map(([r, port]) => `${r} ${port}`).join(', ')]),
      );
  const scopes = s.scopes.length === 0
    ? 'no leases'
    : table(
        ['SCOPE', 'SCOPES', 'LEASES', 'BY CATEGORY'],
        s.scopes.map((g) => [g.scope, g.scopes, g.leases, Object.entries(g.byCategory).map(([c, n]) => `${c} ${n}`).join(', ')]),
      );
  return `${pools}\n\n${scopes}\n\n${s.leases} lease(s)`;
}
