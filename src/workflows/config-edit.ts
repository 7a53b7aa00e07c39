/**
 * Editing the caller's berth.yaml in place: `reassign --update-config` writes a service's
 * new port where its old one stood. The yaml package's Document finds where that is; the
 * new number replaces the old one's characters in the file's own text, since printing the
 * Document again would re-flow the rest of the user's file (long lines folded at 80
 * columns, flow maps respaced, blank lines dropped, CRLF turned into LF). Written
 * atomically by safe-write.ts's rules.
 */
import { isMap, isScalar, parseDocument } from 'yaml';
import { ConfigError, UsageError, yamlProblem } from '../errors.js';
import { updateFile } from './safe-write.js';

/**
 * Sets `services.NAME.port` of the berth.yaml at `file` to `port`, keeping everything else
 * (comments included) as it is. Returns whether the file changed.
 *
 * @throws UsageError when there is no such file or service; ConfigError when it is not YAML.
 */
export async function setServicePort(file: string | null, name: string, port: number): Promise<boolean> {
  if (file === null) throw new UsageError(`--update-config: there is no berth.yaml to update for this scope. Create one with services.${name}.port, or drop --update-config.`);
  return updateFile(file, (old) => {
    if (old === null) throw new UsageError(`--update-config: ${file} does not exist any more.`, { file });
    const text = old.toString('utf8');
    const doc = parseDocument(text, { prettyErrors: false });
    const first = doc.errors[0];
    if (first !== undefined) throw new ConfigError(file, '', yamlProblem(first.message, null));
    const body = doc.getIn(['services', name], true);
    if (!isMap(body)) throw new UsageError(`--update-config: ${file} has no service ${name} under services:; add it there, or drop --update-config.`, { file, name });
    const node = body.get('port', true);
    if (isScalar(node) && node.range) {
      if (node.value === port) return null;
      // Only the value's characters ([start, end of value)): its comment (`port: 5432  # postgres`) and every other byte stay.
      return `${text.slice(0, node.range[0])}${port}${text.slice(node.range[1])}`;
    }
    // No port yet (or an alias to one): the Document has to be printed again to add it.
    body.set('port', port);
    return doc.toString();
  });
}
