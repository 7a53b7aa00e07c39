/**
 * What the supervisor runs for one service, resolved from berth.yaml and the leases by
 * the plan: the spawn (framework port flag added), its environment and its ports.
 */
import type { LaunchSpec } from '../types.js';

/** One leased port of a service: its own (named as the service) or one of its `leases:`. */
export interface NamedPort {
  readonly name: string;
  readonly port: number;
}

/** What to run, resolved by the supervisor (framework port flag already added). */
export interface RunnerSpec {
  readonly name: string;
  readonly launch: LaunchSpec;
  /** The spawn: file and arguments. */
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The service's own leased port. */
  readonly port: number;
  /** Every port it owns: its own first, then its `leases:`. */
  readonly ports: readonly NamedPort[];
  /** The port http/tcp checks use (`health.port`), and whose holder makes a pass count. */
  readonly healthPort: number;
  readonly description: string | null;
}
