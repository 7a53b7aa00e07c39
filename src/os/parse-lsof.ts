/**
 * Pure parser of `lsof -F` output (the macOS listener source). No I/O.
 *
 * `-F` prints one field per line, the first character naming the field: a process set
 * (`p` pid, `c` command name, `u` uid, `L` login) followed by one file set per open file
 * (`f` fd, `t` IPv4/IPv6, `P` protocol, `n` address:port, `T` TCP info such as
 * `TST=LISTEN`). berth asks for `-FpcfnuLPTt`. lsof 4.88 to 4.93 always printed `f`;
 * later versions print it only when asked, so a file set that lacks it is also
 * recognised by a file field repeating.
 */
import type { Listener, Protocol } from '../types.js';

/** The `-F` field letters berth requests, in the order lsof documents them. */
export const LSOF_FIELDS = 'pcfnuLPTt';

interface FileSet {
  fd: string;
  type: string | null;
  protocol: string | null;
  name: string | null;
  tcpState: string | null;
}

/**
 * Parses `lsof -nP -F...` output into listeners (command lines null: lsof does not know
 * them; the caller fills them from `ps`). Keeps listening TCP sockets and unconnected UDP
 * sockets with a numeric port; the same socket seen twice under one pid is listed once.
 */
export function parseLsof(text: string): Listener[] {
  const listeners: Listener[] = [];
  const seen = new Set<string>();
  let pid: number | null = null;
  let name: string | null = null;
  let uid: string | null = null;
  let login: string | null = null;
  let file: FileSet | null = null;

  const flush = (): void => {
    if (file === null || pid === null) return;
    const listener = toListener(file, pid, name, login ?? uid);
    file = null;
    if (listener === null) return;
    const key = `${listener.protocol} ${listener.address} ${listener.port} ${pid}`;
    if (seen.has(key)) return;
    seen.add(key);
    listeners.push(listener);
  };

  for (const line of text.split('\n')) {
    if (line === '') continue;
    const field = line[0];
    const value = line.slice(1);
    switch (field) {
      case 'p':
        flush();
        pid = Number(value);
        name = null;
        uid = null;
        login = null;
        break;
      case 'c':
        name = value;
        break;
      case 'u':
        uid = value;
        break;
      case 'L':
        login = value;
        break;
      case 'f':
        flush();
        file = { fd: value, type: null, protocol: null, name: null, tcpState: null };
        break;
      case 't':
      case 'P':
      case 'n': {
        const key = field === 't' ? 'type' : field === 'P' ? 'protocol' : 'name';
        if (file === null || file[key] !== null) {
          flush();
          file = { fd: '', type: null, protocol: null, name: null, tcpState: null };
        }
        file[key] = value;
        break;
      }
      case 'T':
        if (file && value.startsWith('ST=')) file.tcpState = value.slice(3);
        break;
      default:
        // Fields berth did not ask for (lsof may add some): ignore them.
        break;
    }
  }
  flush();
  return listeners;
}

function toListener(file: FileSet, pid: number, process: string | null, user: string | null): Listener | null {
  const protocol: Protocol | null = file.protocol === 'TCP' ? 'tcp' : file.protocol === 'UDP' ? 'udp' : null;
  if (protocol === null || file.name === null || !Number.isInteger(pid)) return null;
  // A connected socket (`a:1->b:2`) is a client, not a listener.
  if (file.name.includes('->')) return null;
  if (protocol === 'tcp' && file.tcpState !== null && file.tcpState !== 'LISTEN') return null;
  const endpoint = splitEndpoint(file.name, file.type);
  if (endpoint === null) return null;
  return { protocol, address: endpoint.address, port: endpoint.port, pid, process, command: null, user, container: null };
}

/**
 * Splits lsof's `host:port` (`*:3000`, `127.0.0.1:3000`, `[::1]:3000`, `[fe80::1%lo0]:3000`).
 * The wildcard `*` becomes `0.0.0.0` or `::` when the file type says which; `*` stays
 * when lsof did not say.
 */
export function splitEndpoint(name: string, type: string | null): { address: string; port: number } | null {
  const colon = name.lastIndexOf(':');
  if (colon < 0) return null;
  const portText = name.slice(colon + 1);
  if (!/^\d+$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  let address = name.slice(0, colon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (address === '*') address = type === 'IPv6' ? '::' : type === 'IPv4' ? '0.0.0.0' : '*';
  return { address, port };
}
