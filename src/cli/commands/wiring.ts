/**
 * Wiring commands: env, compose-override, urls, run. They parse options, call the engine
 * contract and the workflows above it (src/workflows/), and render.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { ComposeOverrideResult } from '../../workflows/compose-build.js';
import { parseEnvFormat, renderEnv, type EnvWriteResult } from '../../workflows/env-format.js';
import { writeScopeEnv } from '../../workflows/scope-files.js';
import { envObject } from '../../wiring/json.js';
import { baseVariables } from '../../workflows/base-vars.js';
import { urlHost } from '../../wiring/hosts.js';
import { childExitStatus, runLeased } from '../../workflows/run-leased.js';
import { withEngine } from '../context.js';
import { localPortSources } from '../open-engine.js';
import { emit, note, table, writeOut } from '../render.js';
import { serviceUrl } from '../../workflows/url.js';

interface EnvFlags {
  format?: string;
  write?: string;
  urls?: boolean;
  host?: string;
  prefix?: string;
  baseVars?: boolean;
  force?: boolean;
}

/** What `berth env --write --json` prints. */
function writeSummary(r: EnvWriteResult): Record<string, unknown> {
  return { file: r.file, format: r.format, changed: r.changed, variables: envObject(r.variables) };
}

function composeNotes(r: ComposeOverrideResult): void {
  for (const l of r.allocated) note(`leased ${l.name} on port ${l.port}`);
  for (const p of r.unleased) {
    const host = p.hostPort === null ? 'a port Docker picks' : `host port ${p.hostPort}`;
    note(`${p.service} publishes ${p.protocol} ${p.containerPort} on ${host}, which berth does not lease; it is kept as is (pass --allocate to lease it).`);
  }
  for (const u of r.unmatched) note(`lease ${u.lease.name} (port ${u.lease.port}) is not in the override: ${u.reason}.`);
  if (r.services.length === 0) note(`no service of ${r.composeFile} publishes a port berth leases for this scope.`);
}

/**
 * The command `berth run` runs: everything after the first `--` on the command line.
 * Commander hands names and command over as one list, so the split is found in the raw
 * arguments.
 */
function splitRun(words: string[], cmd: Command): { names: string[]; command: string[] } {
  let root = cmd;
  while (root.parent) root = root.parent;
  // rawArgs is public in commander but missing from its type declarations.
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const dash = raw.indexOf('--');
  const command = dash < 0 ? [] : raw.slice(dash + 1);
  if (command.length === 0) throw new UsageError('name the command to run after --: berth run [NAME...] -- CMD [ARGS...]');
  return { names: words.slice(0, words.length - command.length), command };
}

