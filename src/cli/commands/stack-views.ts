/**
 * `berth ps` and `berth logs`: what a stack's supervisor recorded in the state directory,
 * so they work from any terminal on a foreground `berth up`, and tell the truth after its
 * supervisor was killed (a service whose processes are gone is not shown running).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { formatUptime, type ServiceStatus } from '../../engine/index.js';
import { parseSince } from '../../config/durations.js';
import { stateDir } from '../../fs/state-dir.js';
import type { LogLine, StackRecord } from '../../launch/index.js';

/** The launch layer, loaded only by these commands. */
const launch = () => import('../../launch/index.js');
import { withEngine } from '../context.js';
import { parseCount } from '../options.js';
import { emit, forTerminal, table, writeOut } from '../render.js';

/** How often `logs -f` looks for new lines. */
const FOLLOW_POLL_MS = 200;

/** A service of `berth ps`: its status, with what is true now when the supervisor is gone. */
export interface PsEntry extends ServiceStatus {
  /** Seconds since its process started; null when none runs. */
  readonly uptimeSeconds: number | null;
  /** pid of the supervisor (berth up or the daemon), or null when it is gone. */
  readonly supervisor: number | null;
}

/** The statuses of the record, corrected by what runs now. */
export async function psEntries(record: StackRecord, now = Date.now()): Promise<PsEntry[]> {
  const { recordedMembers, supervisorAlive } = await launch();
  const alive = supervisorAlive(record);
  return record.services.map((s) => {
    const pids = alive ? s.pids : recordedMembers(s);
    const live = pids.length > 0;
    const orphaned = !alive && live;
    const state = !alive && !live && ['starting', 'running', 'healthy', 'unhealthy', 'stopping', 'restarting', 'pending'].includes(s.state) ? 'stopped' : s.state;
    const reason = orphaned ? `its berth up (pid ${record.supervisor.pid}) is gone; berth down stops it` : state !== s.state ? `its berth up (pid ${record.supervisor.pid}) is gone` : s.reason;
    const status: ServiceStatus = { scope: s.scope, name: s.name, state, reason, pid: live ? (pids[0] ?? null) : null, pids, ports: s.ports, restarts: s.restarts, startedAt: live ? s.startedAt : null, lastExit: s.lastExit, dependsOn: s.dependsOn ?? [] /* a record written before the field */, description: s.description, stage: s.stage, checks: s.checks ?? [] };
    return { ...status, uptimeSeconds: status.startedAt === null ? null : Math.max(0, Math.round((now - Date.parse(status.startedAt)) / 1000)), supervisor: alive ? record.supervisor.pid : null };
  });
}

/** How many of a service's last health checks the `ps` table shows (the API and dashboard keep 20). */
const PS_CHECKS = 5;

/** The last checks as marks, oldest first (`✗✗✓✓✓`); null for a service without a check yet. */
function checkMarks(e: PsEntry): string | null {
  return e.checks.length === 0 ? null : e.checks.slice(-PS_CHECKS).map((c) => (c.ok ? '✓' : '✗')).join('');
}

function renderPs(entries: readonly PsEntry[]): string {
  if (entries.length === 0) return 'no services';
  const rows = entries.map((e) => [
    e.name,
    e.state,
    checkMarks(e),
    e.pid,
    e.ports.map((p) => `${p.name === undefined || p.name === e.name ? '' : `${p.name}=`}${p.port}${p.listening || e.pid === null ? '' : p.stranger === null ? ' (not listening)' : ` (held by ${p.stranger})`}`).join(' '),
    e.restarts,
    formatUptime(e.uptimeSeconds),
    e.lastExit === null ? null : e.lastExit.signal ?? `exit ${e.lastExit.code}`,
    e.reason,
  ]);
  return table(['NAME', 'STATE', 'CHECKS', 'PID', 'PORT', 'RESTARTS', 'UPTIME', 'LAST EXIT', 'NOTE'], rows);
}

