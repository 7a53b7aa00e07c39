/**
 * Compatibility path: the SQLite schema now lives in sqlite/schema.ts.
 */
export { MIGRATIONS, SCHEMA_VERSION } from './sqlite/schema.js';
