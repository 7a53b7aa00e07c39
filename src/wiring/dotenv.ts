/**
 * `.env` files: rendering `KEY=value` lines, and merging berth's keys into a file people
 * also edit by hand without disturbing anything else in it.
 */
import { UsageError } from '../errors.js';
import { assertEnvName } from './env-name.js';
import type { EnvVar } from '../types.js';

/** A name and a value; EnvVar fits. */
export type NamedValue = Pick<EnvVar, 'name' | 'value'>;

/** Values made only of these characters are written without quotes. */
const BARE_VALUE = /^[A-Za-z0-9_./:@%+,=-]*$/;

/**
 * Quotes a value for a `.env` line, only when needed, so node dotenv (+ dotenv-expand, as in
 * Vite and Next.js), python-dotenv, docker compose and sh all read back the same string:
 * - bare when it has only `A-Z a-z 0-9 _ . / : @ % + , = -` (ports, most URLs);
 * - else in single quotes, which all of them take literally, when it has no `'` and no
 *   line break;
 * - else in double quotes with `\\`, `\"`, `\$`, `\n` and `\r` escaped.
 *
 * @throws UsageError for a value that needs quotes and ends in `\`: readers disagree on
 *   whether that backslash escapes the closing quote, so no spelling is portable.
 */
export function quoteDotenvValue(value: string): string {
  if (BARE_VALUE.test(value)) return value;
  if (value.endsWith('\\')) {
    throw new UsageError(`a value ending in a backslash cannot be written to an env file portably: ${JSON.stringify(value)}`);
  }
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  return doubleQuote(value);
}

