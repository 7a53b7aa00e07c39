/**
 * Wiring: every file and environment that names a port, rendered from the same lease data.
 * Pure: no I/O. The workflows (src/workflows/) write what these render.
 */
export { ENV_NAME_PATTERN, assertEnvName, envVarName, isValidEnvName } from './env-name.js';
export { HTTP_NAME_WORDS, NON_HTTP_NAME_WORDS, httpUrl, leaseSpeaksHttp, serviceFor, speaksHttp } from './http.js';
export { DEFAULT_URL_HOST, leaseVariables, type VariableOptions } from './variables.js';
export { mergeDotenv, quoteDotenvValue, renderDotenv, type NamedValue } from './dotenv.js';
export { renderShell, shellQuote } from './shell.js';
export { COMPOSE_ENV_HEADER, renderComposeEnvFile } from './compose-env.js';
export { envObject, renderJson } from './json.js';
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
export { expandUrlTemplate, listPoolUrls, poolUrls, scopeUrls } from './urls.js';
export { URL_HOST_VARIABLE, serviceHost, serviceHostVariable, urlHost } from './hosts.js';
export { slotCount, slotPorts } from './pool-slots.js';
export { describeExpectation, describeHolder, printable } from './describe.js';
