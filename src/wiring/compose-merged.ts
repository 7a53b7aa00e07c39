/**
 * `compose-override --merged`: the base compose file itself with each leased service's
 * `ports:` replaced, as one standalone file. docker-compose v1 (Debian ships 1.29) rejects
 * the `!override` tag an override needs, and without it an override's ports are appended
 * to the base file's, so v1 users run the merged file alone instead.
 */
import { isMap, parseDocument, YAMLSeq, Scalar } from 'yaml';
import { ConfigError, yamlProblem } from '../errors.js';
import { COMPOSE_YAML_TAGS } from './compose-ports.js';
import { composePortSpec, type ServicePorts } from './compose-override.js';

/** First comment of every merged file berth writes. */
export const MERGED_HEADER = [
  ' Written by berth: the base compose file with host ports leased for this workspace.',
  ' Use it alone (docker-compose -f THIS_FILE up); berth rewrites it when a port moves.',
].join('\n');

/**
 * `baseText` (the compose file at `file`) with `services.NAME.ports` of every service in
 * `mappings` set to its complete list, untagged; everything else, comments included, is
 * kept as the base file has it.
 *
 * @throws ConfigError naming `file` when it is not YAML or a service is missing.
 */
export function renderMergedCompose(baseText: string, mappings: readonly ServicePorts[], file: string): string {
  const doc = parseDocument(baseText, { customTags: COMPOSE_YAML_TAGS, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) throw new ConfigError(file, '', yamlProblem(first.message, null));
  for (const { service, ports } of mappings) {
    const body = doc.getIn(['services', service], true);
    if (!isMap(body)) throw new ConfigError(file, `services.${service}`, 'expected a mapping');
    const seq = new YAMLSeq<Scalar<string>>();
    for (const p of ports) {
      const item = new Scalar(composePortSpec(p, service));
      item.type = Scalar.QUOTE_DOUBLE;
      seq.items.push(item);
    }
    body.set('ports', seq);
  }
  const before = doc.commentBefore ? `\n${doc.commentBefore}` : '';
  doc.commentBefore = MERGED_HEADER + before;
  return doc.toString();
}
