/**
 * `berth serve` (the daemon in the foreground) and `berth daemon status|stop`. The server
 * code is loaded only by these commands, never on the start-up path of the others.
 */
import type { Command } from 'commander';
import { NotFoundError, RefusedError } from '../../errors.js';
import { globals } from '../context.js';
import { parseCount } from '../options.js';
import { emit, note } from '../render.js';

interface ServeFlags {
  port?: string;
  host?: string;
  allowRemote?: boolean;
  allowHost?: string[];
}

/** Registers serve and daemon on `program`. */
export function registerDaemonCommands(program: Command): void {
  program
    .command('serve')
    .description('run the daemon in the foreground: the REST API, event stream and metrics on a unix socket and loopback TCP')
    .option('--port <port>', 'TCP port (default: a port berth leases to itself, kept across restarts)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--allow-remote', 'allow a --host that is not loopback (the token is required either way)')
    .option('--allow-host <name...>', 'extra Host header names to answer to (e.g. a name in /etc/hosts for 127.0.0.1)')
    .action(async (flags: ServeFlags, cmd: Command) => {
      const opts = globals(cmd);
      const env = opts.db ? { ...process.env, BERTH_DB: opts.db } : process.env;
      const { startDaemon } = await import('../../server/daemon.js');
      // Signals are caught before the daemon starts: it writes its lockfile while starting,
      // and a SIGINT sent as soon as the lockfile appears must stop it cleanly, not kill it.
      let signalled = false;
      let wake = (): void => undefined;
      const onSignal = (): void => {
        signalled = true;
        wake();
      };
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      for (const s of signals) process.on(s, onSignal);
      try {
        const daemon = await startDaemon({
          port: flags.port === undefined ? undefined : parseCount(flags.port, '--port'),
          host: flags.host,
          allowRemote: flags.allowRemote,
          allowHosts: flags.allowHost,
          env,
        });
        if (daemon.staleLock) note(`berth: replaced a stale lockfile: pid ${daemon.staleLock.pid} (${daemon.staleLock.url}) is gone.`);
        emit(opts.json === true, { url: daemon.url, socket: daemon.paths.socket, pid: process.pid, token: daemon.paths.token }, (d) => `berth daemon listening on ${d.url} and ${d.socket} (pid ${d.pid}); token in ${d.token}`);
        if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
        await daemon.stop();
      } finally {
        for (const s of signals) process.off(s, onSignal);
      }
    });

  const daemon = program.command('daemon').description('the background daemon of this state directory');
  daemon
    .command('start')
    .description('start the daemon in the background unless one runs; print where it listens')
    .action(async (_flags: unknown, cmd: Command) => {
      const opts = globals(cmd);
      const { ensureDaemon } = await import('../ensure-daemon.js');
      const { lock, started } = await ensureDaemon(opts.db ? { ...process.env, BERTH_DB: opts.db } : process.env);
      emit(opts.json === true, { started, ...lock }, (l) => `${l.started ? 'started' : 'already running:'} berth daemon pid ${l.pid}, ${l.url}, socket ${l.socket}`);
    });
  daemon
    .command('status')
    .description('whether a daemon runs for this state directory, and where (exit 1 if none)')
    .action(async (_flags: unknown, cmd: Command) => {
      const { daemonStatus } = await import('../../server/daemon.js');
      const status = daemonStatus();
      if (status.lock === null) throw new NotFoundError(`no berth daemon runs for ${status.stateDir}. Start one with \`berth serve\`.`, { stateDir: status.stateDir });
      if (!status.running) {
        throw new NotFoundError(`no berth daemon runs for ${status.stateDir}: its lockfile names pid ${status.lock.pid}, which is gone (stale; the next daemon replaces it).`, {
          stateDir: status.stateDir,
          stale: status.lock,
        });
      }
      emit(globals(cmd).json === true, { running: true, stateDir: status.stateDir, ...status.lock }, (l) => `berth daemon pid ${l.pid}, ${l.url}, socket ${l.socket}, version ${l.version}, since ${l.startedAt}`);
    });
  daemon
    .command('stop')
    .description('stop the daemon of this state directory (SIGTERM; waits until it is gone)')
    .action(async (_flags: unknown, cmd: Command) => {
      const { daemonStatus, stopDaemon, STOP_WAIT_MS } = await import('../../server/daemon.js');
      const status = daemonStatus();
      if (status.lock === null || !status.running) throw new NotFoundError(`no berth daemon runs for ${status.stateDir}; nothing to stop.`);
      if (!(await stopDaemon(status.lock))) {
        throw new RefusedError(`the daemon (pid ${status.lock.pid}) is still running ${STOP_WAIT_MS / 1000} s after SIGTERM. Look at it with \`berth who ${status.lock.port}\`.`);
      }
      emit(globals(cmd).json === true, { stopped: true, pid: status.lock.pid }, (r) => `stopped the berth daemon (pid ${r.pid})`);
    });
}
