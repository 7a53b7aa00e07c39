/**
 * The OpenAPI 3.1 document of the API, generated from the route table (routes.ts), so the
 * document, the server and the client describe the same routes.
 */
import { CONTEXT_QUERY, ROUTES, SCHEMAS, pathParams, type JsonSchema, type ParamType, type Route } from './routes.js';

const SCHEMA_OF: Readonly<Record<ParamType, JsonSchema>> = { string: { type: 'string' }, integer: { type: 'integer' }, boolean: { type: 'boolean' } };

function parameters(route: Route): JsonSchema[] {
  const path = pathParams(route.path).map((name) => ({ name, in: 'path', required: true, schema: name === 'port' || name === 'id' ? { type: 'integer' } : { type: 'string' } }));
  const query = Object.entries({ ...(route.query ?? {}), ...CONTEXT_QUERY }).map(([name, type]) => ({ name, in: 'query', required: false, schema: SCHEMA_OF[type] }));
  return [...path, ...query];
}

function responses(route: Route): JsonSchema {
  const problem = { description: 'A problem: `code` is the error kind', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  const ok =
    route.response === 'text'
      ? { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }
      : route.response === 'event-stream'
        ? { description: 'Server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } }
        : { description: 'OK', content: { 'application/json': { schema: route.response } } };
  return { '200': ok, default: problem };
}

/** The document, for `GET /v1/openapi.json`. */
export function openApiDocument(version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of ROUTES) {
    const operation: Record<string, unknown> = {
      operationId: route.id,
      summary: route.summary,
      parameters: parameters(route),
      responses: responses(route),
      security: route.public ? [] : [{ bearer: [] }],
    };
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: route.body } } };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth daemon', version, description: 'The berth engine over HTTP: leases, pools, registry, reality, wiring, events.' },
    servers: [{ url: '/' }],
    paths,
    components: { schemas: SCHEMAS, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}
