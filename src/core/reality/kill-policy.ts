/**
 * Kill policy: what `berth kill` may signal, and how its input is read. Pure; the
 * mechanics (signal, wait, SIGKILL) live in os/kill.ts.
 */
import { UsageError } from '../../errors.js';
import type { Listener } from '../../types.js';
import { parsePort } from '../../config/ports.js';
import { printable } from '../../wiring/describe.js';
import type { Refusal } from '../../engine/index.js';

/** How a container port holder's container is stopped: through which engine, or whose network it is. */
type HolderKind = 'docker' | 'podman' | 'rootless-net';

/**
 * Host-side processes that hold a container's published port, by full executable name
 * (Linux cuts the process name to 15 characters: `rootlessport-child` shows as
 * `rootlessport-ch`), and how their container is stopped instead.
 */
const CONTAINER_HOLDER_KINDS: ReadonlyMap<string, HolderKind> = new Map<string, HolderKind>([
  ['docker-proxy', 'docker'],
  ['com.docker.backend', 'docker'],
  ['vpnkit-bridge', 'docker'],
  // Rootless docker's port driver.
  ['rootlesskit', 'docker'],
  ['conmon', 'podman'],
  ['rootlessport', 'podman'],
  ['rootlessport-child', 'podman'],
  // Podman machine's port forwarder on macOS and Windows.
  ['gvproxy', 'podman'],
  // User-mode networks of rootless containers (podman's default, or rootless docker's):
  // they forward the published port into the container's network namespace. passt
  // re-executes itself as its AVX2 build where the CPU has it.
  ['pasta', 'rootless-net'],
  ['passt', 'rootless-net'],
  ['pasta.avx2', 'rootless-net'],
  ['passt.avx2', 'rootless-net'],
  ['slirp4netns', 'rootless-net'],
]);

/**
 * Host-side processes that hold a container's published port: stopping them breaks the
 * container engine, so berth names the container's stop command instead. Matched on the
 * process name and on the full executable name.
 */
export const CONTAINER_PORT_HOLDERS: ReadonlySet<string> = new Set(CONTAINER_HOLDER_KINDS.keys());

/** What `berth kill` is aimed at: a port (`:3000`, `3000`) or a lease of the scope by name. */
export type KillTarget = { readonly port: number } | { readonly lease: string };

/**
 * Reads a kill target: `:PORT` and an all-digit word are ports (validated: `:0`, `70000`
 * are bad input); any other word is a lease name.
 */
export function parseKillTarget(text: string): KillTarget {
  const word = text.trim();
  if (word.startsWith(':')) return { port: parsePort(word.slice(1), 'port') };
  if (/^\d+$/.test(word)) return { port: parsePort(word, 'port') };
  if (word === '') throw new UsageError('name what to kill: :PORT, PORT or a lease name.');
  return { lease: word };
}


/** What the policy needs to know about the machine and the caller. */
export interface KillPolicyContext {
  /** berth's own pid. */
  readonly selfPid: number;
  /** berth's parent, grandparent, ... up to init: killing them would kill the caller. */
  readonly ancestors: readonly number[];
  /** berth's effective uid; null where the platform has none. */
  readonly uid: number | null;
  /** Allow other users' processes. */
  readonly force: boolean;
  /** uid and login name of a pid, or null when it is gone or hidden. */
  readonly ownerOf: (pid: number) => { readonly uid: number; readonly user: string } | null;
  /**
   * The full executable name of a pid (never cut to 15 characters like the listed process
   * name), or null when unknown. Without it only the listed name is matched.
   */
  readonly executableOf?: (pid: number) => string | null;
}

/** Which known container port holder `holder` is, by its listed name or its full executable name; null when none. */
function containerHolderName(holder: Listener, executable: string | null): string | null {
  for (const name of [executable, holder.process]) if (name !== null && CONTAINER_HOLDER_KINDS.has(name)) return name;
  return null;
}

/**
 * The command that stops the container holding `holder`'s port, or the way to find it.
 * `executable` is the holder's full executable name when known (see
 * {@link KillPolicyContext.executableOf}).
 */
