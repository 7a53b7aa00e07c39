/**
 * The check `berth run` makes after starting a child: does the child listen on a port that
 * is not its lease, and is its lease port held by someone else? Best effort: a few polls
 * in the first seconds, in the background, never delaying or failing the child.
 */
import type { Lease, Listener } from '../types.js';

/**
 * When the check looks, in ms after the child starts (each delay counts from the end of
 * the previous poll): quick first looks for fast servers, later ones for slow starters.
 */
export const PORT_WATCH_DELAYS_MS: readonly number[] = [500, 1_000, 2_000, 4_000, 8_000];

/** How far up the parent chain a listener's pid is followed to find the child. */
const MAX_ANCESTRY_DEPTH = 32;

/**
 * What the check reads from the OS. The composition root builds it from the machine
 * (workflows stand above the engine and never reach into os/ themselves).
 */
export interface PortWatchSources {
  listListeners(): Promise<Listener[]>;
  /** The parent pid of `pid`, or null when it is gone or hidden. */
  parentOf(pid: number): number | null;
}

/** Options of watchChildPorts. */
export interface PortWatchOptions {
  /** The child's pid; its descendants count as the child too (`npm run dev` → node). */
  readonly pid: number;
  /** What the command is called, for messages. */
  readonly command: string;
  /** The leases handed to the child (`PORT` is the first). */
  readonly leases: readonly Lease[];
  /** Every port of the scope: listening on any of them is not a warning. */
  readonly scopeLeases: readonly Lease[];
  /** Receives each warning once. */
  readonly warn: (message: string) => void;
  readonly delaysMs?: readonly number[];
  readonly sources: PortWatchSources;
}

/**
 * Starts the check; call the returned function to stop it (when the child exits). Any OS
 * error ends the check silently: it is advice, not a guarantee.
 */
export function watchChildPorts(opts: PortWatchOptions): () => void {
  const { sources } = opts;
  const delays = opts.delaysMs ?? PORT_WATCH_DELAYS_MS;
  const said = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const say = (key: string, message: string): void => {
    if (stopped || said.has(key)) return;
    said.add(key);
    opts.warn(message);
  };

  const poll = async (): Promise<void> => {
    const listeners = await sources.listListeners();
    if (stopped) return;
    const ours = new Map<number, boolean>();
    const isChild = (pid: number | null): boolean | null => {
      if (pid === null) return null;
      if (!ours.has(pid)) ours.set(pid, descendsFrom(pid, opts.pid, sources));
      return ours.get(pid)!;
    };
    const leased = new Set(opts.scopeLeases.map((l) => `${l.protocol}/${l.port}`));
    for (const lease of opts.leases) {
      for (const l of listeners.filter((x) => x.port === lease.port && x.protocol === lease.protocol)) {
        if (isChild(l.pid) === true || unattributable(l)) continue;
        say(
          `held/${lease.protocol}/${lease.port}`,
          `port ${lease.port} (lease ${lease.name}) is held by ${holder(l)}, not by ${opts.command}; ` +
            `it will likely fail to listen there. Stop that process or move the lease (berth reassign ${lease.name} PORT).`,
        );
      }
    }
    for (const l of listeners) {
      if (leased.has(`${l.protocol}/${l.port}`) || isChild(l.pid) !== true) continue;
      const given = opts.leases.map((x) => `${x.name}=${x.port}`).join(', ');
      say(
        `extra/${l.protocol}/${l.port}`,
        `${opts.command} (pid ${l.pid}) listens on ${l.protocol} port ${l.port}, which is not one of its leases (${given}); ` +
          `make it read $PORT, or lease that port with berth allocate.`,
      );
    }
  };

  const next = (i: number): void => {
    if (stopped || i >= delays.length) return;
    timer = setTimeout(() => {
      poll().then(
        () => next(i + 1),
        () => {
          // The OS view is unavailable (no /proc, no lsof, permissions): the check is
          // advisory, so it just stops; the child is unaffected.
          stopped = true;
        },
      );
    }, delays[i]);
    timer.unref();
  };
  next(0);

  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** Whether `pid` is `root` or one of its descendants. */
function descendsFrom(pid: number, root: number, sources: PortWatchSources): boolean {
  let current: number | null = pid;
  for (let depth = 0; current !== null && current > 1 && depth < MAX_ANCESTRY_DEPTH; depth += 1) {
    if (current === root) return true;
    current = sources.parentOf(current);
  }
  return false;
}

/**
 * Sockets berth cannot tie to a process tree: another user's (no pid), and ports published
 * by Docker, which the child may well have started itself (`berth run -- docker compose
 * up`). They are never reported, so the check raises no false alarms.
 */
function unattributable(l: Listener): boolean {
  return l.pid === null || l.container !== null || l.process === 'docker-proxy' || l.process === 'rootlesskit';
}

function holder(l: Listener): string {
  return `pid ${l.pid}${l.process ? ` (${l.process})` : ''}`;
}
