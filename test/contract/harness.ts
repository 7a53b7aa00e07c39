/**
 * The engine contract suite's entry: one call registers every area of the suite against
 * one engine implementation. Runners (local-memory, local-sqlite, and later the remote
 * engine and PostgreSQL) differ only in the factory they pass.
 */
import { eventsContract } from './events.js';
import { leasesContract } from './leases.js';
import { ownershipContract } from './ownership.js';
import { poolsContract } from './pools.js';
import { realityContract } from './reality.js';
import { registryContract } from './registry.js';
import { strategiesContract } from './strategies.js';
import type { HarnessFactory } from './support.js';
import { validationContract } from './validation.js';
import { wiringContract } from './wiring.js';

export type { EngineHarness, HarnessFactory } from './support.js';

/** Registers the whole engine contract suite for the implementation `name`. */
export function engineContract(name: string, make: HarnessFactory): void {
  leasesContract(name, make);
  strategiesContract(name, make);
  ownershipContract(name, make);
  poolsContract(name, make);
  registryContract(name, make);
  wiringContract(name, make);
  eventsContract(name, make);
  validationContract(name, make);
  realityContract(name, make);
}
