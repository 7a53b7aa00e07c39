/**
 * The `berth` command's entry: builds the program, runs it, and maps errors to exit codes.
 * The only place that calls process.exit.
 */
import { Command, CommanderError } from 'commander';
import { BerthError, EXIT, StoreError, UnexpectedError } from '../errors.js';
import { registerAdminCommands } from './commands/admin.js';
import { registerDaemonCommands } from './commands/daemon.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerLaunchCommands } from './commands/launch.js';
import { registerLeaseCommands } from './commands/leases.js';
import { registerPoolCommands } from './commands/pools.js';
import { registerRealityCommands } from './commands/reality.js';
import { registerStackViewCommands } from './commands/stack-views.js';
import { registerWiringCommands } from './commands/wiring.js';
import { registerRenderCommand } from './commands/render.js';
import { wantsJson } from './options.js';
import { forTerminal, writeErr, writeOut } from './render.js';

/** Builds the command tree. Exported so tests and docs can inspect it. */
export function buildProgram(): Command {
  const program = new Command('berth')
    .description('Ends port collisions: a race-free registry of which workspace and service owns which port.')
    .version('0.1.0')
    .option('--json', 'print data as JSON')
    .option('--scope <scope>', 'act for this scope (default: BERTH_SCOPE, else the project name)')
    .option('--db <path>', 'store file, or postgres://user@host/db for a registry shared by several machines (default: BERTH_DB, else $XDG_STATE_HOME/berth/berth.db)')
    .option('--config <file>', 'config file (default: BERTH_CONFIG, else berth.yaml found upward)')
    .option('--base <port>', 'base port of the sequential strategy (default: BERTH_BASE_PORT, else BASE_PORT, else base: in berth.yaml)')
    .option('--dir <path>', 'tie the --scope named to this directory: berth gc releases the scope once it is gone')
    .option('--url <url>', 'work through the berth daemon at URL: http://127.0.0.1:PORT or unix:/path/to/berth.sock (default: BERTH_URL; token: BERTH_TOKEN, else the state directory\'s api-token)')
    .showHelpAfterError('(run berth --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut, writeErr });
  registerLeaseCommands(program);
  registerPoolCommands(program);
  registerAdminCommands(program);
  registerHistoryCommand(program);
  registerDaemonCommands(program);
  registerDashboardCommand(program);
  registerWiringCommands(program);
  registerRenderCommand(program);
  registerRealityCommands(program);
  registerLaunchCommands(program);
  registerStackViewCommands(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Prints an error the way the caller asked for, and returns its exit code. */
function report(err: unknown, json: boolean): number {
  if (err instanceof BerthError) {
    writeErr(json ? `${JSON.stringify(err.toJSON())}\n` : `berth: ${forTerminal(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    // Commander already printed its message; help and version are not errors.
    return err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT;
  }
  // The store maps SQLite's errors to StoreErrors; one that got past it is still a store problem, not a bug to show a stack for.
  const code = err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (code.startsWith('SQLITE_')) {
    return report(new StoreError(`the store failed: ${(err as Error).message} (${code}). Try again; if it persists, pass --db PATH to use another store.`, { sqlite: code }), json);
  }
  if (json) {
    const error = new UnexpectedError(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    writeErr(`${JSON.stringify({ ...error.toJSON(), stack: err instanceof Error ? err.stack : undefined })}\n`);
    return error.exitCode;
  }
  writeErr(`berth: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.REFUSED;
}

async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    return report(err, json);
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
