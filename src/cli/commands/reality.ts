/**
 * Reality commands: who, ports, status, check (conflicts), free, kill. They parse options,
 * call the engine's reality operations and render.
 */
import type { Command } from 'commander';
import { ConflictsFoundError, KillIncompleteError, NotFoundError, UsageError } from '../../errors.js';
import { parsePort, parseProtocol, parseRange } from '../../config/ports.js';
import { ADVISORY_KINDS, type Conflict, type FreeResult, type KillReport, type LeaseStatus, type PortEntry, type WhoResult } from '../../engine/index.js';
import { describeExpectation, printable } from '../../wiring/describe.js';
import { parseSignal } from '../../config/signals.js';
import { NOT_HOLDING, type Lease, type Listener, type Protocol } from '../../types.js';
import { withEngine } from '../context.js';
import { parseCount } from '../options.js';
import { emit, note, table } from '../render.js';
import { reportRerender } from './render.js';

/** A table cell from the process table: one line, no control characters. */
const cell = (text: string | null | undefined): string | null => (text === null || text === undefined ? null : printable(text));

/** Longest command line a table shows (--json has it whole): a long one must not push the other columns off screen. */
const COMMAND_SHOWN_CHARS = 80;

/** The command's start (the program) and end (often what it runs), the middle elided. */
function shortCommand(text: string | null): string | null {
  const line = cell(text);
  if (line === null || line.length <= COMMAND_SHOWN_CHARS) return line;
  const tail = Math.floor(COMMAND_SHOWN_CHARS / 3);
  return `${line.slice(0, COMMAND_SHOWN_CHARS - tail - 1)}…${line.slice(-tail)}`;
}

const protocolOf = (value: string | undefined): Protocol => (value === undefined ? 'tcp' : parseProtocol(value));

function leaseLabel(lease: Pick<Lease, 'scope' | 'name'> | null): string | null {
  return lease === null ? null : `${lease.scope}/${lease.name}`;
}

function ownerLabel(lease: Lease): string {
  return `${leaseLabel(lease)}${lease.ephemeral ? ` (ephemeral, pid ${lease.pid})` : ''}`;
}

/** `node (pid 12)`, `container web1`, one per process. */
function holderList(holders: readonly Listener[]): string | null {
  const seen = new Set<string>();
  for (const h of holders) {
    if (h.container) seen.add(`container ${cell(h.container.name)}${h.pid === null ? '' : ` (${cell(h.process) ?? '?'}, pid ${h.pid})`}`);
    else seen.add(h.pid === null ? 'hidden process' : `${cell(h.process) ?? '?'} (pid ${h.pid})`);
  }
  return seen.size === 0 ? null : [...seen].join(', ');
}

function whoText(r: WhoResult): string {
  const lease = r.lease ? `leased to ${ownerLabel(r.lease)}` : 'no lease';
  if (r.holders.length === 0) return `${r.protocol} port ${r.port}: ${lease}; nothing listens on it`;
  return [
    `${r.protocol} port ${r.port}: ${lease}`,
    table(
      ['PID', 'PROCESS', 'USER', 'ADDRESS', 'CONTAINER', 'COMMAND'],
      r.holders.map((h) => [h.pid, cell(h.process), h.user, h.address, cell(h.container?.name), shortCommand(h.command)]),
    ),
  ].join('\n');
}

function portsText(entries: readonly PortEntry[]): string {
  if (entries.length === 0) return 'nothing listens';
  return table(
    ['PROTO', 'ADDRESS', 'PORT', 'PID', 'PROCESS', 'USER', 'CONTAINER', 'LEASE'],
    entries.map((e) => [e.protocol, e.address, e.port, e.pid, cell(e.process), e.user, cell(e.container?.name), leaseLabel(e.lease)]),
  );
}

function statusText(statuses: readonly LeaseStatus[]): string {
  if (statuses.length === 0) return 'no leases';
  return table(
    ['SCOPE', 'NAME', 'PORT', 'PROTO', 'STATE', 'EXPECTED', 'LISTENING'],
    statuses.map((s) => [s.lease.scope, s.lease.name, s.lease.port, s.lease.protocol, s.state, describeExpectation(s.expected), holderList(s.holders)]),
  );
}

/** One lease in detail, as the uDOS `check NAME` printed a service. */
function statusDetail(s: LeaseStatus & { readonly url: string | null; readonly conflicts: readonly Conflict[] }): string {
  const lines = [
    `${s.lease.name}: ${s.state}${s.holders.length > 0 ? ` (${holderList(s.holders)})` : ''}`,
    `  port: ${s.lease.port}/${s.lease.protocol}`,
    `  purpose: ${s.lease.purpose ?? '-'}`,
    `  expected holder: ${describeExpectation(s.expected)}`,
  ];
  if (s.url !== null) lines.push(`  url: ${s.url}`);
  lines.push(`  conflicts: ${s.conflicts.length === 0 ? 'none' : s.conflicts.map((c) => printable(c.message)).join('; ')}`);
  return lines.join('\n');
}

