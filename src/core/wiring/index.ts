/**
 * Wiring: every file and environment that names a port, rendered from the same lease data.
 * Everything here is pure except files.ts and env-format.ts (file I/O), run-child.ts and
 * run-leased.ts (a child process), port-watch.ts (the OS's listeners) and compose-build.ts
 * (reads the compose file, allocates through the engine).
 */
export { ENV_NAME_PATTERN, assertEnvName, envVarName, isValidEnvName } from './env-name.js';
export { HTTP_NAME_WORDS, NON_HTTP_NAME_WORDS, httpUrl, leaseSpeaksHttp, serviceFor, speaksHttp } from './http.js';
export { DEFAULT_URL_HOST, leaseVariables, type EnvVar, type VariableOptions } from './variables.js';
export { mergeDotenv, quoteDotenvValue, renderDotenv, type NamedValue } from './dotenv.js';
export { renderShell, shellQuote } from './shell.js';
export { COMPOSE_ENV_HEADER, renderComposeEnvFile } from './compose-env.js';
export { envObject, renderJson } from './json.js';
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
  COMPOSE_YAML_TAGS,
  MAX_RANGE_PORTS,
  composePublishedPorts,
  type ComposePort,
  type ComposeService,
} from './compose-ports.js';
export {
  OVERRIDE_HEADER,
  planComposeOverride,
  renderComposeOverride,
  suggestedLeaseName,
  type ComposePlan,
  type OverridePort,
  type ServicePorts,
  type UnmatchedLease,
} from './compose-override.js';
export { expandUrlTemplate, listPoolUrls, poolUrls, scopeUrls, type PoolUrl, type ScopeUrl } from './urls.js';
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
export { URL_HOST_VARIABLE, serviceHost, serviceHostVariable, urlHost } from './hosts.js';
export {
  ENV_FORMATS,
  parseEnvFormat,
  renderEnv,
  writeEnvOutput,
  type EnvFormat,
  type EnvOptions,
  type EnvWriteResult,
} from './env-format.js';
export {
  buildComposeOverride,
  composeAllocationRequests,
  locateComposeFile,
  type ComposeEngine,
  type ComposeOverrideOptions,
  type ComposeOverrideResult,
} from './compose-build.js';
export { PORT_WATCH_DELAYS_MS, watchChildPorts, type PortWatchOptions, type PortWatchSources } from './port-watch.js';
export { ChildExitStatus, DEFAULT_RUN_LEASE, runLeased, type RunEngine, type RunOptions, type RunOutcome } from './run-leased.js';