/** Registers the wiring commands on `program`. */
export function registerWiringCommands(program: Command): void {
  program
    .command('env')
    .description("print the scope's port variables (<NAME>_PORT, with --urls <NAME>_URL), or merge them into a file")
    .option('--format <format>', 'dotenv (default) | shell (export lines to eval) | compose (env-file) | json')
    .option('--write <file>', 'write FILE atomically; dotenv merges into it, keeping every other line')
    .option('--urls', 'also <NAME>_URL=http://HOST:PORT for services that speak HTTP')
    .option('--host <host>', 'host in URLs (default: BERTH_HOST, else localhost)')
    .option('--prefix <prefix>', 'put PREFIX before every derived name: --prefix UDOS_ gives UDOS_API_PORT, UDOS_API_URL (default: env_prefix: in berth.yaml)')
    .option('--base-vars', 'start with BASE_PORT and NEXT_PORT, as sequential port managers wrote them (default: env_base_vars: in berth.yaml)')
    .option('--force', 'with --write and a format that replaces the whole file (shell, compose, json): replace FILE even when berth did not write it')
    .action(async (flags: EnvFlags, cmd: Command) => {
      const json = !!cmd.optsWithGlobals<{ json?: boolean }>().json;
      const format = flags.format === undefined ? (json && flags.write === undefined ? 'json' : 'dotenv') : parseEnvFormat(flags.format);
      if (json && flags.write === undefined && format !== 'json') {
        throw new UsageError(`--json prints the variables as JSON; it cannot be combined with --format ${format}.`);
      }
      await withEngine(cmd, async ({ engine, ctx }) => {
        // The host is the caller's (its BERTH_HOST), even when the engine is the daemon's.
        const opts = { urls: flags.urls, host: urlHost(flags.host), prefix: flags.prefix };
        const project = await engine.project(ctx);
        const wantBase = flags.baseVars === true || project.config.envBaseVars === true;
        const base = wantBase ? await baseVariables(engine, ctx, flags.prefix ?? project.config.envPrefix ?? '') : [];
        if (flags.write !== undefined) {
          const result = await writeScopeEnv(engine, ctx, flags.write, format, { ...opts, baseVars: flags.baseVars === true, force: flags.force === true });
          if (json) emit(true, { ...writeSummary(result), dropped: result.dropped }, () => '');
          else {
            note(`${result.changed ? 'wrote' : 'unchanged:'} ${result.file} (${result.variables.map((v) => v.name).join(', ') || 'no variables'})`);
            if (result.dropped.length > 0) note(`removed ${result.dropped.join(', ')}: berth wrote them for leases since released, and nothing else was touched`);
          }
          return;
        }
        const vars = await engine.wiring.env(ctx, opts);
        if (vars.length === 0) note(`scope ${project.scope} has no leases; allocate some with \`berth allocate\`.`);
        const text = renderEnv(format, [...base, ...vars]);
        if (text !== '') writeOut(text);
      });
    });

  program
    .command('compose-override')
    .description("a docker compose override publishing each service's ports on the scope's leased host ports (ports: !override)")
    .option('--file <file>', 'base compose file (default: compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml)')
    .option('--write <file>', 'write the override to FILE atomically instead of printing it')
    .option('--allocate', 'lease every published port berth does not lease yet (all or none)')
    .option('--merged', 'a standalone file: the base file with leased host ports, no !override (docker-compose v1 and v2; use it alone)')
    .option('--force', 'with --write: replace FILE even when berth did not write it, or it was edited since')
    .action(async (flags: { file?: string; write?: string; allocate?: boolean; merged?: boolean; force?: boolean }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        // Loaded on demand: the YAML library costs start-up time that only compose work needs.
        const { buildComposeOverride } = await import('../../workflows/compose-build.js');
        const result = await buildComposeOverride(engine, ctx, { file: flags.file, write: flags.write, allocate: flags.allocate, merged: flags.merged, force: flags.force });
        composeNotes(result);
        if (result.written !== null && !json) {
          const use = flags.merged === true ? `docker-compose -f ${result.written} up` : `docker compose -f ${result.composeFile} -f ${result.written} up`;
          note(`${result.changed ? 'wrote' : 'unchanged:'} ${result.written}; use it with ${use}`);
          return;
        }
        emit(json, result, (r) => r.text);
      });
    });

  program
    .command('urls')
    .description("the scope's service URLs; with --pool, every URL of the pool's urls: templates in slot order")
    .option('--pool <name>', 'every URL of this pool: all slots of a bounded pool, the held slots of an open-ended one')
    .option('--host <host>', 'host in service URLs (default: BERTH_HOST, else localhost)')
    .action(async (flags: { pool?: string; host?: string }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        if (flags.pool !== undefined) {
          const urls = await engine.pools.urls(ctx, flags.pool);
          if (urls.length === 0) {
            const openEnded = (await engine.pools.definition(ctx, flags.pool)).kind === 'series';
            note(`pool ${flags.pool} gives no URLs: it has no urls: templates${openEnded ? ', or (open-ended) no held slots' : ''}.`);
          }
          emit(json, urls, (u) => u.map((x) => x.url).join('\n'));
          return;
        }
        const urls = await engine.wiring.urls(ctx, { host: urlHost(flags.host) });
        if (urls.length === 0) note(`scope ${(await engine.project(ctx)).scope} has no HTTP services or pool URLs.`);
        // Whose each URL is: the service, or the pool and slot whose urls: template gave it.
        emit(json, urls, (u) => (u.length === 0 ? '' : table(['NAME', 'URL'], u.map((x) => [x.pool === null ? x.name : `pool ${x.pool} slot ${x.slot ?? 'fallback'}`, x.url]))));
      });
    });

  program
    .command('url')
    .description("the URL of one of the scope's services: http://HOST:PORT (https:// for https services)")
    .argument('<name>', 'the lease name')
    .option('--host <host>', 'host (default: <NAME>_HOST, else BERTH_HOST, else SERVICE_HOST, else localhost)')
    .action(async (name: string, flags: { host?: string }, cmd: Command) => {
      await withEngine(cmd, async ({ engine, ctx, json }) => {
        const url = await serviceUrl(engine, ctx, name, { host: flags.host === undefined ? undefined : urlHost(flags.host) });
        emit(json, { name, url }, (u) => u.url);
      });
    });

  program
    .command('run')
    .description('get or allocate NAMEs (default: every service in berth.yaml, else "app"), then run CMD with PORT and every port variable set')
    .argument('[names...]', 'lease names, then -- and the command')
    .option('--ephemeral', "tie new leases to the command's pid; released when it exits")
    .option('--host <host>', 'host in <NAME>_URL variables (default: BERTH_HOST, else localhost)')
    .usage('[NAME...] [--ephemeral] -- CMD [ARGS...]')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: the command\'s own, or 128 + N when signal N ended it (SIGINT, SIGTERM and',
        'SIGHUP sent to berth are passed on to it). A command that cannot start (`command not',
        'found`, `not executable`) is bad input: exit 2. With --ephemeral, leases berth creates',
        'belong to the command\'s pid and are released when it exits; if berth itself is killed,',
        '`berth gc` reclaims them once the command is gone too.',
      ].join('\n'),
    )
    .action(async (words: string[], flags: { ephemeral?: boolean; host?: string }, cmd: Command) => {
      const { names, command } = splitRun(words, cmd);
      await withEngine(cmd, async ({ engine, ctx }) => {
        const outcome = await runLeased(engine, ctx, command[0]!, command.slice(1), {
          names,
          ephemeral: flags.ephemeral,
          host: urlHost(flags.host),
          warn: (m) => note(`berth: ${m}`),
          portSources: localPortSources(),
        });
        if (outcome.exitCode !== 0) throw childExitStatus(command[0]!, outcome);
      });
    });
}
