/**
 * Names PostgreSQL is given: the schema as a quoted identifier, advisory-lock keys, and
 * the connection target as shown in messages (never with its password).
 */
import os from 'node:os';
import { UsageError } from '../../errors.js';

/** A schema name as a quoted identifier; refuses names that need more than quoting to be sure of. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new UsageError(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _ (at most 63), starting with a letter or _.`);
  }
  return `"${schema}"`;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/**
 * A key for pg_advisory_xact_lock, from text: FNV-1a over its UTF-8 bytes, as the signed
 * 64-bit number PostgreSQL takes, written as a decimal literal (safe to put in SQL).
 */
export function lockKey(text: string): string {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return BigInt.asIntN(64, hash).toString();
}

/** The advisory lock the writers of machine `host` take in `schema`: they take turns. */
export function writerLockKey(schema: string, host: string): string {
  return lockKey(`berth-writer:${schema}:${host}`);
}

/** The channel the writers of `schema` NOTIFY when they commit events. */
export function eventChannel(schema: string): string {
  return `berth_events_${schema}`;
}

/** Whether `db` names a PostgreSQL registry rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL as messages show it: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL the WHATWG parser reads (pg accepts a few more forms): cut any user:pass@.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

const statementNames = new Map<string, string>();

/** The name a statement is prepared under on each connection: one per text (pg refuses a name reused for another text). */
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `berth_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

/** The machine name a shared registry records for this one: BERTH_MACHINE, else the host name. */
export function machineName(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_MACHINE?.trim() || os.hostname();
}