function checkText(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 0) return 'no conflicts';
  return conflicts.map((c) => `${c.kind}: ${printable(c.message)}`).join('\n');
}

function killText(r: KillReport): string {
  const lease = r.lease ? ` (leased to ${leaseLabel(r.lease)})` : '';
  if (r.stoppedContainers !== undefined) {
    const stopped = `stopped container ${r.stoppedContainers.map((n) => cell(n)).join(', ')} through its engine`;
    return `${stopped}\n${r.protocol} port ${r.port}${lease} is ${r.free ? 'free now' : 'still held'}`;
  }
  const rows = table(
    ['PID', 'PROCESS', 'USER', 'SIGNALS', 'EXITED', 'COMMAND'],
    r.killed.map((k) => [k.pid, cell(k.process), k.user, k.signals.join(',') || (k.error ? `none (${k.error})` : 'none (already gone)'), k.exited ? 'yes' : 'no', shortCommand(k.command)]),
  );
  const outcome = r.free ? `${r.protocol} port ${r.port}${lease} is free now` : `${r.protocol} port ${r.port}${lease} is still held`;
  return `${rows}\n${outcome}`;
}

/**
 * A holder that is still running and was meant to go. One that let go of the port before
 * its signal (error NOT_HOLDING) was left alone on purpose: the port's own
 * state (report.free) says whether the kill did its job.
 */
const stillHolds = (k: KillReport['killed'][number]): boolean => !k.exited && k.error !== NOT_HOLDING;

/** The exit-4 error for a kill whose holders survived, or whose port is still not bindable. */
function killIncomplete(report: KillReport): KillIncompleteError {
  const alive = report.killed.filter(stillHolds);
  const why = alive.length > 0
    ? alive.map((k) => `pid ${k.pid} (${printable(k.process ?? '?')}) is still running${k.error ? ` (${k.error})` : ''}`).join('; ')
    : `every holder exited, but ${report.protocol} port ${report.port} still cannot be bound (see \`berth who ${report.port}\`)`;
  return new KillIncompleteError(`${why}.`, { port: report.port, protocol: report.protocol, alive: alive.map((k) => k.pid) });
}

interface FreeFlags {
  from?: string;
  range?: string;
  count?: string;
  protocol?: string;
}

interface KillFlags {
  signal?: string;
  grace?: string;
  force?: boolean;
  protocol?: string;
  stopContainer?: boolean;
}

