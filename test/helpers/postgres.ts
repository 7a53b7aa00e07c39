/**
 * A real PostgreSQL server for tests: BERTH_TEST_PG_URL when set (CI starts one cluster for
 * the whole run); else a throwaway cluster of this file's own, when PostgreSQL's initdb and
 * pg_ctl are installed (initdb into a temp directory, on a free loopback port, run as the
 * `postgres` user when the tests run as root, which initdb refuses); else null, with the
 * reason, for the tests to skip with.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { freePort } from './ports.js';

/** A server tests may use, and how to stop it (a no-op for BERTH_TEST_PG_URL's). */
export interface PgServer {
  /** A URL of a database tests may create databases and schemas from. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Where Debian and others install PostgreSQL's server programs. */
function serverBin(): string | null {
  const candidates: string[] = [];
  try {
    for (const v of fs.readdirSync('/usr/lib/postgresql').sort().reverse()) candidates.push(path.join('/usr/lib/postgresql', v, 'bin'));
  } catch {
    // No Debian layout: look on PATH below.
  }
  candidates.push(...(process.env.PATH ?? '').split(':').filter(Boolean));
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) ?? null;
}


/** Why no server can be had, or null when one can. */
export function pgUnavailable(): string | null {
  if (process.env.BERTH_TEST_PG_URL) return null;
  if (serverBin() === null) return 'no PostgreSQL: set BERTH_TEST_PG_URL, or install PostgreSQL (initdb, pg_ctl) so tests can start a throwaway cluster';
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      return 'no PostgreSQL: running as root, and there is no `postgres` user to run a throwaway cluster as (initdb refuses root)';
    }
  }
  return null;
}

/**
 * One server for the calling test file, started before its tests and stopped after them
 * when PostgreSQL can be had (a throwaway cluster costs about two seconds); `skip` says
 * why not, for its tests to skip with. `server` stands for the started one.
 */
export function pgServerForFile(): { readonly skip: string | null; readonly server: PgServer } {
  const skip = pgUnavailable();
  let started: PgServer | undefined;
  if (skip === null) {
    before(async () => {
      started = await startPg();
    });
    after(async () => {
      await started?.stop();
    });
  }
  const server: PgServer = {
    get url(): string {
      if (started === undefined) throw new Error(`no PostgreSQL server for this file: ${skip ?? 'it is not started yet (use it inside a test)'}`);
      return started.url;
    },
    stop: async () => {
      await started?.stop();
    },
  };
  return { skip, server };
}

/** Runs a PostgreSQL program, as `postgres` when this process is root. */
function runAs(bin: string, program: string, args: readonly string[]): void {
  const full = path.join(bin, program);
  if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'pipe' });
  else execFileSync(full, args, { stdio: 'pipe' });
}

/**
 * The server for this test file: BERTH_TEST_PG_URL's, or a throwaway cluster started now
 * (about two seconds) and removed by stop(). Call pgUnavailable() first.
 */
export async function startPg(): Promise<PgServer> {
  const given = process.env.BERTH_TEST_PG_URL;
  if (given) return { url: given, stop: async () => {} };
  const bin = serverBin()!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pg-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  runAs(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'berth', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  runAs(bin, 'pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'log'), '-o', settings]);
  // pg_ctl leaves the server running on its own: if this process dies before stop() (a
  // test file timed out, a SIGKILL), a watchdog stops the cluster and removes it.
  const asPostgres = process.getuid?.() === 0 ? 'runuser -u postgres -- ' : '';
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${asPostgres}'${bin}/pg_ctl' stop -D '${data}' -m immediate -w; rm -rf '${dir}'`],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  return {
    url: `postgres://berth@127.0.0.1:${port}/postgres`,
    async stop() {
      watchdog.kill();
      try {
        runAs(bin, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A new, empty database on the server, for one test (or one file) to own; returns its URL. */
export async function createDatabase(server: PgServer, prefix = 'berth_test'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return withDatabase(server.url, name);
}

/** Drops a database createDatabase made, closing whatever connections are left on it. */
export async function dropDatabase(server: PgServer, url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A name for a schema only one test uses. */
export function uniqueSchema(prefix = 'berth_t'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
