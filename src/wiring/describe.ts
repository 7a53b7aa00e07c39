/**
 * Reality in words: processes, holders and expectations as people read them in tables and
 * messages. One line each, never a control character (a process name can hold anything).
 */
import { printable } from '../errors.js';
import type { Expectation, Listener } from '../types.js';

export { printable } from '../errors.js';

/** `'python' (pid 12345)`, `container 'web1' (conmon, pid 77)`: a holder, for messages. */
export function describeHolder(holder: Listener): string {
  const pid = holder.pid === null ? null : `pid ${holder.pid}`;
  if (holder.container) {
    const via = [holder.process === null ? null : printable(holder.process), pid].filter((x) => x !== null).join(', ');
    return `container '${printable(holder.container.name)}'${via ? ` (${via})` : ''}`;
  }
  if (holder.pid === null) return 'a process berth cannot inspect (another user\'s?)';
  return `'${printable(holder.process ?? '?')}' (${pid})`;
}

/** `'goblin'`, `pid 4242 or its children`, `any process`: an expectation, for messages. */
export function describeExpectation(expected: Expectation): string {
  switch (expected.kind) {
    case 'any':
      return 'any process';
    case 'pid':
      return `pid ${expected.pid} or its children`;
    case 'process':
      return `'${printable(expected.name)}'`;
  }
}

/**
 * The note allocate and run print when a service's lease was moved away from the port
 * berth.yaml fixes (issue 10: the moved lease is used, not refused).
 */
export function describeConfigDrift(name: string, port: number, configPort: number): string {
  return (
    `${name} uses port ${port}, where its lease was moved; berth.yaml fixes ${configPort}. ` +
    `Keep ${port}: \`berth reassign ${name} ${port} --update-config\` writes it into berth.yaml; go back: \`berth reassign ${name} ${configPort}\`.`
  );
}
