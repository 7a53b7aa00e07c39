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
 * Quotes a value for a `.env` or compose env-file line so that it is inert and reads back
 * exactly in bash and sh (`set -a; . ./.env`) and in docker compose, and the same in node
 * dotenv and python-dotenv for every value without a `'`:
 * - bare when it has only `A-Z a-z 0-9 _ . / : @ % + , = -` (ports, most URLs);
 * - else in single quotes, where nothing is special to any of them, when it has no `'`;
 * - else in double quotes with `\`, `"`, `$` and `` ` `` escaped by a backslash: the four
 *   characters sh treats specially there, and compose undoes each escape.
 *
 * `name` names the variable in messages.
 *
 * @throws UsageError naming the variable for a value no spelling makes safe and exact: a
 *   NUL, a line break or carriage return (an env file holds one variable per line, and
 *   readers disagree on escapes for them), a quoted value ending in `\` (readers disagree
 *   on whether it escapes the closing quote), a value with a `'` ending in `"` (compose
 *   strips a trailing escaped quote).
 */
export function quoteDotenvValue(value: string, name = 'value'): string {
  if (BARE_VALUE.test(value)) return value;
  const problem = envFileProblem(value);
  if (problem !== null) throw unsafeValue(name, value, problem);
  if (!value.includes("'")) return `'${value}'`;
  return doubleQuote(value);
}

/** Why `value` (known to need quotes) cannot be written to an env file, or null. */
function envFileProblem(value: string): string | null {
  if (value.includes('\0')) return 'it holds a NUL character, which no environment variable can hold';
  if (/[\r\n]/.test(value)) return 'it holds a line break, and an env file holds one variable per line';
  if (value.endsWith('\\')) return 'it ends in a backslash, which readers take as escaping the closing quote or not';
  if (value.includes("'") && value.endsWith('"')) return 'it holds a \' and ends in ", which docker compose reads back without that last "';
  return null;
}

function unsafeValue(name: string, value: string, problem: string): UsageError {
  return new UsageError(
    `${name}: ${JSON.stringify(value)} cannot be written to an env file safely: ${problem}. Use --format shell or json for it, or change the value.`,
    { name },
  );
}

/** `"value"` with the characters sh and compose treat specially in double quotes escaped. */
function doubleQuote(value: string): string {
  return `"${value.replace(/[\\"$`]/g, '\\$&')}"`;
}

/** `KEY=value` lines, one per variable, each ending in `\n`. */
export function renderDotenv(vars: readonly NamedValue[]): string {
  return vars.map((v) => `${checked(v).name}=${quoteDotenvValue(v.value, `variable ${v.name}`)}\n`).join('');
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
 * - Lines assigning a key of `drop` that is not in `vars` are removed (berth's variables
 *   for leases since released); a key berth never wrote is never in `drop`.
 *
 * @throws UsageError when a variable name is invalid or given twice.
 */
export function mergeDotenv(oldText: string, vars: readonly NamedValue[], drop: readonly string[] = []): string {
  const wanted = new Map<string, string>();
  for (const v of vars) {
    if (wanted.has(checked(v).name)) throw new UsageError(`variable ${v.name} is given twice`, { name: v.name });
    // Checked before anything is merged: all values are written, or none.
    quoteDotenvValue(v.value, `variable ${v.name}`);
    wanted.set(v.name, v.value);
  }

  const dropped = new Set(drop);
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
    if (value === undefined && dropped.has(a.key)) {
      i = next;
      continue;
    }
    if (value === undefined || decodeValue(a.raw) === value) {
      out += text + lineEnd;
    } else {
      // `KEY= #note` had its space in the head; a comment needs one after the new value.
      const gap = a.tail.startsWith('#') ? ' ' : '';
      out += a.head + requote(a.raw, value, a.key) + gap + a.tail + lineEnd;
    }
    if (value !== undefined) seen.add(a.key);
    i = next;
  }

  const missing = [...wanted].filter(([name]) => !seen.has(name));
  if (missing.length === 0) return out;
  if (out !== bom && !/[\r\n]$/.test(out)) out += eol;
  const prefix = assignments > 0 && exportedAssignments === assignments ? 'export ' : '';
  for (const [name, value] of missing) out += `${prefix}${name}=${quoteDotenvValue(value, `variable ${name}`)}${eol}`;
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
    // Each line is scanned once, from where the last stopped: an unclosed quote costs one
    // pass to the end of the file, not one per line (which was quadratic).
    let close = findClose(text, head.length + 1, quote);
    let j = i;
    while (close < 0 && j + 1 < lines.length && lines[j]!.eol !== '') {
      j += 1;
      // A `\\` ending the line escapes its line break, never the next line's first character.
      close = findClose(lines[j]!.text, 0, quote);
    }
    if (close >= 0) {
      let joined = text;
      for (let k = i + 1; k <= j; k += 1) joined += lines[k - 1]!.eol + lines[k]!.text;
      text = joined;
      next = j + 1;
      rawEnd = joined.length - lines[j]!.text.length + close + 1;
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
    return inner.replace(/\\([\\"$`nr])/g, (_, c: string) => ({ n: '\n', r: '\r' })[c] ?? c);
  }
  return raw;
}

/**
 * The new value written in the old value's quote style when that style holds it safely
 * (see quoteDotenvValue, which has already accepted the value), else as quoteDotenvValue
 * writes it.
 */
function requote(oldRaw: string, value: string, name: string): string {
  const q = oldRaw.charAt(0);
  if (q === "'" && !value.includes("'")) return `'${value}'`;
  if (q === '"' && !value.endsWith('"')) return doubleQuote(value);
  return quoteDotenvValue(value, `variable ${name}`);
}
