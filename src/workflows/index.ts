/**
 * Workflows: the caller's own use cases over the engine contract. They touch the caller's
 * files (env files, compose overrides), environment and terminal (run), so they run in the
 * caller's process, unchanged over a local or a remote engine.
 */
export {
  COMPOSE_FILE_NAMES,
  NEW_FILE_MODE,
  TEMP_FILE_SUFFIX,
  findComposeFile,
  readComposeServices,
  writeEnvFile,
  writeFileAtomic,
} from './files.js';
export {
  COMMAND_NOT_EXECUTABLE_STATUS,
  COMMAND_NOT_FOUND_STATUS,
  FORWARDED_SIGNALS,
  ON_SPAWN_FAILURE_GRACE_MS,
  SIGNAL_EXIT_BASE,
  runChild,
  type ChildOutcome,
  type RunChildOptions,
} from './run-child.js';
export {
  ENV_FORMATS,
  parseEnvFormat,
  renderEnv,
  writeEnvOutput,
  type EnvFormat,
  type EnvWriteResult,
} from './env-format.js';
export {
  buildComposeOverride,
  composeAllocationRequests,
  locateComposeFile,
  type ComposeOverrideOptions,
  type ComposeOverrideResult,
} from './compose-build.js';
export { PORT_WATCH_DELAYS_MS, watchChildPorts, type PortWatchOptions, type PortWatchSources } from './port-watch.js';
export { childExitStatus, DEFAULT_RUN_LEASE, runLeased, type RunOptions, type RunOutcome } from './run-leased.js';
export { serviceUrl } from './url.js';
export { Berth } from './berth.js';
export { computeStats, type PoolStats, type ScopeStats, type Stats } from './stats.js';
export {
  renderScopeTemplate,
  rerenderScope,
  writeScopeEnv,
  type RenderOptions,
  type RenderResult,
  type RerenderOutcome,
  type ScopeEnvResult,
} from './scope-files.js';
export { writtenFiles, type WrittenFile, type WrittenFileKind } from './written-files.js';
