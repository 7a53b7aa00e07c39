/**
 * `berth history`: what happened to a lease or a port, and who did it. The registry
 * records every change in the same transaction as the change itself.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { HistoryQuery } from '../../engine/index.js';
import type { RegistryEvent } from '../../types.js';
import { parsePort } from '../../config/ports.js';
import { printable } from '../../wiring/describe.js';
import { withEngine } from '../context.js';
import { parseCount } from '../options.js';
import { emit, table } from '../render.js';

/** Longest command line shown in the BY column; --json has it whole. */
const COMMAND_SHOWN_CHARS = 60;

/** `:8000` or `8000` is a port; anything else a lease name. */
function targetQuery(target: string | undefined): Pick<HistoryQuery, 'name' | 'port'> {
  if (target === undefined) return {};
  if (/^:?\d+$/.test(target)) return { port: parsePort(target.replace(/^:/, '')) };
  if (target.startsWith(':')) throw new UsageError(`invalid port '${target}': write :PORT, e.g. :8000.`);
  return { name: target };
}

function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** `node /path/bin/berth.js reassign web 4150` reads as `berth reassign web 4150`; --json keeps it whole. */
const BERTH_SCRIPT = /^\S*node(?:js)?\S* \S*\/berth(?:\.js)?(?= |$)/;

function who(e: RegistryEvent): string {
  const command = e.actor.command === null ? '' : printable(e.actor.command).replace(BERTH_SCRIPT, 'berth');
  const cut = command.length > COMMAND_SHOWN_CHARS ? `${command.slice(0, COMMAND_SHOWN_CHARS - 1)}…` : command;
  return `${e.actor.user === null ? '?' : printable(e.actor.user)} (pid ${e.actor.pid}${cut ? `: ${cut}` : ''})`;
}

function historyText(events: readonly RegistryEvent[]): string {
  if (events.length === 0) return 'no changes recorded';
  return table(
    ['TIME', 'ACTION', 'CHANGE', 'SCOPE', 'NAME', 'PORT', 'POOL', 'OWNER', 'BY'],
    events.map((e) => [
      when(e.time),
      e.action,
      e.change,
      printable(e.scope),
      printable(e.name),
      e.oldPort !== null && e.oldPort !== e.port ? `${e.oldPort}->${e.port}` : `${e.port}/${e.protocol}`,
      e.pool === null ? null : `${e.pool}#${e.slot}`,
      e.ownerPid === null ? null : `pid ${e.ownerPid}`,
      who(e),
    ]),
  );
}

/** Registers `history` on `program`. */
export function registerHistoryCommand(program: Command): void {
  program
    .command('history')
    .description('what changed, newest first: who allocated, moved or released which lease or port, and when')
    .argument('[target]', 'a lease name, or :PORT')
    .option('--since <when>', 'only changes since a duration ago (90s, 15m, 2h, 3d) or a time (2026-11-29T14:00Z)')
    .option('--limit <n>', 'at most N changes (default 50)')
    .addHelpText('after', '\n--scope narrows to one scope; without it every scope of this machine is shown.')
    .action(async (target: string | undefined, flags: { since?: string; limit?: string }, cmd: Command) => {
      const query: HistoryQuery = {
        ...targetQuery(target),
        since: flags.since,
        limit: flags.limit === undefined ? undefined : parseCount(flags.limit, '--limit'),
      };
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.registry.history(ctx, { ...query, scope: ctx.scope }), historyText);
      });
    });
}