function doubleQuote(value: string): string {
  const escaped = value.replace(/[\\"$\n\r]/g, (c) => DOUBLE_QUOTE_ESCAPES[c] ?? c);
  return `"${escaped}"`;
}

const DOUBLE_QUOTE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  $: '\\$',
  '\n': '\\n',
  '\r': '\\r',
};

/** `KEY=value` lines, one per variable, each ending in `\n`. */
export function renderDotenv(vars: readonly NamedValue[]): string {
  return vars.map((v) => `${checked(v).name}=${quoteDotenvValue(v.value)}\n`).join('');
}

/** One physical line and the terminator that ended it (`''` for the last one). */
interface Line {
  readonly text: string;
  readonly eol: string;
}

/** An assignment `KEY=value`, possibly spanning lines when a quoted value holds line breaks. */
interface Assignment {
  /** Indent, `export `, the key, spaces, `=`, spaces: kept as they are. */
  readonly head: string;
  readonly exported: boolean;
  readonly key: string;
  /** The value as written, quotes included. */
  readonly raw: string;
  /** What follows the value: spaces and a `# comment`, kept as they are. */
  readonly tail: string;
}

const ASSIGNMENT = /^([ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*)(.*)$/;
const QUOTES = `"'\``;

/**
 * Merges berth's variables into the text of an existing `.env` file.
 *
 * - Every line that assigns one of `vars` (also `export KEY=...`, and every copy when a key
 *   appears twice) gets the new value; its indent, `export`, spacing around `=`, trailing
 *   `# comment`, line ending and quote style are kept. A line whose value already reads as
 *   the new value is left exactly as it is, so merging twice changes nothing.
 * - Every other line (comments, blank lines, other keys, multi-line quoted values) is kept
 *   byte for byte, in its place, with its own line ending; a UTF-8 BOM is kept.
 * - Keys not yet in the file are appended at the end, after a line break if the file did
 *   not end in one, using the file's line ending (the first one it uses; `\n` if none), and
 *   with `export ` when every existing assignment uses it.
 *
 * @throws UsageError when a variable name is invalid or given twice.
 */
export function mergeDotenv(oldText: string, vars: readonly NamedValue[]): string {
  const wanted = new Map<string, string>();
  for (const v of vars) {
    if (wanted.has(checked(v).name)) throw new UsageError(`variable ${v.name} is given twice`, { name: v.name });
    wanted.set(v.name, v.value);
  }

  const bom = oldText.startsWith('\uFEFF') ? '\uFEFF' : '';
  const lines = splitLines(oldText.slice(bom.length));
  const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
  const seen = new Set<string>();
  let assignments = 0;
  let exportedAssignments = 0;
  let out = bom;

  for (let i = 0; i < lines.length; ) {
    const parsed = parseAssignment(lines, i);
    if (parsed === null) {
      out += lines[i]!.text + lines[i]!.eol;
      i += 1;
      continue;
    }
    const { assignment: a, text, next } = parsed;
    const lineEnd = lines[next - 1]!.eol;
    assignments += 1;
    if (a.exported) exportedAssignments += 1;
    const value = wanted.get(a.key);
    if (value === undefined || decodeValue(a.raw) === value) {
      out += text + lineEnd;
    } else {
      // `KEY= #note` had its space in the head; a comment needs one after the new value.
      const gap = a.tail.startsWith('#') ? ' ' : '';
      out += a.head + requote(a.raw, value) + gap + a.tail + lineEnd;
    }
    if (value !== undefined) seen.add(a.key);
    i = next;
  }

  const missing = [...wanted].filter(([name]) => !seen.has(name));
  if (missing.length === 0) return out;
  if (out !== bom && !/[\r\n]$/.test(out)) out += eol;
  const prefix = assignments > 0 && exportedAssignments === assignments ? 'export ' : '';
  for (const [name, value] of missing) out += `${prefix}${name}=${quoteDotenvValue(value)}${eol}`;
  return out;
}

function checked(v: NamedValue): NamedValue {
  assertEnvName(v.name, 'dotenv variable');
  return v;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /\r\n|\n|\r/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    lines.push({ text: text.slice(last, m.index), eol: m[0] });
    last = re.lastIndex;
  }
  if (last < text.length) lines.push({ text: text.slice(last), eol: '' });
  return lines;
}

/**
 * Parses the assignment that starts at line `i`, following a quoted value over line breaks
 * until its closing quote. Returns null for anything that is not an assignment. `text` is
 * the whole entry without its final line ending; `next` is the index of the line after it.
 */
function parseAssignment(
  lines: readonly Line[],
  i: number,
): { assignment: Assignment; text: string; next: number } | null {
  const m = ASSIGNMENT.exec(lines[i]!.text);
  if (m === null) return null;
  const head = m[1]!;
  const quote = m[4]!.charAt(0);
  let text = lines[i]!.text;
  let next = i + 1;
  let rawEnd: number;
  if (quote !== '' && QUOTES.includes(quote)) {
    let close = findClose(text, head.length + 1, quote);
    let joined = text;
    let j = i;
    while (close < 0 && j + 1 < lines.length && lines[j]!.eol !== '') {
      joined += lines[j]!.eol + lines[j + 1]!.text;
      j += 1;
      close = findClose(joined, head.length + 1, quote);
    }
    if (close >= 0) {
      text = joined;
      next = j + 1;
      rawEnd = close + 1;
    } else {
      // An unclosed quote: readers take the rest of the line literally, so do we.
      rawEnd = text.length;
    }
  } else {
    // A `#` after whitespace starts a comment; the whitespace may sit in `head` (`KEY= #x`).
    const rest = text.slice(head.length);
    const comment = (/[ \t]$/.test(head) ? /^#|[ \t]#/ : /[ \t]#/).exec(rest);
    const end = comment === null ? text.length : head.length + comment.index;
    rawEnd = head.length + text.slice(head.length, end).trimEnd().length;
  }
  return {
    assignment: {
      head,
      exported: m[2] !== undefined,
      key: m[3]!,
      raw: text.slice(head.length, rawEnd),
      tail: text.slice(rawEnd),
    },
    text,
    next,
  };
}

/** Index of the quote closing a value, searching from `from`; `"` honours `\` escapes. */
function findClose(s: string, from: number, quote: string): number {
  for (let k = from; k < s.length; k += 1) {
    const c = s[k];
    if (quote === '"' && c === '\\') k += 1;
    else if (c === quote) return k;
  }
  return -1;
}

/** What a reader makes of a raw value: quotes removed, double-quote escapes resolved. */
function decodeValue(raw: string): string {
  const q = raw.charAt(0);
  if (raw.length >= 2 && QUOTES.includes(q) && raw.endsWith(q)) {
    const inner = raw.slice(1, -1);
    if (q !== '"') return inner;
    return inner.replace(/\\([\\"$nr])/g, (_, c: string) => ({ n: '\n', r: '\r' })[c] ?? c);
  }
  return raw;
}

/** The new value written in the old value's quote style when that style can hold it. */
function requote(oldRaw: string, value: string): string {
  const q = oldRaw.charAt(0);
  const portable = !value.endsWith('\\');
  if (q === "'" && portable && !/['\r\n]/.test(value)) return `'${value}'`;
  if (q === '"' && portable) return doubleQuote(value);
  return quoteDotenvValue(value);
}
