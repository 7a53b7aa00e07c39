/**
 * Where a daemon is, as a user writes it (`--url`, BERTH_URL): `http://127.0.0.1:PORT`,
 * or `unix:/path/to/berth.sock` for its socket (`unix:` alone: the socket of the state
 * directory, which the caller supplies).
 */
import { UsageError } from '../errors.js';

/** A daemon's address: its unix socket, or its http URL. */
export type DaemonTarget = { readonly socketPath: string } | { readonly url: string };

/** Reads `text`; `defaultSocket` is the state directory's socket, for a bare `unix:`. */
export function parseDaemonTarget(text: string, defaultSocket: string): DaemonTarget {
  const value = text.trim();
  if (/^unix:/i.test(value)) {
    // `unix:/p` and `unix:///p` both name the socket /p.
    const socketPath = value.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    return { socketPath: socketPath === '' ? defaultSocket : socketPath };
  }
  if (/^http:\/\//i.test(value)) return { url: value };
  throw new UsageError(`invalid daemon URL ${JSON.stringify(text)}: give http://127.0.0.1:PORT (as \`berth serve\` prints it) or unix:/path/to/berth.sock.`);
}
