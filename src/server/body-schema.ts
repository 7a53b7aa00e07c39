/**
 * Checks a request body against its route's JSON Schema (routes.ts), so that the API takes
 * exactly what its OpenAPI document says: `{"dryRun": "true"}` is bad input, not a real gc
 * because a string is not `true`; `{"pid": null}` is bad input, not "no pid". Only the
 * schema keywords routes.ts uses are known: type, enum, minimum, maximum, pattern,
 * properties, required, additionalProperties: false, items. Messages name the field and
 * the JSON type found, never the value (which may be a megabyte).
 */
import { UsageError } from '../errors.js';
import type { JsonSchema } from '../http/routes.js';

/** The JSON Schema type of `value`: integer for whole numbers, as the schema words it. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const A: Readonly<Record<string, string>> = { integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false', object: 'an object', array: 'a list', null: 'null' };

function fail(where: string, what: string, hint = ''): never {
  throw new UsageError(`invalid body: ${where} ${what}${hint}.`, { field: where });
}

/** Throws a UsageError when `value` at `where` does not fit `schema`. */
export function checkValue(schema: JsonSchema, value: unknown, where: string, hint = ''): void {
  const type = typeOf(value);
  if (schema.enum !== undefined) {
    const allowed = schema.enum as readonly unknown[];
    if (!allowed.includes(value)) {
      // Worded as the engine words it ("unknown protocol 'sctp'"), so callers see one message.
      const leaf = where.replace(/\[\d+\]$/, '').split('.').pop()!;
      const shown = typeof value === 'string' && value.length <= 40 ? `'${value}'` : `(${A[type] ?? type})`;
      throw new UsageError(`invalid body: unknown ${leaf} ${shown} at ${where}: use ${allowed.join(', ')}.`, { field: where });
    }
    return;
  }
  if (schema.type !== undefined) {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
    const what = typeof schema.description === 'string' && schema.pattern === undefined ? ` (${schema.description})` : '';
    if (!types.includes(type)) throw new UsageError(`invalid body: ${where}${what} must be ${types.map((t) => A[t] ?? t).join(' or ')}, not ${A[type] ?? type}.`, { field: where });
  }
  if (type === 'integer') {
    if (schema.minimum !== undefined && (value as number) < Number(schema.minimum)) fail(where, `must be at least ${String(schema.minimum)}`);
    if (schema.maximum !== undefined && (value as number) > Number(schema.maximum)) fail(where, `must be at most ${String(schema.maximum)}`);
  }
  if (type === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value as string)) {
    fail(where, `must look like ${typeof schema.description === 'string' ? schema.description : schema.pattern}`);
  }
  if (type === 'array' && schema.items !== undefined) (value as unknown[]).forEach((item, i) => checkValue(schema.items as JsonSchema, item, `${where}[${i}]`));
  if (type === 'object' && schema.properties !== undefined) checkObject(schema, value as Record<string, unknown>, `${where}.`, hint);
}

/** Checks an object's fields: unknown ones (with additionalProperties: false), required ones, each field's schema. */
function checkObject(schema: JsonSchema, value: Readonly<Record<string, unknown>>, prefix: string, hint: string): void {
  const props = (schema.properties ?? {}) as Readonly<Record<string, JsonSchema>>;
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(props, key)) {
        throw new UsageError(`unknown field '${prefix}${key.slice(0, 100)}' in the body. This takes: ${Object.keys(props).join(', ') || 'no fields'}.`, { field: `${prefix}${key.slice(0, 100)}` });
      }
    }
  }
  for (const key of (schema.required ?? []) as string[]) if (!Object.hasOwn(value, key)) fail(`${prefix}${key}`, 'is required', hint);
  for (const [key, sub] of Object.entries(props)) if (Object.hasOwn(value, key)) checkValue(sub, value[key], `${prefix}${key}`, hint);
}

/** Checks a request's body (a JSON object) against the route's body schema; `hint` ends a missing field's message. */
export function checkBody(schema: JsonSchema, body: Readonly<Record<string, unknown>>, hint = ''): void {
  checkObject(schema, body, '', hint);
}