/** Registers the reality commands on `program`. */
export function registerRealityCommands(program: Command): void {
  program
    .command('who')
    .description('who holds PORT: every process (pid, name, command, user, address, container) and its lease; exit 1 if nobody')
    .argument('<port>')
    .option('--protocol <proto>', 'tcp (default) or udp')
    .action(async (portText: string, flags: { protocol?: string }, cmd: Command) => {
      const port = parsePort(portText);
      const protocol = protocolOf(flags.protocol);
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const result = await engine.reality.who(ctx, port, protocol);
        if (result.holders.length === 0 && result.lease === null) {
          throw new NotFoundError(`nothing listens on ${protocol} port ${port} and no lease holds it.`, { port, protocol });
        }
        emit(json, result, whoText);
      });
    });

  program
    .command('ports')
    .description('every listener on this machine, with the lease (scope/name) that owns its port')
    .option('--protocol <proto>', 'only tcp or udp')
    .action(async (flags: { protocol?: string }, cmd: Command) => {
      const protocol = flags.protocol === undefined ? undefined : parseProtocol(flags.protocol);
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.reality.ports(ctx, { protocol }), portsText);
      });
    });

  program
    .command('status')
    .description("the scope's leases with their live state: listening (by whom), idle or foreign; with NAMEs, each in detail (exit 1 for an unknown name)")
    .argument('[names...]', 'only these leases, each with purpose, URL and conflicts')
    .option('--all', 'every scope')
    .action(async (names: string[], flags: { all?: boolean }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const statuses = await engine.reality.status(ctx, { all: flags.all, names: names.length > 0 ? names : undefined });
        if (names.length === 0) {
          emit(json, statuses, statusText);
          // The launched services of the scope, when a stack was started here (text only: --json keeps its lease array).
          if (!json && !flags.all) {
            const { servicesText } = await import('./stack-views.js');
            const text = await servicesText((await engine.project(ctx)).scope);
            if (text !== null) emit(false, text, (t) => `\n${t}`);
          }
          return;
        }
        const [conflicts, urls] = await Promise.all([engine.reality.check(ctx), engine.wiring.urls(ctx)]);
        const detail = statuses.map((s) => ({
          ...s,
          url: urls.find((u) => u.pool === null && u.name === s.lease.name)?.url ?? null,
          conflicts: conflicts.filter((c) => c.lease?.scope === s.lease.scope && c.lease.name === s.lease.name),
        }));
        emit(json, detail, (d) => d.map(statusDetail).join('\n\n'));
      });
    });

  program
    .command('check')
    .alias('conflicts')
    .description('every conflict between leases, berth.yaml and what really listens; exit 1 if any')
    .option('--all', "every scope's leases, not only this scope's")
    .option('--fix', 'move each lease a stranger or an old container holds to the next free port of its category (never fixed ports), then re-render the files berth wrote')
    .option('--dry-run', 'with --fix: say what would move, change nothing')
    .action(async (flags: { all?: boolean; fix?: boolean; dryRun?: boolean }, cmd: Command) => {
      if (flags.dryRun === true && flags.fix !== true) throw new UsageError('--dry-run goes with --fix: berth check --fix --dry-run.');
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        if (flags.fix === true) {
          const { fixConflicts } = await import('../../workflows/check-fix.js');
          const result = await fixConflicts(engine, ctx, { all: flags.all, dryRun: flags.dryRun });
          const verb = result.dryRun ? 'would move' : 'moved';
          for (const m of result.moved) note(`berth: ${verb} ${m.scope}/${m.name} from ${m.from} to ${m.to} (${m.from} is held by ${holderList(m.conflict.holders) ?? 'another process'})`);
          for (const s of result.skipped) note(`berth: left ${s.conflict.lease ? leaseLabel(s.conflict.lease) : ''} on ${s.conflict.port}: ${s.reason}`);
          reportRerender(result.rerendered);
          emit(json, result, (r) => checkText(r.remaining));
          const failing = result.remaining.filter((c) => !ADVISORY_KINDS.has(c.kind));
          if (failing.length > 0) throw new ConflictsFoundError(failing);
          return;
        }
        const conflicts = await engine.reality.check(ctx, { all: flags.all });
        emit(json, conflicts, checkText);
        // Advisory kinds (a service off its preferred port) inform; only the others fail.
        const failing = conflicts.filter((c) => !ADVISORY_KINDS.has(c.kind));
        if (failing.length > 0) throw new ConflictsFoundError(failing);
      });
    });

  program
    .command('free')
    .description('the first ports free in the registry and the OS (allocation rules); takes no lease; exit 3 if too few')
    .argument('[from]', 'same as --from: `berth free 9000` searches from 9000')
    .option('--from <port>', 'start here (default: base: of berth.yaml); runs to 65535')
    .option('--range <A-B>', 'search only this band (the OS ephemeral range is then allowed)')
    .option('--count <n>', 'how many ports (default 1)')
    .option('--protocol <proto>', 'tcp (default) or udp')
    .action(async (fromWord: string | undefined, flags: FreeFlags, cmd: Command) => {
      if (fromWord !== undefined && flags.from !== undefined && fromWord !== flags.from) throw new UsageError(`free ${fromWord} and --from ${flags.from} disagree: give one start.`);
      const start = fromWord ?? flags.from;
      const search = {
        from: start === undefined ? undefined : parsePort(start, '--from'),
        range: flags.range === undefined ? undefined : parseRange(flags.range, '--range'),
        count: flags.count === undefined ? undefined : parseCount(flags.count, '--count'),
        protocol: protocolOf(flags.protocol),
      };
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        emit(json, await engine.reality.free(ctx, search), (r: FreeResult) => r.ports.join('\n'));
      });
    });

  program
    .command('kill')
    .description('stop what listens on TARGET (:PORT, PORT or a lease name): SIGTERM, then SIGKILL after the grace period')
    .argument('<target>', ':PORT, PORT or a lease name of the scope')
    .option('--signal <sig>', 'first signal, name or number (default TERM)')
    .option('--grace <ms>', 'wait before SIGKILL, in milliseconds (default 3000)')
    .option('--force', "also kill other users' processes (never pid 1, berth itself or a container's proxy)")
    .option('--protocol <proto>', 'tcp (default) or udp, for a port target')
    .option('--stop-container', "stop the container publishing the port through its engine's API (docker/podman stop), then confirm the port free")
    .addHelpText(
      'after',
      [
        '',
        'Only processes listening on exactly that port are signalled (every process holding the',
        'socket), all or none: berth refuses (exit 4, naming the reason) pid 1, itself, its',
        'ancestors, other users\' processes without --force, and a container\'s published port',
        '(it names `docker stop NAME`, or `podman stop NAME` when podman\'s conmon or rootlessport',
        'holds it; for pasta, passt and slirp4netns, the rootless container whose network it is).',
        'A holder is signalled only while it is still the process that was listed (pid and start',
        'time) and still holds the port: a pid reused in between is never signalled.',
        'Exit 1 if nothing listens; exit 4 if a holder survives or the port is still not bindable.',
      ].join('\n'),
    )
    .action(async (target: string, flags: KillFlags, cmd: Command) => {
      const options = {
        signal: flags.signal === undefined ? undefined : parseSignal(flags.signal),
        graceMs: flags.grace === undefined ? undefined : parseCount(flags.grace, '--grace', 0),
        force: flags.force,
        protocol: flags.protocol === undefined ? undefined : parseProtocol(flags.protocol),
        stopContainer: flags.stopContainer,
      };
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const report = await engine.reality.kill(ctx, target, options);
        emit(json, report, killText);
        if (!report.free || report.killed.some(stillHolds)) throw killIncomplete(report);
      });
    });
}
