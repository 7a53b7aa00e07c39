/**
 * Kill policy: what `berth kill` may signal, and how its input is read. Pure; the
 * mechanics (signal, wait, SIGKILL) live in os/kill.ts.
 */
import { UsageError } from '../../errors.js';
import type { Listener } from '../../types.js';
import { parsePort } from '../../config/ports.js';
import { printable } from '../../wiring/describe.js';
import type { Refusal } from '../../engine/index.js';

/**
 * Host-side processes that hold a container's published port: stopping them breaks the
 * container engine, so berth names the container's stop command instead.
 */
export const CONTAINER_PORT_HOLDERS: ReadonlySet<string> = new Set([
  'docker-proxy',
  'conmon',
  'rootlessport',
  'rootlessport-child',
  'com.docker.backend',
  'vpnkit-bridge',
]);

/** Holders whose container engine is podman, so the stop command says podman. */
const PODMAN_HOLDERS: ReadonlySet<string> = new Set(['conmon', 'rootlessport', 'rootlessport-child']);

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
}

/** The command that stops the container holding `holder`'s port, or the way to find it. */
export function containerStopCommand(holder: Listener): string {
  const engine = holder.process !== null && PODMAN_HOLDERS.has(holder.process) ? 'podman' : 'docker';
  return holder.container ? `${engine} stop ${printable(holder.container.name)}` : `${engine} ps --filter publish=${holder.port}, then ${engine} stop NAME`;
}

function refusalOf(holder: Listener, ctx: KillPolicyContext): Refusal | null {
  const who = holder.pid === null ? null : `${printable(holder.process ?? '?')} (pid ${holder.pid})`;
  const base = { pid: holder.pid, process: holder.process, instead: null };
  if (holder.container || (holder.process !== null && CONTAINER_PORT_HOLDERS.has(holder.process))) {
    const instead = containerStopCommand(holder);
    const what = holder.container ? `container '${printable(holder.container.name)}' publishes port ${holder.port}` : `${who} holds port ${holder.port} for a container`;
    return { ...base, kind: 'container', reason: `${what}; killing ${printable(holder.process ?? 'its proxy')} would break the container engine. Run \`${instead}\` instead.`, instead };
  }
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
 * be killed). Refused: anything that holds a container's published port (name the stop
 * command instead), holders berth cannot see, pid 1, berth itself and its ancestors, and
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