/** The services table `berth status` adds (state, stage, description), or null when the scope launched nothing here. */
export async function servicesText(scope: string): Promise<string | null> {
  const r = (await launch()).readStackRecord(stateDir(), scope);
  if (r === null) return null;
  const entries = await psEntries(r);
  return table(['SERVICE', 'STATE', 'PID', 'RESTARTS', 'STAGE', 'DESCRIPTION', 'NOTE'], entries.map((e) => [e.name, e.state, e.pid, e.restarts, e.stage, e.description, e.reason]));
}

async function record(scope: string): Promise<StackRecord> {
  const r = (await launch()).readStackRecord(stateDir(), scope);
  if (r === null) throw new NotFoundError(`no stack of scope ${scope} was started with this state directory (${stateDir()}); start one with berth up.`, { scope });
  return r;
}

export function registerStackViewCommands(program: Command): void {
  program
    .command('ps')
    .description("the services of this scope's stack: state, last health checks, pid, port (listening or not), restarts, uptime, last exit")
    .action(async (_flags: unknown, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const scope = (await engine.project(ctx)).scope;
        emit(json, await psEntries(await record(scope)), renderPs);
      });
    });

  program
    .command('logs')
    .description("the output of this scope's services (every one when none is named), oldest first")
    .argument('[services...]', 'only these services')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <n>', 'only the last N lines')
    .option('--since <time>', 'only lines since a duration ago (90s, 15m) or a time')
    .action(async (services: string[], flags: { follow?: boolean; tail?: string; since?: string }, cmd: Command) => {
      const tail = flags.tail === undefined ? null : parseCount(flags.tail, '--tail', 0);
      const since = flags.since === undefined ? null : parseSince(flags.since);
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const scope = (await engine.project(ctx)).scope;
        const { logPath, readLogFile } = await launch();
        const { order, supervisor } = await record(scope);
        const names = services.length > 0 ? services : order;
        for (const n of services) if (!order.includes(n)) throw new NotFoundError(`no service '${n}' in the stack of scope ${scope}. Services: ${order.join(', ')}.`);
        const width = Math.max(...names.map((n) => n.length));
        const print = (l: LogLine): void => writeOut(json ? `${JSON.stringify(l)}\n` : `${l.service.padEnd(width)} | ${l.stream === 'berth' ? '[berth] ' : ''}${forTerminal(l.text)}\n`);
        const daemon = await import('../daemon-call.js');
        if (flags.follow && (await daemon.runsInDaemon(supervisor.pid))) {
          // The daemon runs the stack (berth up, attached or -d): its stream brings each line as it comes.
          const query: Record<string, string> = { follow: 'true' };
          if (tail !== null) query.tail = String(tail);
          if (since !== null) query.since = since;
          const one = names.length === 1 ? names[0]! : '-';
          const stream = await daemon.daemonStream('services.logs', { scope, name: one }, query, undefined, ctx, (event, data) => {
            if (event !== 'log') return;
            const line = daemon.logLineOf(data);
            if (names.includes(line.service)) print(line);
          });
          const end = (): void => stream.close();
          process.once('SIGINT', end);
          process.once('SIGTERM', end);
          await stream.done;
          process.removeListener('SIGINT', end);
          process.removeListener('SIGTERM', end);
          return;
        }
        const read = (): LogLine[] => names.flatMap((n) => readLogFile(logPath(stateDir(), scope, n))).filter((l) => since === null || l.time >= since).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
        let lines = read();
        (tail === null ? lines : lines.slice(Math.max(0, lines.length - tail))).forEach(print);
        if (!flags.follow) return;
        let seen = lines.length;
        let stop = false;
        const end = (): void => {
          stop = true;
        };
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
        while (!stop) {
          await sleep(FOLLOW_POLL_MS);
          lines = read();
          lines.slice(seen).forEach(print);
          seen = lines.length;
        }
      });
    });
}