export function containerStopCommand(holder: Listener, executable: string | null = null): string {
  const known = containerHolderName(holder, executable);
  const engine = known !== null && CONTAINER_HOLDER_KINDS.get(known) !== 'docker' ? 'podman' : 'docker';
  return holder.container ? `${engine} stop ${printable(holder.container.name)}` : `${engine} ps --filter publish=${holder.port}, then ${engine} stop NAME`;
}

/** The refusal of a holder that serves a container: what it is, and the command to run instead. */
function containerRefusal(holder: Listener, known: string | null, base: Pick<Refusal, 'pid' | 'process'>): Refusal {
  const instead = containerStopCommand(holder, known);
  const who = `${printable(known ?? holder.process ?? '?')} (pid ${holder.pid})`;
  const proxy = printable(known ?? holder.process ?? 'its proxy');
  if (holder.container) {
    const what = `container '${printable(holder.container.name)}' publishes port ${holder.port}`;
    return { ...base, kind: 'container', reason: `${what}; killing ${proxy} would break the container engine. Run \`${instead}\` instead. (\`berth kill ${holder.port} --stop-container\` stops it through the engine and confirms the port free.)`, instead };
  }
  if (known !== null && CONTAINER_HOLDER_KINDS.get(known) === 'rootless-net') {
    const reason = `${who} forwards port ${holder.port} into a rootless container's network; killing it would cut that container off. Stop the container instead: run \`${instead}\` (rootless docker: the same with docker).`;
    return { ...base, kind: 'container', reason, instead };
  }
  return { ...base, kind: 'container', reason: `${who} holds port ${holder.port} for a container; killing ${proxy} would break the container engine. Run \`${instead}\` instead.`, instead };
}

function refusalOf(holder: Listener, ctx: KillPolicyContext): Refusal | null {
  const who = holder.pid === null ? null : `${printable(holder.process ?? '?')} (pid ${holder.pid})`;
  const base = { pid: holder.pid, process: holder.process, instead: null };
  const executable = holder.pid === null ? null : (ctx.executableOf?.(holder.pid) ?? null);
  const known = containerHolderName(holder, executable);
  if (holder.container || known !== null) return containerRefusal(holder, known, base);
  if (holder.pid === null) {
    return { ...base, kind: 'hidden', reason: `berth cannot see which process holds port ${holder.port} (another user's?). Run berth as that user or as root.` };
  }
  if (holder.pid === 1) return { ...base, kind: 'init', reason: `${who} is the init process; berth never signals pid 1.` };
  if (holder.pid === ctx.selfPid) return { ...base, kind: 'self', reason: `${who} is berth itself.` };
  const depth = ctx.ancestors.indexOf(holder.pid);
  if (depth >= 0) {
    const relation = depth === 0 ? "berth's parent" : `an ancestor of berth (${depth + 1} levels up)`;
    return { ...base, kind: 'ancestor', reason: `${who} is ${relation}; killing it would end the command that runs berth.` };
  }
  if (ctx.uid !== null && !ctx.force) {
    const owner = ctx.ownerOf(holder.pid);
    if (owner !== null && owner.uid !== ctx.uid) {
      return { ...base, kind: 'other-user', reason: `${who} belongs to user ${printable(owner.user)}, not to you; pass --force to kill it anyway.` };
    }
  }
  return null;
}

/**
 * Why berth refuses to kill each holder, one entry per refused process (empty: all may
 * be killed). Refused: anything that holds a container's published port, and every known
 * container port forwarder by listed or full executable name (name the stop command
 * instead), holders berth cannot see, pid 1, berth itself and its ancestors, and
 * other users' processes unless `force`. `force` never overrides the others.
 */
export function killRefusals(holders: readonly Listener[], ctx: KillPolicyContext): Refusal[] {
  const out: Refusal[] = [];
  const seen = new Set<string>();
  for (const holder of holders) {
    const refusal = refusalOf(holder, ctx);
    if (refusal === null) continue;
    const k = `${refusal.kind} ${refusal.pid ?? holder.address}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(refusal);
  }
  return out;
}
