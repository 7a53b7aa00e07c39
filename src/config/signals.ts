/**
 * Signal names and numbers as people type them (`TERM`, `SIGINT`, `9`): the one parser for
 * the command line, berth.yaml and request bodies.
 */
import { constants } from 'node:os';
import { UsageError } from '../errors.js';

/**
 * Reads a signal name or number: `TERM`, `SIGTERM`, `sigterm`, `15`. Throws UsageError
 * for anything the OS does not know.
 */
export function parseSignal(value: string | number): NodeJS.Signals {
  const text = String(value).trim();
  const signals = constants.signals as Readonly<Record<string, number>>;
  if (/^\d+$/.test(text)) {
    const name = Object.keys(signals).find((n) => signals[n] === Number(text));
    if (name && Number(text) > 0) return name as NodeJS.Signals;
  } else {
    const upper = text.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (name in signals) return name as NodeJS.Signals;
  }
  throw new UsageError(`invalid signal '${text}': give a signal name or number, e.g. TERM, SIGINT, KILL or 9.`);
}
