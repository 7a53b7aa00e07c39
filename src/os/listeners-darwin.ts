/**
 * Listeners on macOS (and any system without /proc), from `lsof`, with full command
 * lines from one `ps` call.
 */
import { RefusedError } from '../errors.js';
import type { Listener } from '../types.js';
import { LSOF_FIELDS, parseLsof } from './parse-lsof.js';
import { parsePsCommands } from './parse-ps.js';
import { runCommand } from './run-command.js';
import type { ListenerQuery } from './types.js';

/** The lsof arguments that list one protocol's listeners, optionally on one port. */
export function lsofArgs(protocol: 'tcp' | 'udp', port?: number): string[] {
  const spec = `-i${protocol.toUpperCase()}${port === undefined ? '' : `:${port}`}`;
  const state = protocol === 'tcp' ? ['-sTCP:LISTEN'] : [];
  return ['-nP', spec, ...state, `-F${LSOF_FIELDS}`];
}

async function lsof(args: string[]): Promise<string> {
  let result;
  try {
    result = await runCommand('lsof', args);
  } catch (error) {
    throw new RefusedError(`Cannot run lsof (${(error as NodeJS.ErrnoException).code ?? String(error)}): berth lists listeners with lsof here; install it.`);
  }
  // lsof exits 1 when nothing matched; anything it printed is still valid output.
  if (result.code !== 0 && result.code !== 1) {
    throw new RefusedError(`lsof ${args.join(' ')} failed (exit ${result.code ?? 'by signal'}): ${result.stderr.trim() || 'no message'}`);
  }
  return result.stdout;
}

/**
 * Every listening TCP socket and bound UDP socket, via lsof.
 *
 * @throws RefusedError when lsof is missing or fails.
 */
export async function listLsofListeners(query: ListenerQuery = {}): Promise<Listener[]> {
  const protocols = query.protocol ? [query.protocol] : (['tcp', 'udp'] as const);
  const outputs = await Promise.all(protocols.map((protocol) => lsof(lsofArgs(protocol, query.port))));
  const found = outputs
    .flatMap((text) => parseLsof(text))
    .filter((l) => query.port === undefined || l.port === query.port);
  const pids = [...new Set(found.map((l) => l.pid).filter((pid): pid is number => pid !== null))];
  if (pids.length === 0) return found;
  const ps = await runCommand('ps', ['-ww', '-o', 'pid=,command=', '-p', pids.join(',')]);
  const commands = parsePsCommands(ps.stdout);
  return found.map((l) => ({ ...l, command: l.pid === null ? null : (commands.get(l.pid) ?? null) }));
}
