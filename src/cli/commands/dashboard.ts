/**
 * `berth dashboard`: makes sure the daemon of this state directory runs, asks it for a
 * one-time login link, and prints it (with --open, also opens it in the browser). The
 * daemon, the client and the browser opener load only when this command runs.
 */
import type { Command } from 'commander';
import { rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { globals } from '../context.js';
import { emit, note } from '../render.js';

interface DashboardFlags {
  open?: boolean;
  readOnly?: boolean;
}

/** What `berth dashboard` prints: the link, and what it gives. */
export interface DashboardLink {
  readonly url: string;
  readonly access: 'write' | 'read';
  readonly expiresInMs: number;
  readonly daemon: { readonly pid: number; readonly url: string; readonly started: boolean };
}

/** The command that opens `url` in the user's browser on this platform. */
function opener(url: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

/**
 * Writes the page `--open` sends the browser to, `file` (0600, in the 0700 state
 * directory), which forwards to `url`; returns its file: URL. The link itself never goes
 * on the opener's command line, where any local user can read it (ps, /proc/PID/cmdline)
 * and spend its secret while the browser is still starting (as Jupyter's redirect file).
 */
function forwardingPage(file: string, url: string): string {
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  rmSync(file, { force: true });
  // 'wx': a fresh file with these bits, never through whatever stood at the path.
  writeFileSync(
    file,
    `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${href}"><title>berth dashboard</title><p><a href="${href}">Open the berth dashboard</a></p>\n`,
    { mode: 0o600, flag: 'wx' },
  );
  return pathToFileURL(file).href;
}

/** Registers `berth dashboard` on `program`. */
export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('print a one-time login link to the live web dashboard (starting the daemon if needed)')
    .option('--open', 'also open the link in the browser')
    .option('--read-only', 'a read-only login: everything shown, nothing can be changed through it')
    .action(async (flags: DashboardFlags, cmd: Command) => {
      const opts = globals(cmd);
      const env = opts.db ? { ...process.env, BERTH_DB: opts.db } : process.env;
      const [{ ensureDaemon }, { readToken, stateDir, statePaths }, { Transport }] = await Promise.all([
        import('../ensure-daemon.js'),
        import('../../server/state.js'),
        import('../../client/transport.js'),
      ]);
      const { lock, started } = await ensureDaemon(env);
      // The write token mints either kind of link; it is the user's own file (0600).
      const paths = statePaths(stateDir(env));
      const transport = new Transport({ socketPath: lock.socket, token: readToken(paths.token) });
      let link: Omit<DashboardLink, 'daemon'>;
      try {
        link = (await transport.send({ method: 'POST', path: '/v1/session/links', body: { readOnly: flags.readOnly === true } })) as Omit<DashboardLink, 'daemon'>;
      } finally {
        transport.close();
      }
      const data: DashboardLink = { ...link, daemon: { pid: lock.pid, url: lock.url, started } };
      if (flags.open === true) {
        const { spawn } = await import('node:child_process');
        const [command, args] = opener(forwardingPage(paths.dashboardOpen, link.url));
        const child = spawn(command, args, { detached: true, stdio: 'ignore' });
        child.on('error', () => note(`berth: could not run ${command} to open the browser; open the link yourself.`));
        child.unref();
      }
      emit(opts.json === true, data, (d) =>
        [
          `${d.daemon.started ? 'started the berth daemon' : 'berth daemon'} (pid ${d.daemon.pid}) at ${d.daemon.url}`,
          `open this link within ${Math.round(d.expiresInMs / 60_000)} minutes (it works once${d.access === 'read' ? ', read-only' : ''}):`,
          d.url,
        ].join('\n'),
      );
    });
}
